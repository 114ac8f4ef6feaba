// netback end to end against a fake netfront: keys, connect, TX and RX through rings and grants.
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

VifOptions options() {
    VifOptions o;
    o.domid = FakeNetfront::kDomid;
    o.devid = 0;
    o.mac = *parse_mac("00:16:3e:00:00:02");
    o.bridge = "xenbr0";
    return o;
}

class NetBackendTest : public ::testing::Test {
  protected:
    void make(bool split = false, bool offload = true, VifOptions o = options()) {
        fe = std::make_unique<FakeNetfront>(split);
        auto p = std::make_unique<FakePacketPort>(offload);
        port = p.get();
        auto v = VifBackend::create_with_port(o, std::move(p));
        ASSERT_TRUE(v) << v.error().message;
        vif = std::move(*v);
    }
    void attach() {
        auto r = vif->attach(fe->connection());
        ASSERT_TRUE(r) << r.error().message;
    }
    // One TX packet of `len` bytes end to end; returns what the port got.
    std::vector<uint8_t> udp(size_t len, testing::Csum csum = testing::Csum::Full) {
        testing::FrameSpec s;
        s.csum = csum;
        return testing::make_frame(s, testing::pattern(len - 42, static_cast<uint32_t>(len)));
    }

    std::unique_ptr<FakeNetfront> fe;  // declared first: outlives the back-end
    FakePacketPort* port = nullptr;
    std::unique_ptr<VifBackend> vif;
};

TEST_F(NetBackendTest, BackendKeysAreLinuxNetbacksWithoutGsoOrMultiQueue) {
    make();
    std::map<std::string, std::string> k;
    for (const auto& [key, value] : vif->backend_keys()) k[key] = value;
    EXPECT_EQ(vif->type(), "vif");
    EXPECT_EQ(k["feature-sg"], "1");
    EXPECT_EQ(k["feature-rx-copy"], "1");
    EXPECT_EQ(k["feature-rx-flip"], "0");
    EXPECT_EQ(k["feature-split-event-channels"], "1");
    EXPECT_EQ(k["mac"], "00:16:3e:00:00:02");
    EXPECT_EQ(k["handle"], "0");
    EXPECT_EQ(k["bridge"], "xenbr0");
    EXPECT_FALSE(k.contains("multi-queue-max-queues"));
    EXPECT_FALSE(k.contains("feature-gso-tcpv4"));
    EXPECT_FALSE(k.contains("feature-gso-tcpv6"));
    EXPECT_EQ(options().interface_name(), "vif7.0");
    auto named = options();
    named.vif_name = "web0";
    EXPECT_EQ(named.interface_name(), "web0");
}

TEST_F(NetBackendTest, OptionsAreChecked) {
    fe = std::make_unique<FakeNetfront>();
    auto o = options();
    o.mac = *parse_mac("01:00:5e:00:00:01");
    EXPECT_FALSE(VifBackend::create_with_port(o, std::make_unique<FakePacketPort>()));
    o.mac = MacAddress{};
    EXPECT_FALSE(VifBackend::create_with_port(o, std::make_unique<FakePacketPort>()));
    o = options();
    o.mtu = 70000;
    EXPECT_FALSE(VifBackend::create_with_port(o, std::make_unique<FakePacketPort>()));
    EXPECT_FALSE(VifBackend::create_with_port(options(), nullptr));
}

