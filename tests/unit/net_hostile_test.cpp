// netback against hostile netfronts: bad slots, bad grants, runaway indexes, rings rewritten.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "net_fake_frontend.h"
#include "net_frames.h"
#include "pvdrivers/back/net/vif_backend.h"

namespace pvhv::net {
namespace {

using testing::FakeNetfront;
using testing::FakePacketPort;
constexpr auto counter = testing::device_counter;

class NetHostileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fe = std::make_unique<FakeNetfront>();
        auto p = std::make_unique<FakePacketPort>();
        port = p.get();
        VifOptions o;
        o.domid = FakeNetfront::kDomid;
        o.mac = *parse_mac("00:16:3e:00:00:07");
        auto v = VifBackend::create_with_port(o, std::move(p));
        ASSERT_TRUE(v) << v.error().message;
        vif = std::move(*v);
        auto r = vif->attach(fe->connection());
        ASSERT_TRUE(r) << r.error().message;
    }
    std::vector<uint8_t> frame(size_t len, uint32_t seed = 1) {
        testing::FrameSpec s;
        return testing::make_frame(s, testing::pattern(len - 42, seed));
    }
    static netif_tx_request_t req(uint32_t gref, uint16_t offset, uint16_t size, uint16_t flags,
                                  uint16_t id) {
        return testing::tx_request(gref, offset, size, flags, id);
    }
    // Statuses of the responses published since the last call.
    std::vector<int16_t> statuses() {
        std::vector<int16_t> v;
        for (const auto& r : fe->tx_responses()) v.push_back(r.status);
        return v;
    }
    // The device still works: a good packet goes through and is answered OKAY.
    void still_works() {
        const size_t before = port->sent_count();
        const auto f = frame(200, 99);
        fe->queue_tx(f);
        fe->push_tx();
        ASSERT_TRUE(vif->process_once());
        ASSERT_EQ(port->sent_count(), before + 1);
        EXPECT_EQ(port->sent().back().bytes, f);
        EXPECT_EQ(statuses(), std::vector<int16_t>{NETIF_RSP_OKAY});
        EXPECT_EQ(fe->failure_count(), 0u);
    }
    // The front-end was failed once and the rings are left alone from then on.
    void failed_once() {
        EXPECT_TRUE(vif->failed());
        EXPECT_EQ(fe->failure_count(), 1u);
        EXPECT_EQ(counter(*vif, "fatal"), 1u);
        const RING_IDX rsp = fe->tx_sring->rsp_prod;
        fe->queue_tx(frame(100));
        fe->push_tx();
        EXPECT_FALSE(vif->process_once());
        EXPECT_EQ(fe->tx_sring->rsp_prod, rsp);
    }

    std::unique_ptr<FakeNetfront> fe;
    FakePacketPort* port = nullptr;
    std::unique_ptr<VifBackend> vif;
};

const std::vector<int16_t> kErr3{NETIF_RSP_ERROR, NETIF_RSP_ERROR, NETIF_RSP_ERROR};

TEST_F(NetHostileTest, SlotsPastTheirPageAreAnsweredWithErrors) {
    // The first slot's share past the page; a later slot past the page; an offset alone past it.
    fe->grant(100, FakeNetfront::kTxBufGfn, true);
    fe->queue_raw_tx(req(100, 4000, 200, 0, 1));
    fe->queue_raw_tx(req(100, 0, 3000, NETTXF_more_data, 2));
    fe->queue_raw_tx(req(100, 3000, 2000, 0, 3));
    fe->queue_raw_tx(req(100, 65535, 60, 0, 4));
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    EXPECT_EQ(statuses(), (std::vector<int16_t>{NETIF_RSP_ERROR, NETIF_RSP_ERROR, NETIF_RSP_ERROR,
                                                NETIF_RSP_ERROR}));
    EXPECT_EQ(port->sent_count(), 0u);
    EXPECT_EQ(counter(*vif, "tx_malformed"), 3u);
    still_works();
}

TEST_F(NetHostileTest, FirstSlotSmallerThanTheChainIsDropped) {
    fe->grant(100, FakeNetfront::kTxBufGfn, true);
    fe->queue_raw_tx(req(100, 0, 100, NETTXF_more_data, 1));  // says 100 bytes in all
    fe->queue_raw_tx(req(100, 0, 60, NETTXF_more_data, 2));
    fe->queue_raw_tx(req(100, 0, 60, 0, 3));                    // 120 > 100
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    EXPECT_EQ(statuses(), kErr3);
    EXPECT_EQ(port->sent_count(), 0u);
    still_works();
}

TEST_F(NetHostileTest, RuntsAndGsoAreDropped) {
    fe->grant(100, FakeNetfront::kTxBufGfn, true);
    fe->queue_raw_tx(req(100, 0, 13, 0, 1));
    fe->queue_raw_tx(req(100, 0, 100, NETTXF_extra_info, 2));
    fe->queue_raw_tx(testing::tx_extra(XEN_NETIF_EXTRA_TYPE_GSO, 0));
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    EXPECT_EQ(statuses(), (std::vector<int16_t>{NETIF_RSP_ERROR, NETIF_RSP_ERROR, NETIF_RSP_NULL}));
    EXPECT_EQ(port->sent_count(), 0u);
    still_works();
}

