// Serving one netif TX/RX ring pair: batches of TX requests to frames, frames into RX buffers.
#include "pvdrivers/back/net/netif_queue.h"

#include <algorithm>

#include "hv/format.h"

namespace pvhv::net {

namespace {

// A round answers at most this many rings' worth of TX requests before RX gets its turn.
constexpr uint32_t kTxRoundsPerService = 4;

template <class Ring>
Result<Ring> attach_ring(const GrantMapping& map, const char* which) {
    auto ring = Ring::attach(back::RingPages({map.writable_bytes()}));
    if (!ring) return fail(ring.error().xen_errno, std::string(which) + ": " + ring.error().message);
    // Linux refuses a ring whose req_prod is already more than a ring past rsp_prod.
    if (auto n = ring->unconsumed(); !n)
        return fail(n.error().xen_errno, std::string(which) + ": " + n.error().message);
    return ring;
}

}  // namespace

std::vector<std::pair<std::string, uint64_t>> NetStats::snapshot() const {
    auto v = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    return {{"tx_packets", v(tx_packets)},       {"tx_bytes", v(tx_bytes)},
            {"tx_malformed", v(tx_malformed)},   {"tx_grant_errors", v(tx_grant_errors)},
            {"tx_csum_errors", v(tx_csum_errors)}, {"tx_port_errors", v(tx_port_errors)},
            {"tx_control", v(tx_control)},       {"rx_packets", v(rx_packets)},
            {"rx_bytes", v(rx_bytes)},           {"rx_no_buffers", v(rx_no_buffers)},
            {"rx_bad_size", v(rx_bad_size)},     {"rx_grant_errors", v(rx_grant_errors)},
            {"rx_port_errors", v(rx_port_errors)}, {"kicks_in", v(kicks_in)},
            {"kicks_out", v(kicks_out)},         {"fatal", v(fatal)}};
}

Result<std::unique_ptr<NetifQueue>> NetifQueue::attach(Params params, NetStats& stats,
                                                       RateLimit& log_limit) {
    if (!params.grants) return fail(XEN_EINVAL, "no grant table for the front-end");
    auto tx_map = map_grant(*params.grants, params.tx_ring, /*readonly=*/false);
    if (!tx_map)
        return fail(tx_map.error().xen_errno, "mapping tx-ring-ref " +
                                                  fmt::dec(params.tx_ring.value) + ": " +
                                                  tx_map.error().message);
    auto rx_map = map_grant(*params.grants, params.rx_ring, /*readonly=*/false);
    if (!rx_map)
        return fail(rx_map.error().xen_errno, "mapping rx-ring-ref " +
                                                  fmt::dec(params.rx_ring.value) + ": " +
                                                  rx_map.error().message);
    auto tx = attach_ring<TxRing>(*tx_map, "tx ring");
    if (!tx) return std::unexpected(tx.error());
    auto rx = attach_ring<RxRing>(*rx_map, "rx ring");
    if (!rx) return std::unexpected(rx.error());
    return std::unique_ptr<NetifQueue>(new NetifQueue(std::move(params), stats, log_limit, std::move(*tx_map),
                                                      std::move(*rx_map), std::move(*tx),
                                                      std::move(*rx)));
}

NetifQueue::NetifQueue(Params p, NetStats& stats, RateLimit& log_limit, GrantMapping tx_map,
                       GrantMapping rx_map, TxRing tx, RxRing rx)
    : params_(std::move(p)),
      stats_(stats),
      log_limit_(log_limit),
      tx_map_(std::move(tx_map)),
      rx_map_(std::move(rx_map)),
      tx_(std::move(tx)),
      rx_(std::move(rx)),
      tx_frame_(kMaxPacketLen) {}

void NetifQueue::log(std::string_view what) {
    log_guest(log_limit_, LogLevel::Warn, params_.label + ": " + std::string(what));
}

Result<NetifQueue::TxRound> NetifQueue::service_tx(PacketPort& port) {
    TxRound round;
    for (uint32_t i = 0; i < kTxRoundsPerService; ++i) {
        auto n = tx_.final_check_for_requests();
        if (!n) return std::unexpected(n.error());
        if (*n == 0) return round;
        // The whole batch is copied out before any of it is looked at: what the guest writes
        // to the ring from now on cannot change what is parsed.
        for (uint32_t k = 0; k < *n; ++k) tx_reqs_[k] = tx_.take().req;
        std::span<const netif_tx_request_t> batch(tx_reqs_.data(), *n);
        while (!batch.empty()) {
            const TxPacket p = parse_tx_packet(batch);
            if (p.verdict == TxVerdict::Fatal) {
                // Publish what was answered before it, so the guest can free those buffers;
                // the caller fails the front-end and the ring is not touched again.
                (void)tx_.push_responses();
                return fail(XEN_EINVAL, "tx ring: " + std::string(p.reason) + " (at req " +
                                            fmt::dec(tx_.req_cons() - batch.size()) + ")");
            }
            handle_tx(p, port);
            batch = batch.subspan(p.ring_slots);
            ++round.packets;
        }
        round.notify |= tx_.push_responses();
    }
    // Budget spent. If the last round emptied the ring, req_event still points at where the
    // guest last asked for a kick, so re-arm it now (the final check does): otherwise the
    // caller sleeps on a ring whose next request sends no kick, a lost wakeup. With requests
    // left, req_event is left alone: no kick is needed, the caller comes back.
    auto n = tx_.final_check_for_requests();
    if (!n) return std::unexpected(n.error());
    round.more = *n > 0;
    return round;
}

void NetifQueue::respond_tx(const TxPacket& p, int16_t status) {
    // Responses in ring order: the first slot, RSP_NULL for each extra slot, the other slots.
    tx_.put_response(netif_tx_response_t{p.data[0].id, status});
    for (uint32_t e = 0; e < p.extra_slots; ++e)
        tx_.put_response(netif_tx_response_t{0, NETIF_RSP_NULL});
    for (uint32_t d = 1; d < p.nr_data; ++d)
        tx_.put_response(netif_tx_response_t{p.data[d].id, status});
}

void NetifQueue::handle_tx(const TxPacket& p, PacketPort& port) {
    if (p.verdict == TxVerdict::Drop) {
        stats_.tx_malformed.fetch_add(1, std::memory_order_relaxed);
        log("dropped a malformed tx packet: " + std::string(p.reason));
        respond_tx(p, NETIF_RSP_ERROR);
        return;
    }
    if (p.verdict == TxVerdict::Control) {
        // No multicast filtering is offered (feature-multicast-control is not advertised), so
        // the list has no effect; Linux answers these OKAY as well.
        stats_.tx_control.fetch_add(1, std::memory_order_relaxed);
        respond_tx(p, NETIF_RSP_OKAY);
        return;
    }
    size_t at = 0;
    for (uint32_t d = 0; d < p.nr_data; ++d) {
        const TxSlot& s = p.data[d];
        if (s.size == 0) continue;
        auto r = copy_grant(GrantedBytes{*params_.grants, s.gref, s.offset},
                            std::span<uint8_t>(tx_frame_.data() + at, s.size), s.size);
        if (!r) {
            stats_.tx_grant_errors.fetch_add(1, std::memory_order_relaxed);
            log("tx slot with grant " + fmt::dec(s.gref.value) + ": " + r.error().message);
            respond_tx(p, NETIF_RSP_ERROR);
            return;
        }
        at += s.size;
    }
    std::span<uint8_t> frame(tx_frame_.data(), at);  // == p.length: the parser checked the sizes

    PacketMeta meta;
    if (p.flags & NETTXF_csum_blank) {
        const auto l4 = find_l4_checksum(frame);
        if (!l4) {
            stats_.tx_csum_errors.fetch_add(1, std::memory_order_relaxed);
            log("csum_blank tx packet without a TCP/UDP checksum field");
            respond_tx(p, NETIF_RSP_ERROR);
            return;
        }
        seed_pseudo_header(frame, *l4);
        if (port.checksum_offload()) {
            meta = PacketMeta{PacketMeta::Csum::Partial, l4->spot};
        } else {
            (void)finish_checksum(frame, l4->spot);
            meta.csum = PacketMeta::Csum::Validated;
        }
    } else if (p.flags & NETTXF_data_validated) {
        meta.csum = PacketMeta::Csum::Validated;
    }

    if (auto r = port.send(frame, meta); !r) {
        stats_.tx_port_errors.fetch_add(1, std::memory_order_relaxed);
        log("tx frame not sent: " + r.error().message);
        respond_tx(p, NETIF_RSP_DROPPED);
        return;
    }
    stats_.tx_packets.fetch_add(1, std::memory_order_relaxed);
    stats_.tx_bytes.fetch_add(frame.size(), std::memory_order_relaxed);
    respond_tx(p, NETIF_RSP_OKAY);
}

Result<NetifQueue::RxOutcome> NetifQueue::deliver_rx(std::span<uint8_t> frame,
                                                     const PacketMeta& meta) {
    const uint32_t len = static_cast<uint32_t>(std::min<size_t>(frame.size(), UINT32_MAX));
    const uint32_t needed = (len + kPageSize - 1) / kPageSize;
    if (len < kEthHeaderLen || len > kMaxPacketLen || (needed > 1 && !params_.rx.sg)) {
        stats_.rx_bad_size.fetch_add(1, std::memory_order_relaxed);
        log("rx frame of " + fmt::dec(frame.size()) + " bytes dropped: " +
            (params_.rx.sg ? "not a size netif carries" : "more than a page without feature-sg"));
        return RxOutcome::Dropped;
    }
    auto n = rx_.final_check_for_requests(needed);
    if (!n) return std::unexpected(n.error());
    if (*n < needed) return RxOutcome::NoBuffers;

    uint16_t flags = 0;
    if (meta.csum == PacketMeta::Csum::Partial) {
        const L3Protocol l3 = l3_protocol(frame);
        const bool offload = l3 == L3Protocol::Ipv4   ? params_.rx.csum_offload
                             : l3 == L3Protocol::Ipv6 ? params_.rx.ipv6_csum_offload
                                                      : false;
        const bool in_frame = size_t{meta.spot.start} + meta.spot.offset + 2 <= frame.size();
        if (offload && in_frame)
            flags = NETRXF_csum_blank | NETRXF_data_validated;
        else if (finish_checksum(frame, meta.spot))
            flags = NETRXF_data_validated;
    } else if (meta.csum == PacketMeta::Csum::Validated) {
        flags = NETRXF_data_validated;
    }

    // One response per request taken, in the request's own slot (netfront finds its buffer
    // by slot, not by id), so the ring's response order is the request order.
    bool all_copied = true;
    for (uint32_t k = 0; k < needed; ++k) {
        const netif_rx_request_t req = rx_.take().req;
        const uint32_t off = k * static_cast<uint32_t>(kPageSize);
        const uint32_t chunk = std::min<uint32_t>(len - off, kPageSize);
        netif_rx_response_t rsp{};
        rsp.id = req.id;
        rsp.offset = 0;
        rsp.flags = static_cast<uint16_t>((k + 1 < needed ? NETRXF_more_data : 0) | (k == 0 ? flags : 0));
        auto r = copy_grant(std::span<const uint8_t>(frame.data() + off, chunk),
                            GrantedBytes{*params_.grants, GrantRef{req.gref}, 0}, chunk);
        if (r) {
            rsp.status = static_cast<int16_t>(chunk);
        } else {
            // netfront drops the whole packet when one of its slots has a negative status.
            stats_.rx_grant_errors.fetch_add(1, std::memory_order_relaxed);
            log("rx buffer with grant " + fmt::dec(req.gref) + ": " + r.error().message);
            rsp.status = NETIF_RSP_ERROR;
            all_copied = false;
        }
        rx_.put_response(rsp);
    }
    if (all_copied) {
        stats_.rx_packets.fetch_add(1, std::memory_order_relaxed);
        stats_.rx_bytes.fetch_add(len, std::memory_order_relaxed);
    }
    return RxOutcome::Delivered;
}

}  // namespace pvhv::net