// Every refusal leaves nothing bound: the guest's port is still unbound and usable.
TEST_F(NetBackendTest, ConnectRefusalsAreClearAndLeaveNothingBehind) {
    make();
    auto refused = [&](const char* what) {
        auto r = vif->attach(fe->connection());
        EXPECT_FALSE(r) << what;
        if (!r) {
            EXPECT_FALSE(r.error().message.empty());
        }
        EXPECT_EQ(fe->port_state(fe->port_tx), PortState::Unbound) << what;
        EXPECT_TRUE(fe->table->active_refs().empty()) << what;
        return r ? std::string() : r.error().message;
    };
    fe->keys["request-rx-copy"] = "0";
    EXPECT_NE(refused("rx-copy 0").find("request-rx-copy"), std::string::npos);
    fe->keys.erase("request-rx-copy");
    refused("no rx-copy");
    fe->keys["request-rx-copy"] = "1";
    fe->keys["multi-queue-num-queues"] = "2";
    EXPECT_NE(refused("2 queues").find("queues"), std::string::npos);
    fe->keys["multi-queue-num-queues"] = "1";  // one queue, asked for explicitly: fine
    fe->keys.erase("tx-ring-ref");
    refused("no tx ring");
    fe->keys["tx-ring-ref"] = "eight";
    refused("malformed ref");
    fe->keys["tx-ring-ref"] = "555";  // not granted
    refused("ungranted ring");
    fe->keys["tx-ring-ref"] = "8";
    fe->grant(8, FakeNetfront::kTxRingGfn, false, /*to=*/3);  // granted to another domain
    refused("ring for dom3");
    fe->grant(8, FakeNetfront::kTxRingGfn, true);  // read-only ring
    refused("read-only ring");
    fe->grant(8, FakeNetfront::kTxRingGfn, false);
    fe->keys.erase("event-channel");
    refused("no event channel");
    fe->keys["event-channel"] = "999";
    refused("bad port");
    fe->keys["event-channel"] = std::to_string(fe->port_tx.value);
    fe->tx_sring->req_prod = 1000;  // a ring that is broken from the start
    refused("req_prod far ahead");
    fe->tx_sring->req_prod = 0;
    auto wrong = fe->connection();
    wrong.frontend = DomId{9};
    EXPECT_FALSE(vif->attach(wrong));
    // And after all that, a good connection.
    attach();
    EXPECT_EQ(fe->port_state(fe->port_tx), PortState::Interdomain);
    EXPECT_EQ(fe->table->active_refs().size(), 2u);  // both ring pages mapped
    EXPECT_FALSE(vif->attach(fe->connection()));     // already connected
    vif->disconnect();
    EXPECT_EQ(fe->port_state(fe->port_tx), PortState::Unbound);
    EXPECT_TRUE(fe->table->active_refs().empty());
    vif->disconnect();  // idempotent
}

TEST_F(NetBackendTest, TxPacketsReachThePortAndAreAnsweredWithOneKick) {
    make();
    attach();
    const auto a = udp(60), b = udp(1514), c = udp(9000);
    fe->queue_tx(a);
    fe->queue_tx(b, 0, {}, 2582);  // 1514 bytes ending exactly at the page's end
    fe->queue_tx(c, NETTXF_data_validated, {808, 4096, 4096});
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    const auto sent = port->sent();
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0].bytes, a);
    EXPECT_EQ(sent[1].bytes, b);
    EXPECT_EQ(sent[2].bytes, c);
    EXPECT_EQ(sent[0].meta.csum, PacketMeta::Csum::None);
    EXPECT_EQ(sent[2].meta.csum, PacketMeta::Csum::Validated);
    const auto rsp = fe->tx_responses();
    ASSERT_EQ(rsp.size(), 5u);  // one per slot
    for (size_t i = 0; i < rsp.size(); ++i) {
        EXPECT_EQ(rsp[i].status, NETIF_RSP_OKAY);
        EXPECT_EQ(rsp[i].id, i + 1);
    }
    EXPECT_TRUE(fe->take_notification(fe->port_tx));
    EXPECT_EQ(counter(*vif, "tx_packets"), 3u);
    EXPECT_EQ(counter(*vif, "tx_bytes"), 60u + 1514 + 9000);
    EXPECT_EQ(counter(*vif, "kicks_out"), 1u);  // one batch, one kick
    // Nothing more to do: no responses, no kick; req_event asks for the next request.
    ASSERT_TRUE(vif->process_once());
    EXPECT_TRUE(fe->tx_responses().empty());
    EXPECT_FALSE(fe->take_notification(fe->port_tx));
    EXPECT_EQ(fe->tx_sring->req_event, fe->tx.req_prod_pvt + 1);
}

// A front-end that keeps producing while the back-end works can make every round of one
// service pass find a request, the last round emptying the ring. The pass must still end by
// asking for a kick on the next request: with req_event left behind, the front-end sees no
// need to notify, and the vif stalls with requests on its ring (a lost wakeup).
TEST_F(NetBackendTest, ReqEventIsArmedWhenAPassEndsWithTheRingDry) {
    make();
    attach();
    const auto frame = udp(100);
    int pushed_during_sends = 0;
    port->on_send = [&] {
        if (pushed_during_sends == 3) return;  // one packet per round, four rounds
        ++pushed_during_sends;
        fe->queue_tx(frame);
        fe->push_tx();
    };
    fe->queue_tx(frame);
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    port->on_send = nullptr;
    EXPECT_EQ(port->sent().size(), 4u);
    EXPECT_EQ(fe->tx_responses().size(), 4u);
    EXPECT_EQ(fe->tx_sring->req_event, fe->tx.req_prod_pvt + 1);
    // And so the next request kicks, and is served.
    (void)fe->take_notification(fe->port_tx);
    fe->queue_tx(frame);
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    EXPECT_EQ(port->sent().size(), 5u);
}