TEST_F(NetHostileTest, ChainsOf19And20SlotsAreDroppedLongerOnesFailTheFrontEnd) {
    fe->grant(100, FakeNetfront::kTxBufGfn, true);
    for (uint16_t n : {19, 20}) {
        fe->queue_raw_tx(req(100, 0, 60000, NETTXF_more_data, 1));
        for (uint16_t i = 1; i < n; ++i)
            fe->queue_raw_tx(req(100, 0, 1000, i + 1 < n ? NETTXF_more_data : 0, i));
        fe->push_tx();
        ASSERT_TRUE(vif->process_once());
        EXPECT_EQ(statuses(), std::vector<int16_t>(n, NETIF_RSP_ERROR)) << n;
    }
    still_works();
    fe->queue_raw_tx(req(100, 0, 60000, NETTXF_more_data, 1));
    for (uint16_t i = 1; i < 21; ++i) fe->queue_raw_tx(req(100, 0, 1000, i + 1 < 21 ? NETTXF_more_data : 0, i));
    fe->push_tx();
    EXPECT_FALSE(vif->process_once());
    failed_once();
    EXPECT_NE(fe->failures[0].find("longer than 20"), std::string::npos) << fe->failures[0];
}

TEST_F(NetHostileTest, NeverEndingChainFailsTheFrontEnd) {
    const auto good = frame(100);
    fe->queue_tx(good);  // answered and published before the bad one ends the ring
    fe->grant(100, FakeNetfront::kTxBufGfn, true);
    fe->queue_raw_tx(req(100, 0, 1000, NETTXF_more_data, 1));
    fe->queue_raw_tx(req(100, 0, 100, NETTXF_more_data, 2));  // ...and then req_prod
    fe->push_tx();
    EXPECT_FALSE(vif->process_once());
    ASSERT_EQ(port->sent_count(), 1u);
    EXPECT_EQ(port->sent()[0].bytes, good);
    EXPECT_EQ(statuses(), std::vector<int16_t>{NETIF_RSP_OKAY});
    failed_once();
    EXPECT_NE(fe->failures[0].find("past req_prod"), std::string::npos) << fe->failures[0];
}

TEST_F(NetHostileTest, BadExtraInfoFailsTheFrontEnd) {
    fe->grant(100, FakeNetfront::kTxBufGfn, true);
    fe->queue_raw_tx(req(100, 0, 100, NETTXF_extra_info, 1));
    netif_tx_request_t slot{};
    std::memset(&slot, 0xee, sizeof slot);  // type 0xee
    fe->queue_raw_tx(slot);
    fe->push_tx();
    EXPECT_FALSE(vif->process_once());
    failed_once();
}

TEST_F(NetHostileTest, ProducerIndexFarPastTheConsumerFailsTheFrontEnd) {
    fe->tx_sring->req_prod = 100000;
    fe->kick_tx();
    EXPECT_FALSE(vif->process_once());
    failed_once();
    EXPECT_EQ(port->sent_count(), 0u);
}

TEST_F(NetHostileTest, RxProducerIndexFarPastFailsTheFrontEnd) {
    fe->rx_sring->req_prod = 0x80000000u;
    port->inject(frame(100));
    EXPECT_FALSE(vif->process_once());
    EXPECT_TRUE(vif->failed());
    EXPECT_EQ(fe->failure_count(), 1u);
}

TEST_F(NetHostileTest, ProducerIndexGoingBackwardsFailsTheFrontEnd) {
    fe->queue_tx(frame(100));
    fe->queue_tx(frame(100));
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    fe->tx_sring->req_prod = 1;  // behind the two requests already taken
    fe->kick_tx();
    EXPECT_FALSE(vif->process_once());
    EXPECT_TRUE(vif->failed());
}

TEST_F(NetHostileTest, TxGrantsNotGrantedOrForAnotherDomainAreErrors) {
    const auto f = frame(300);
    // Not granted at all; a ref past the table; granted to dom3; granted then revoked.
    fe->queue_raw_tx(req(1500, 0, 300, 0, 1));
    fe->queue_raw_tx(req(0xffffff, 0, 300, 0, 2));
    fe->grant(101, FakeNetfront::kTxBufGfn + 1, true, /*to=*/3);
    fe->queue_raw_tx(req(101, 0, 300, 0, 3));
    fe->queue_tx(f);  // a good one in between
    // A three-slot packet whose middle slot is not granted: the whole packet is refused.
    fe->grant(110, FakeNetfront::kTxBufGfn + 10, true);
    fe->queue_raw_tx(req(110, 0, 300, NETTXF_more_data, 5));
    fe->queue_raw_tx(req(1501, 0, 100, NETTXF_more_data, 6));
    fe->queue_raw_tx(req(110, 0, 100, 0, 7));
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    EXPECT_EQ(statuses(), (std::vector<int16_t>{NETIF_RSP_ERROR, NETIF_RSP_ERROR, NETIF_RSP_ERROR,
                                                NETIF_RSP_OKAY, NETIF_RSP_ERROR, NETIF_RSP_ERROR,
                                                NETIF_RSP_ERROR}));
    ASSERT_EQ(port->sent_count(), 1u);
    EXPECT_EQ(port->sent()[0].bytes, f);
    EXPECT_EQ(counter(*vif, "tx_grant_errors"), 4u);
    EXPECT_TRUE(fe->table->active_refs().size() == 2u);  // only the rings stay pinned
    still_works();
}

