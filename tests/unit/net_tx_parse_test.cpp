// Unit tests of netif TX slot-chain parsing: every rule of parse_tx_packet, valid and hostile.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "net_fake_frontend.h"
#include "pvdrivers/back/net/netif_tx.h"

namespace pvhv::net {
namespace {

constexpr auto req = testing::tx_request;
constexpr auto extra = testing::tx_extra;

// A chain of `n` slots carrying `total` bytes: the first holds what the others leave.
std::vector<netif_tx_request_t> chain(uint32_t n, uint16_t total, uint16_t per_slot) {
    std::vector<netif_tx_request_t> v;
    v.push_back(req(10, 0, total, n > 1 ? NETTXF_more_data : 0, 100));
    for (uint32_t i = 1; i < n; ++i)
        v.push_back(req(10 + i, 0, per_slot, i + 1 < n ? NETTXF_more_data : 0,
                        static_cast<uint16_t>(100 + i)));
    return v;
}

TEST(NetTxParse, SingleSlotPacket) {
    std::vector<netif_tx_request_t> ring{req(7, 100, 60, NETTXF_csum_blank | NETTXF_data_validated, 3),
                                         req(8, 0, 60, 0, 4)};
    TxPacket p = parse_tx_packet(ring);
    ASSERT_EQ(p.verdict, TxVerdict::Send) << p.reason;
    EXPECT_EQ(p.ring_slots, 1u);  // the next packet is not touched
    EXPECT_EQ(p.nr_data, 1u);
    EXPECT_EQ(p.extra_slots, 0u);
    EXPECT_EQ(p.length, 60u);
    EXPECT_EQ(p.flags, NETTXF_csum_blank | NETTXF_data_validated);
    EXPECT_EQ(p.data[0].gref, GrantRef{7});
    EXPECT_EQ(p.data[0].offset, 100);
    EXPECT_EQ(p.data[0].size, 60);
    EXPECT_EQ(p.data[0].id, 3);
}

TEST(NetTxParse, MultiSlotPacketGivesTheFirstSlotTheRemainder) {
    auto ring = chain(3, 9000, 4096);
    TxPacket p = parse_tx_packet(ring);
    ASSERT_EQ(p.verdict, TxVerdict::Send) << p.reason;
    EXPECT_EQ(p.ring_slots, 3u);
    EXPECT_EQ(p.nr_data, 3u);
    EXPECT_EQ(p.length, 9000u);
    EXPECT_EQ(p.data[0].size, 9000 - 2 * 4096);
    EXPECT_EQ(p.data[1].size, 4096);
    EXPECT_EQ(p.data[2].id, 102);
}

TEST(NetTxParse, EighteenSlotsAreTheLimit) {
    auto ok = chain(18, 18 * 3000, 3000);
    EXPECT_EQ(parse_tx_packet(ok).verdict, TxVerdict::Send);
    for (uint32_t n : {19u, 20u}) {
        auto ring = chain(n, 60000, 3000);
        TxPacket p = parse_tx_packet(ring);
        EXPECT_EQ(p.verdict, TxVerdict::Drop) << n;
        EXPECT_EQ(p.ring_slots, n);  // consumed, and every slot answered
        EXPECT_EQ(p.nr_data, n);
    }
    auto fatal = chain(21, 60000, 2000);
    EXPECT_EQ(parse_tx_packet(fatal).verdict, TxVerdict::Fatal);
}

TEST(NetTxParse, NeverEndingChainIsFatal) {
    // Every slot up to req_prod says more_data.
    std::vector<netif_tx_request_t> ring(5, req(1, 0, 100, NETTXF_more_data, 1));
    ring[0].size = 1000;
    TxPacket p = parse_tx_packet(ring);
    EXPECT_EQ(p.verdict, TxVerdict::Fatal);
    EXPECT_EQ(p.ring_slots, 0u);
    std::vector<netif_tx_request_t> whole_ring(kNetifTxRingSize, req(1, 0, 0, NETTXF_more_data, 1));
    EXPECT_EQ(parse_tx_packet(whole_ring).verdict, TxVerdict::Fatal);
}

TEST(NetTxParse, LaterSlotsLargerThanThePacketAreDropped) {
    auto ring = chain(3, 5000, 4000);  // 4000 + 4000 > 5000
    TxPacket p = parse_tx_packet(ring);
    EXPECT_EQ(p.verdict, TxVerdict::Drop);
    EXPECT_EQ(p.ring_slots, 3u);
    EXPECT_EQ(p.nr_data, 3u);
}

TEST(NetTxParse, SlotsCrossingTheirPageAreDropped) {
    std::vector<netif_tx_request_t> first{req(1, 4000, 200, 0, 1)};
    EXPECT_EQ(parse_tx_packet(first).verdict, TxVerdict::Drop);
    std::vector<netif_tx_request_t> exact{req(1, 4036, 60, 0, 1)};
    EXPECT_EQ(parse_tx_packet(exact).verdict, TxVerdict::Send);
    auto later = chain(2, 3000, 1000);
    later[1].offset = 3500;
    EXPECT_EQ(parse_tx_packet(later).verdict, TxVerdict::Drop);
    // offset alone past the page (uint16 offsets up to 65535).
    std::vector<netif_tx_request_t> far{req(1, 65535, 60, 0, 1)};
    EXPECT_EQ(parse_tx_packet(far).verdict, TxVerdict::Drop);
    // The first slot's own share is what must fit: 9000 over three slots leaves it 808.
    auto share = chain(3, 9000, 4096);
    share[0].offset = 3288;  // 808 bytes from 3288 end at 4096: fits
    EXPECT_EQ(parse_tx_packet(share).verdict, TxVerdict::Send);
    share[0].offset = 3289;
    EXPECT_EQ(parse_tx_packet(share).verdict, TxVerdict::Drop);
}

TEST(NetTxParse, RuntsAreDropped) {
    std::vector<netif_tx_request_t> runt{req(1, 0, 13, 0, 9)};
    TxPacket p = parse_tx_packet(runt);
    EXPECT_EQ(p.verdict, TxVerdict::Drop);
    EXPECT_EQ(p.nr_data, 1u);
    EXPECT_EQ(p.data[0].id, 9);
    std::vector<netif_tx_request_t> eth{req(1, 0, 14, 0, 9)};
    EXPECT_EQ(parse_tx_packet(eth).verdict, TxVerdict::Send);
}

TEST(NetTxParse, ExtraSlotsAreCountedAndJudged) {
    // HASH is ignored: the packet goes, the extra slot is consumed.
    std::vector<netif_tx_request_t> hash{req(1, 0, 100, NETTXF_extra_info | NETTXF_more_data, 1),
                                         extra(XEN_NETIF_EXTRA_TYPE_HASH, 0),
                                         req(2, 0, 40, 0, 2)};
    TxPacket p = parse_tx_packet(hash);
    ASSERT_EQ(p.verdict, TxVerdict::Send) << p.reason;
    EXPECT_EQ(p.extra_slots, 1u);
    EXPECT_EQ(p.ring_slots, 3u);
    EXPECT_EQ(p.nr_data, 2u);
    EXPECT_EQ(p.data[0].size, 60);
    EXPECT_EQ(p.data[1].gref, GrantRef{2});

    // GSO was never offered: dropped, slots consumed.
    std::vector<netif_tx_request_t> gso{req(1, 0, 100, NETTXF_extra_info, 1),
                                        extra(XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE),
                                        extra(XEN_NETIF_EXTRA_TYPE_HASH, 0)};
    p = parse_tx_packet(gso);
    EXPECT_EQ(p.verdict, TxVerdict::Drop);
    EXPECT_EQ(p.extra_slots, 2u);
    EXPECT_EQ(p.ring_slots, 3u);

    // Multicast control: a dummy request answered OKAY.
    std::vector<netif_tx_request_t> mc{req(1, 0, 0, NETTXF_extra_info, 5),
                                       extra(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0)};
    p = parse_tx_packet(mc);
    EXPECT_EQ(p.verdict, TxVerdict::Control);
    EXPECT_EQ(p.ring_slots, 2u);
    EXPECT_EQ(p.data[0].id, 5);

    // Invalid types and missing extras end parsing.
    for (uint8_t bad : {uint8_t{XEN_NETIF_EXTRA_TYPE_NONE}, uint8_t{XEN_NETIF_EXTRA_TYPE_MAX},
                        uint8_t{0xff}}) {
        std::vector<netif_tx_request_t> r{req(1, 0, 100, NETTXF_extra_info, 1), extra(bad, 0)};
        EXPECT_EQ(parse_tx_packet(r).verdict, TxVerdict::Fatal) << int(bad);
    }
    std::vector<netif_tx_request_t> missing{req(1, 0, 100, NETTXF_extra_info, 1),
                                            extra(XEN_NETIF_EXTRA_TYPE_HASH,
                                                  XEN_NETIF_EXTRA_FLAG_MORE)};
    EXPECT_EQ(parse_tx_packet(missing).verdict, TxVerdict::Fatal);
}

TEST(NetTxParse, EmptyInputIsFatalNotACrash) {
    EXPECT_EQ(parse_tx_packet({}).verdict, TxVerdict::Fatal);
}

}  // namespace
}  // namespace pvhv::net