TEST_F(NetBackendTest, CsumBlankIsOffloadedToThePortOrFinishedHere) {
    for (bool offload : {true, false}) {
        make(false, offload);
        attach();
        for (bool v6 : {false, true}) {
            for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
                testing::FrameSpec s;
                s.ipv6 = v6;
                s.proto = proto;
                s.csum = testing::Csum::Zero;  // a front-end that leaves the field blank
                const auto payload = testing::pattern(700);
                fe->queue_tx(testing::make_frame(s, payload), NETTXF_csum_blank | NETTXF_data_validated,
                             {500, static_cast<uint16_t>(testing::make_frame(s, payload).size() - 500)});
                fe->push_tx();
                ASSERT_TRUE(vif->process_once());
                auto sent = port->sent().back();
                s.csum = testing::Csum::Full;
                const auto full = testing::make_frame(s, payload);
                if (offload) {
                    ASSERT_EQ(sent.meta.csum, PacketMeta::Csum::Partial);
                    EXPECT_EQ(sent.meta.spot.start, testing::l4_offset(s));
                    s.csum = testing::Csum::Pseudo;
                    EXPECT_EQ(sent.bytes, testing::make_frame(s, payload));
                    ASSERT_TRUE(finish_checksum(sent.bytes, sent.meta.spot));
                } else {
                    EXPECT_EQ(sent.meta.csum, PacketMeta::Csum::Validated);
                }
                EXPECT_EQ(sent.bytes, full);
            }
        }
        // csum_blank on something without a TCP/UDP checksum: refused, counted.
        auto arp = udp(60);
        testing::put16(arp, 12, 0x0806);
        fe->queue_tx(arp, NETTXF_csum_blank);
        fe->push_tx();
        ASSERT_TRUE(vif->process_once());
        EXPECT_EQ(fe->tx_responses().back().status, NETIF_RSP_ERROR);
        EXPECT_EQ(counter(*vif, "tx_csum_errors"), 1u);
        EXPECT_EQ(port->sent_count(), 4u);
        vif.reset();
        fe.reset();
    }
}

TEST_F(NetBackendTest, ExtraInfoSlotsGetNullResponses) {
    make();
    attach();
    // A one-slot packet whose first slot announces a HASH extra slot after it.
    const auto frame = udp(100);
    fe->queue_tx(frame, NETTXF_extra_info);
    fe->queue_raw_tx(testing::tx_extra(XEN_NETIF_EXTRA_TYPE_HASH, 0));
    // A multicast-list request: a dummy answered OKAY, nothing sent.
    netif_tx_request_t mc{};
    mc.flags = NETTXF_extra_info;
    mc.id = 77;
    fe->queue_raw_tx(mc);
    fe->queue_raw_tx(testing::tx_extra(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0));
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    ASSERT_EQ(port->sent_count(), 1u);
    EXPECT_EQ(port->sent()[0].bytes, frame);
    const auto rsp = fe->tx_responses();
    ASSERT_EQ(rsp.size(), 4u);
    EXPECT_EQ(rsp[0].status, NETIF_RSP_OKAY);
    EXPECT_EQ(rsp[1].status, NETIF_RSP_NULL);
    EXPECT_EQ(rsp[2].id, 77);
    EXPECT_EQ(rsp[2].status, NETIF_RSP_OKAY);
    EXPECT_EQ(rsp[3].status, NETIF_RSP_NULL);
    EXPECT_EQ(counter(*vif, "tx_control"), 1u);
}