TEST_F(NetHostileTest, RxBuffersNotGrantedWritableGetErrorStatuses) {
    fe->post_rx(3);
    fe->revoke(FakeNetfront::kRxBufRef + 0);
    fe->grant(FakeNetfront::kRxBufRef + 1, FakeNetfront::kRxBufGfn + 1, /*readonly=*/true);
    port->inject(frame(100));
    port->inject(frame(100));
    port->inject(frame(100, 5));
    ASSERT_TRUE(vif->process_once());
    auto got = fe->rx_packets();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_TRUE(got[0].error());
    EXPECT_TRUE(got[1].error());
    EXPECT_FALSE(got[2].error());
    EXPECT_EQ(got[2].data, frame(100, 5));
    EXPECT_EQ(counter(*vif, "rx_grant_errors"), 2u);
    EXPECT_EQ(counter(*vif, "rx_packets"), 1u);
    EXPECT_FALSE(vif->failed());
}

// The guest rewrites every TX slot while the back-end works through a batch (here: from
// inside the port's first send, before any response is written). The batch was copied out
// first, so every packet goes out as it was when published and every response carries the
// original id.
TEST_F(NetHostileTest, RingRewrittenDuringABatchDoesNotChangeWhatIsServed) {
    std::vector<std::vector<uint8_t>> frames;
    for (uint32_t i = 0; i < 10; ++i) {
        frames.push_back(frame(100 + 50 * i, i));
        fe->queue_tx(frames.back(), 0, i % 2 ? std::vector<uint16_t>{50, uint16_t(50 + 50 * i)} : std::vector<uint16_t>{});
    }
    fe->push_tx();
    bool rewritten = false;
    port->on_send = [this, &rewritten] {
        if (std::exchange(rewritten, true)) return;
        for (uint32_t k = 0; k < kNetifTxRingSize; ++k) {
            netif_tx_request_t junk{};
            junk.gref = 0xdead;
            junk.size = 65535;
            junk.offset = 4095;
            junk.flags = NETTXF_more_data | NETTXF_extra_info;
            junk.id = 0xbad;
            fe->tx_sring->ring[k].req = junk;  // (req_prod is left alone: another test)
        }
    };
    ASSERT_TRUE(vif->process_once());
    port->on_send = nullptr;
    EXPECT_TRUE(rewritten);
    const auto sent = port->sent();
    ASSERT_EQ(sent.size(), 10u);
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ(sent[i].bytes, frames[i]) << i;
    const auto rsp = fe->tx_responses();
    ASSERT_EQ(rsp.size(), 15u);
    for (size_t i = 0; i < rsp.size(); ++i) {
        EXPECT_EQ(rsp[i].id, i + 1);
        EXPECT_EQ(rsp[i].status, NETIF_RSP_OKAY);
    }
    EXPECT_FALSE(vif->failed());
}

// A hostile guest on one vif is failed; a second vif, served by its own thread, carries on.
TEST(NetHostileThreads, OneFailedVifLeavesTheOtherRunning) {
    FakeNetfront bad_fe, good_fe;
    auto bad_port = std::make_unique<FakePacketPort>();
    auto good_port = std::make_unique<FakePacketPort>();
    FakePacketPort* good = good_port.get();
    VifOptions o;
    o.domid = FakeNetfront::kDomid;
    o.mac = *parse_mac("00:16:3e:00:00:07");
    auto bad = *VifBackend::create_with_port(o, std::move(bad_port));
    o.devid = 1;
    auto ok = *VifBackend::create_with_port(o, std::move(good_port));
    ASSERT_TRUE(bad->connect(bad_fe.connection()));
    ASSERT_TRUE(ok->connect(good_fe.connection()));

    bad_fe.tx_sring->req_prod = 5000;
    bad_fe.kick_tx();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && bad_fe.failure_count() == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(bad_fe.failure_count(), 1u);
    EXPECT_TRUE(bad->failed());

    testing::FrameSpec s;
    for (int i = 0; i < 20; ++i) {
        good_fe.queue_tx(testing::make_frame(s, testing::pattern(100)));
        good_fe.push_tx();
    }
    while (std::chrono::steady_clock::now() < deadline && good->sent_count() < 20)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(good->sent_count(), 20u);
    EXPECT_FALSE(ok->failed());
    // Tearing both down is prompt, the failed one included.
    bad->disconnect();
    ok->disconnect();
    EXPECT_EQ(bad_fe.port_state(bad_fe.port_tx), PortState::Unbound);
    bad.reset();
    ok.reset();
}

}  // namespace
}  // namespace pvhv::net
