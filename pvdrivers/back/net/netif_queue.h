// One netif queue (a TX and an RX ring of a vif) served synchronously: grants in, frames out.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hv/error.h"
#include "hv/gnttab/grant_access.h"
#include "hv/log.h"
#include "hv/types.h"
#include "pvdrivers/back/net/netif_tx.h"
#include "pvdrivers/back/net/packet_port.h"
#include "pvdrivers/back/ring/back_ring.h"

namespace pvhv::net {

// Counters of one vif, written by its service thread, read by anyone (`pvctl top`, tests).
struct NetStats {
    // TX: guest -> host.
    std::atomic<uint64_t> tx_packets{0};       // sent to the port
    std::atomic<uint64_t> tx_bytes{0};
    std::atomic<uint64_t> tx_malformed{0};     // parse_tx_packet said Drop (answered ERROR)
    std::atomic<uint64_t> tx_grant_errors{0};  // a data slot's grant copy failed (ERROR)
    std::atomic<uint64_t> tx_csum_errors{0};   // csum_blank on a frame with no TCP/UDP field
    std::atomic<uint64_t> tx_port_errors{0};   // the port refused the frame (DROPPED)
    std::atomic<uint64_t> tx_control{0};       // multicast-list requests (answered OKAY)
    // RX: host -> guest.
    std::atomic<uint64_t> rx_packets{0};
    std::atomic<uint64_t> rx_bytes{0};
    std::atomic<uint64_t> rx_no_buffers{0};    // dropped: the guest posted no buffers in time
    std::atomic<uint64_t> rx_bad_size{0};      // dropped: larger than the guest can take, or a runt
    std::atomic<uint64_t> rx_grant_errors{0};  // a posted buffer's grant copy failed (ERROR)
    std::atomic<uint64_t> rx_port_errors{0};   // the port failed a read
    // Event channels.
    std::atomic<uint64_t> kicks_in{0};   // front-end kicks (eventfd counts)
    std::atomic<uint64_t> kicks_out{0};  // notifications to the front-end
    std::atomic<uint64_t> fatal{0};      // rings given up on (front-end failed)

    std::vector<std::pair<std::string, uint64_t>> snapshot() const;
};

// What the front-end said it can take on its RX ring (its xenstore keys).
struct RxFeatures {
    bool sg = false;             // feature-sg: a packet may span several buffers
    bool csum_offload = true;    // !feature-no-csum-offload: NETRXF_csum_blank on IPv4
    bool ipv6_csum_offload = false;  // feature-ipv6-csum-offload: the same on IPv6
};

// The TX and RX rings of one netif queue, mapped from the front-end's grants, and the work on
// them: TX requests become frames on a PacketPort, frames from the port fill posted RX buffers.
// Everything guest-supplied is copied out once (whole batches of TX requests; one RX request
// at a time) and checked before use; data moves only by copy_grant, as dom0. An error that
// leaves a ring unusable comes back as an Error: the caller fails the front-end and never
// calls this queue again.
// Not thread-safe: one vif's service thread (or a test) calls it.
class NetifQueue {
  public:
    struct Params {
        std::shared_ptr<GrantTable> grants;  // the front-end's table
        GrantRef tx_ring;
        GrantRef rx_ring;
        RxFeatures rx;
        std::string label;  // "dom3 vif3.0", for log lines
    };
    // Maps both ring pages writable and checks their indexes as Linux's
    // xenvif_map_frontend_data_rings does (req_prod at most a ring past rsp_prod). `stats` and
    // `log_limit` (guest-triggered log lines) are the vif's and outlive the queue, so a guest
    // that reconnects over and over does not get a fresh allowance of log lines each time.
    static Result<std::unique_ptr<NetifQueue>> attach(Params params, NetStats& stats,
                                                      RateLimit& log_limit);

    // What one service_tx() did. `notify`: the front-end wants a kick for the responses.
    // `more`: the round stopped at its budget with requests left (call again soon).
    struct TxRound {
        uint32_t packets = 0;
        bool notify = false;
        bool more = false;
    };
    // Answers every TX request the front-end has published (up to a budget of 4 rings' worth),
    // then re-arms req_event (RING_FINAL_CHECK_FOR_REQUESTS).
    Result<TxRound> service_tx(PacketPort& port);

    enum class RxOutcome : uint8_t {
        Delivered,  // copied into posted buffers; call push_rx() to publish
        NoBuffers,  // not enough buffers posted: req_event now asks for a kick when they are
        Dropped,    // cannot ever be delivered (too large for this front-end, a runt); counted
    };
    // Copies one frame into as many posted RX buffers as it needs (4 KiB each; several only with
    // feature-sg) and writes their responses, NETRXF_more_data chained, checksum flags on the
    // first. A Partial checksum is passed on (csum_blank) if the front-end takes it, else
    // finished here (which may write to `frame`).
    Result<RxOutcome> deliver_rx(std::span<uint8_t> frame, const PacketMeta& meta);
    // Publishes the RX responses written so far; true when the front-end wants a kick.
    bool push_rx() { return rx_.push_responses(); }

  private:
    using TxRing = back::BackRing<netif_tx_sring_entry>;
    using RxRing = back::BackRing<netif_rx_sring_entry>;
    NetifQueue(Params p, NetStats& stats, RateLimit& log_limit, GrantMapping tx_map,
               GrantMapping rx_map, TxRing tx, RxRing rx);

    void handle_tx(const TxPacket& p, PacketPort& port);
    void respond_tx(const TxPacket& p, int16_t status);
    void log(std::string_view what);

    Params params_;
    NetStats& stats_;
    RateLimit& log_limit_;
    GrantMapping tx_map_;  // keep the ring pages mapped while the rings are used
    GrantMapping rx_map_;
    TxRing tx_;
    RxRing rx_;
    std::array<netif_tx_request_t, kNetifTxRingSize> tx_reqs_{};  // one batch, copied out
    std::vector<uint8_t> tx_frame_;  // the packet being assembled (kMaxPacketLen)
};

}  // namespace pvhv::net