TEST_F(NetBackendTest, RxFramesFillPostedBuffersWithFlags) {
    make();
    fe->keys["feature-no-csum-offload"] = "0";
    attach();
    fe->post_rx(8);
    const auto small = udp(1000);
    testing::FrameSpec s;
    s.csum = testing::Csum::Pseudo;
    const auto partial = testing::make_frame(s, testing::pattern(500));
    const auto big = udp(9000);
    port->inject(small);
    port->inject(partial, PacketMeta{PacketMeta::Csum::Partial,
                                     ChecksumSpot{static_cast<uint16_t>(testing::l4_offset(s)), 6}});
    port->inject(big, PacketMeta{PacketMeta::Csum::Validated, {}});
    ASSERT_TRUE(vif->process_once());
    EXPECT_TRUE(fe->take_notification(fe->port_rx));
    auto got = fe->rx_packets();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].data, small);
    EXPECT_EQ(got[0].flags, 0);
    EXPECT_EQ(got[1].data, partial);  // passed on: the guest finishes it
    EXPECT_EQ(got[1].flags, NETRXF_csum_blank | NETRXF_data_validated);
    EXPECT_EQ(got[2].data, big);
    EXPECT_EQ(got[2].status, (std::vector<int16_t>{4096, 4096, 808}));
    EXPECT_EQ(got[2].flags & NETRXF_data_validated, NETRXF_data_validated);
    EXPECT_EQ(counter(*vif, "rx_packets"), 3u);
    EXPECT_EQ(counter(*vif, "rx_bytes"), 1000u + partial.size() + 9000);
    // Responses sit in their requests' slots: 5 of 8 buffers used.
    EXPECT_EQ(fe->rx_sring->rsp_prod, 5u);
}

TEST_F(NetBackendTest, RxChecksumsAreFinishedForFrontEndsWithoutOffload) {
    make();
    fe->keys["feature-no-csum-offload"] = "1";
    attach();
    fe->post_rx(4);
    for (bool v6 : {false, true}) {
        testing::FrameSpec s;
        s.ipv6 = v6;
        s.csum = testing::Csum::Pseudo;
        port->inject(testing::make_frame(s, testing::pattern(300)),
                     PacketMeta{PacketMeta::Csum::Partial,
                                ChecksumSpot{static_cast<uint16_t>(testing::l4_offset(s)), 6}});
    }
    ASSERT_TRUE(vif->process_once());
    auto got = fe->rx_packets();
    ASSERT_EQ(got.size(), 2u);
    for (bool v6 : {false, true}) {
        testing::FrameSpec s;
        s.ipv6 = v6;
        s.csum = testing::Csum::Full;
        EXPECT_EQ(got[v6].data, testing::make_frame(s, testing::pattern(300)));
        EXPECT_EQ(got[v6].flags, NETRXF_data_validated);  // finished and therefore known good
    }
}

TEST_F(NetBackendTest, RxWithoutScatterGatherDropsFramesLargerThanAPage) {
    make();
    fe->keys["feature-sg"] = "0";
    attach();
    fe->post_rx(4);
    port->inject(udp(5000));
    port->inject(udp(4096));
    ASSERT_TRUE(vif->process_once());
    auto got = fe->rx_packets();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data.size(), 4096u);
    EXPECT_EQ(counter(*vif, "rx_bad_size"), 1u);
}

TEST_F(NetBackendTest, RxWaitsForBuffersThenDropsAfterTheDrainTime) {
    make();
    attach();
    port->inject(udp(9000));  // needs 3 buffers
    port->inject(udp(100));
    ASSERT_TRUE(vif->process_once());
    EXPECT_EQ(port->waiting(), 1u);  // the first is held, the second still in the port
    // req_event asks for a kick at the third buffer from req_cons.
    EXPECT_EQ(fe->rx_sring->req_event, 3u);
    fe->post_rx(2);
    EXPECT_FALSE(fe->take_notification(fe->port_rx));
    ASSERT_TRUE(vif->process_once());
    EXPECT_TRUE(fe->rx_packets().empty());
    fe->post_rx(2);  // 4 now: the 9000-byte frame takes 3, the 100-byte one the fourth
    ASSERT_TRUE(vif->process_once());
    auto got = fe->rx_packets();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].data.size(), 9000u);
    EXPECT_EQ(got[1].data.size(), 100u);

    // No buffers at all for longer than the drain time: the frame goes, and while the guest
    // posts none, so does everything after it (never blocked, never queued without bound).
    port->inject(udp(200));
    ASSERT_TRUE(vif->process_once());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    for (int i = 0; i < 5; ++i) port->inject(udp(200));
    ASSERT_TRUE(vif->process_once());
    EXPECT_EQ(port->waiting(), 0u);
    EXPECT_EQ(counter(*vif, "rx_no_buffers"), 6u);
    // Buffers again: traffic flows again.
    fe->post_rx(1);
    port->inject(udp(300));
    ASSERT_TRUE(vif->process_once());
    got = fe->rx_packets();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data.size(), 300u);
}

