// The netif TX (guest → host) wire format: one packet's slot chain parsed and validated, purely.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "hv/types.h"
#include "hv/xen_public.h"

#include <xen/io/netif.h>

namespace pvhv::net {

inline constexpr uint32_t kNetifTxRingSize = __CONST_RING_SIZE(netif_tx, 4096);  // 256
inline constexpr uint32_t kNetifRxRingSize = __CONST_RING_SIZE(netif_rx, 4096);  // 256
// Data slots one packet may use (XEN_NETBK_LEGACY_SLOTS_MAX, which is what Linux's netfront
// sends at most: MAX_XEN_SKB_FRAGS + 1). Longer chains are dropped with errors...
inline constexpr uint32_t kMaxTxDataSlots = 18;
// ...up to this many (Linux's fatal_skb_slots); a front-end going beyond is broken or hostile.
inline constexpr uint32_t kFatalTxDataSlots = 20;
inline constexpr uint32_t kEthHeaderLen = 14;
inline constexpr uint32_t kMaxPacketLen = XEN_NETIF_MAX_TX_SIZE;  // 65535

// One data slot of a chain, as copied out of the ring. For the first slot `size` is the
// packet's data in that slot (the ring's first size, the whole packet length, minus the
// other slots), once the chain validated.
struct TxSlot {
    GrantRef gref;
    uint16_t offset = 0;
    uint16_t size = 0;
    uint16_t id = 0;
};

enum class TxVerdict : uint8_t {
    Send,     // a valid packet: copy the data slots, send it, answer every slot OKAY
    Control,  // a multicast-list request (XEN_NETIF_EXTRA_TYPE_MCAST_*): no data, answer OKAY
    Drop,     // a malformed packet: consume its slots, answer every one NETIF_RSP_ERROR
    Fatal,    // the ring cannot be parsed any further: disconnect the front-end
};

// What parse_tx_packet found at the head of the unconsumed requests.
struct TxPacket {
    TxVerdict verdict = TxVerdict::Fatal;
    std::string_view reason;   // Drop/Fatal: a static message for the log
    uint32_t ring_slots = 0;   // ring slots to consume: data + extra slots (0 for Fatal)
    uint32_t extra_slots = 0;  // extra-info slots right after the first (answered RSP_NULL)
    uint32_t length = 0;       // whole packet, the first slot's size
    uint16_t flags = 0;        // the first slot's NETTXF_* (checksum state)
    uint32_t nr_data = 0;      // entries of `data` in use; every one gets a response
    std::array<TxSlot, kFatalTxDataSlots> data{};
};

// Parses the packet at the head of `ring` — the unconsumed TX requests in ring order, copied
// out of the shared page once by the caller (so nothing here can change under it) — by the
// rules of <xen/io/netif.h> and Linux's netback (xenvif_tx_build_gops, count_requests,
// get_extras):
//   * extra slots follow the first when it has NETTXF_extra_info, chained by
//     XEN_NETIF_EXTRA_FLAG_MORE; type 0 or >= XEN_NETIF_EXTRA_TYPE_MAX is Fatal; GSO (never
//     advertised) is Drop; MCAST_ADD/DEL make a Control request; HASH is ignored.
//   * data slots chain by NETTXF_more_data; a chain that runs past the end of `ring` (past
//     req_prod: front-ends publish whole packets) or beyond kFatalTxDataSlots is Fatal, one
//     longer than kMaxTxDataSlots is Drop.
//   * each later slot's size must fit in what the first slot's size leaves; every slot's
//     offset + size must stay in its 4 KiB page; the packet must hold an Ethernet header.
// A Drop still reports every slot (ids in `data`) so that each is answered.
TxPacket parse_tx_packet(std::span<const netif_tx_request_t> ring);

}  // namespace pvhv::net
