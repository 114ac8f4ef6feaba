// The host side of a vif: where netback sends the guest's frames and reads the guest's traffic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "hv/error.h"
#include "pvdrivers/back/net/net_checksum.h"

namespace pvhv::net {

// What travels with a frame besides its bytes: the checksum state, in the terms of Linux's
// skb->ip_summed and virtio_net_hdr (NEEDS_CSUM / DATA_VALID), which is also what netif's
// NET{T,R}XF_csum_blank and _data_validated mean.
struct PacketMeta {
    enum class Csum : uint8_t {
        None,       // nothing known: the receiver verifies
        Partial,    // the field at `spot` holds the pseudo-header sum; someone must finish it
        Validated,  // the checksum was verified (or the sender vouches for it)
    };
    Csum csum = Csum::None;
    ChecksumSpot spot{};  // Partial only
};

// One Ethernet port: the TAP device in pvd, a socketpair or an in-memory queue in tests.
// Not thread-safe: one vif's service thread uses it.
class PacketPort {
  public:
    virtual ~PacketPort() = default;

    // Polled for POLLIN: receive() has a frame. -1 for a port that is never readable.
    virtual int fd() const = 0;
    // Reads one frame into `buf`; 0 when none is waiting (non-blocking). A frame longer than
    // `buf` is reported with its full length (> buf.size()) and its bytes are lost: the caller
    // drops it.
    virtual Result<size_t> receive(std::span<uint8_t> buf, PacketMeta& meta) = 0;
    // Sends one whole frame. Partial checksums are sent as such only if checksum_offload().
    virtual Result<void> send(std::span<const uint8_t> frame, const PacketMeta& meta) = 0;
    // The port carries Partial checksums both ways (a TAP with IFF_VNET_HDR and TUN_F_CSUM).
    // Without it netback finishes the sums itself before send() and receive() never reports
    // Partial.
    virtual bool checksum_offload() const = 0;
    // For log lines: "vif3.0".
    virtual const std::string& name() const = 0;
};

}  // namespace pvhv::net
