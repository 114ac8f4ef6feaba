// Parsing and validation of one netif TX packet (first slot, extra-info slots, data chain).
#include "pvdrivers/back/net/netif_tx.h"

#include <cstring>

namespace pvhv::net {

namespace {

TxPacket fatal(std::string_view reason) {
    TxPacket p;
    p.verdict = TxVerdict::Fatal;
    p.reason = reason;
    return p;
}

TxSlot slot_of(const netif_tx_request_t& r) {
    return TxSlot{GrantRef{r.gref}, r.offset, r.size, r.id};
}

}  // namespace

TxPacket parse_tx_packet(std::span<const netif_tx_request_t> ring) {
    if (ring.empty()) return fatal("no request to parse");
    const netif_tx_request_t first = ring[0];
    size_t next = 1;

    TxPacket p;
    p.verdict = TxVerdict::Send;
    p.flags = first.flags;
    p.length = first.size;

    // Extra-info slots overlay request slots right after the first.
    bool gso = false;
    bool mcast = false;
    if (first.flags & NETTXF_extra_info) {
        netif_extra_info_t extra{};
        do {
            if (next >= ring.size()) return fatal("extra info slot missing (past req_prod)");
            std::memcpy(&extra, &ring[next], sizeof extra);
            ++next;
            ++p.extra_slots;
            if (extra.type == XEN_NETIF_EXTRA_TYPE_NONE || extra.type >= XEN_NETIF_EXTRA_TYPE_MAX)
                return fatal("invalid extra info type");
            gso |= extra.type == XEN_NETIF_EXTRA_TYPE_GSO;
            mcast |= extra.type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
                     extra.type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
        } while (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    }

    // The data chain: the first slot, then every slot its predecessor marks more_data. Walk
    // all of it even when it is already known to be dropped, so every slot is answered.
    p.data[0] = slot_of(first);
    p.nr_data = 1;
    uint32_t remaining = first.size;  // what the first slot's own data will be
    bool more = first.flags & NETTXF_more_data;
    while (more) {
        if (next >= ring.size()) return fatal("packet chain runs past req_prod");
        if (p.nr_data >= kFatalTxDataSlots) return fatal("packet chain longer than 20 slots");
        const netif_tx_request_t r = ring[next++];
        p.data[p.nr_data++] = slot_of(r);
        if (r.size > remaining) {
            if (p.verdict == TxVerdict::Send) p.reason = "slot size exceeds the packet size";
            p.verdict = TxVerdict::Drop;
        } else {
            remaining -= r.size;
        }
        if (uint32_t{r.offset} + r.size > kPageSize && p.verdict == TxVerdict::Send) {
            p.verdict = TxVerdict::Drop;
            p.reason = "slot crosses its page";
        }
        more = r.flags & NETTXF_more_data;
    }
    p.ring_slots = static_cast<uint32_t>(next);

    if (p.verdict != TxVerdict::Send) return p;
    if (p.nr_data > kMaxTxDataSlots) {
        p.verdict = TxVerdict::Drop;
        p.reason = "packet uses more than 18 slots";
        return p;
    }
    if (mcast) {
        p.verdict = TxVerdict::Control;
        return p;
    }
    if (gso) {
        p.verdict = TxVerdict::Drop;
        p.reason = "GSO packet (feature-gso-* not offered)";
        return p;
    }
    if (p.length < kEthHeaderLen) {
        p.verdict = TxVerdict::Drop;
        p.reason = "packet shorter than an Ethernet header";
        return p;
    }
    if (uint32_t{first.offset} + remaining > kPageSize) {
        p.verdict = TxVerdict::Drop;
        p.reason = "first slot crosses its page";
        return p;
    }
    p.data[0].size = static_cast<uint16_t>(remaining);
    return p;
}

}  // namespace pvhv::net
