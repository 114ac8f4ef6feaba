// A vif's TAP device: created, addressed, brought up and put on a Linux bridge, as Xen's vif-bridge.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hv/error.h"
#include "hv/unique_fd.h"
#include "pvdrivers/back/net/mac.h"
#include "pvdrivers/back/net/packet_port.h"

namespace pvhv::net {

struct TapOptions {
    std::string name;            // "vif3.0"; at most 15 characters
    MacAddress mac = kHostSideMac;
    uint32_t mtu = 1500;
    std::string bridge;          // empty: the TAP stays unattached (up, but on no bridge)
};

// Checks an interface name the way the kernel will (dev_valid_name): 1..15 characters, not
// "." or "..", no '/', ':' or whitespace. The error says which rule failed.
Result<void> check_interface_name(std::string_view name);

// The TAP device of one vif, in the network namespace of the calling thread. IFF_TAP |
// IFF_NO_PI | IFF_VNET_HDR, non-blocking, with TUN_F_CSUM so that partial checksums pass both
// ways without being computed in pvd. Not persistent: closing it (destruction) deletes the
// interface, which also takes it off the bridge.
class TapDevice final : public PacketPort {
  public:
    // Creates the device (EEXIST-style failures when a device of that name exists), sets its
    // MAC and MTU, adds it to `bridge` (SIOCBRADDIF; the error names the bridge when it does
    // not exist) and sets it up. Needs CAP_NET_ADMIN. On failure nothing is left behind.
    static Result<std::unique_ptr<TapDevice>> create(const TapOptions& options);

    int fd() const override { return fd_.get(); }
    Result<size_t> receive(std::span<uint8_t> buf, PacketMeta& meta) override;
    Result<void> send(std::span<const uint8_t> frame, const PacketMeta& meta) override;
    bool checksum_offload() const override { return true; }
    const std::string& name() const override { return name_; }
    int ifindex() const { return ifindex_; }

  private:
    TapDevice(UniqueFd fd, std::string name, int ifindex)
        : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex) {}

    UniqueFd fd_;
    std::string name_;
    int ifindex_ = 0;
};

}  // namespace pvhv::net