TEST_F(NetBackendTest, SplitEventChannelsKickEachDirectionOnItsOwnPort) {
    make(/*split=*/true);
    attach();
    EXPECT_NE(fe->port_tx, fe->port_rx);
    fe->queue_tx(udp(100));
    fe->push_tx();
    ASSERT_TRUE(vif->process_once());
    EXPECT_TRUE(fe->take_notification(fe->port_tx));
    EXPECT_FALSE(fe->take_notification(fe->port_rx));
    fe->post_rx(1);
    port->inject(udp(100));
    ASSERT_TRUE(vif->process_once());
    EXPECT_FALSE(fe->take_notification(fe->port_tx));
    EXPECT_TRUE(fe->take_notification(fe->port_rx));
    vif->disconnect();
    EXPECT_EQ(fe->port_state(fe->port_tx), PortState::Unbound);
    EXPECT_EQ(fe->port_state(fe->port_rx), PortState::Unbound);
}

// The service thread: kicks in, frames out, frames in, kicks out; disconnect joins it.
TEST_F(NetBackendTest, ServiceThreadMovesTrafficBothWays) {
    make();
    auto r = vif->connect(fe->connection());
    ASSERT_TRUE(r) << r.error().message;
    fe->post_rx(64);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    size_t tx_answered = 0;
    std::vector<FakeNetfront::RxPacket> rx;
    for (int i = 0; i < 100; ++i) {
        fe->queue_tx(udp(64 + i));
        fe->push_tx();
        port->inject(udp(64 + 2 * i));
        while (std::chrono::steady_clock::now() < deadline &&
               (tx_answered < size_t(i) + 1 || rx.size() < size_t(i) + 1)) {
            tx_answered += fe->tx_responses().size();
            for (auto& p : fe->rx_packets()) rx.push_back(std::move(p));
            if (fe->rx.req_prod_pvt - fe->rx_sring->rsp_prod < 8) fe->post_rx(32);
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }
    ASSERT_EQ(tx_answered, 100u);
    ASSERT_EQ(rx.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(rx[i].data.size(), size_t(64 + 2 * i));
    EXPECT_EQ(port->sent_count(), 100u);
    EXPECT_GT(counter(*vif, "kicks_in"), 0u);
    EXPECT_GT(counter(*vif, "kicks_out"), 0u);
    vif->disconnect();
    EXPECT_EQ(fe->port_state(fe->port_tx), PortState::Unbound);
    EXPECT_TRUE(fe->table->active_refs().empty());
    // Reconnect: the same rings are served from where they were.
    ASSERT_TRUE(vif->connect(fe->connection()));
    fe->queue_tx(udp(80));
    fe->push_tx();
    while (std::chrono::steady_clock::now() < deadline && port->sent_count() < 101)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(port->sent_count(), 101u);
}

// A frame waiting for buffers on the service thread: a front-end with feature-rx-notify wakes
// it with its kick; one without is found by the 10 ms retry. Either way well before the drain.
TEST_F(NetBackendTest, ServiceThreadDeliversAHeldFrameOnceBuffersArrive) {
    for (bool notify : {true, false}) {
        make();
        fe->keys["feature-rx-notify"] = notify ? "1" : "0";
        ASSERT_TRUE(vif->connect(fe->connection()));
        port->inject(udp(500));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < deadline && port->waiting() > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(30));  // held, no buffers
        EXPECT_TRUE(fe->rx_packets().empty());
        const auto posted = std::chrono::steady_clock::now();
        fe->post_rx(1, /*kick=*/notify);
        std::vector<FakeNetfront::RxPacket> got;
        while (std::chrono::steady_clock::now() < deadline && got.empty()) {
            got = fe->rx_packets();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        ASSERT_EQ(got.size(), 1u) << notify;
        EXPECT_EQ(got[0].data.size(), 500u);
        EXPECT_LT(std::chrono::steady_clock::now() - posted, std::chrono::milliseconds(900)) << notify;
        EXPECT_EQ(counter(*vif, "rx_no_buffers"), 0u);
        vif.reset();
        fe.reset();
    }
}

}  // namespace
}  // namespace pvhv::net
