// pvdrivers/front's netfront against a fake netback: keys, posted RX buffers, TX slot chains,
// RX frames over several slots and with extra-info slots, errors and timeouts.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <vector>

#include "front_fake_env.h"

namespace pvhv::test {
namespace {

// A response the fake delivers into the next posted RX buffer.
struct RxSlot {
    std::vector<uint8_t> data;
    uint16_t flags = 0;
    int16_t status_override = 0;  // used instead of the length when non-zero
    bool extra = false;           // an extra-info slot (the buffer is consumed, nothing written)
};

// netback in copy mode: TX frames gathered from slot chains, RX slots written into the buffers
// the front-end posted.
class FakeNetBack : public FakeXenbusBackend {
  public:
    FakeNetBack(FakeFrontEnv& env, std::map<std::string, std::string> features)
        : FakeXenbusBackend(env, "vif", 0, features, {{"mac", "00:16:3e:0a:0b:0c"}}) {}

    std::vector<std::vector<uint8_t>> sent;  // frames the guest sent
    std::vector<std::vector<netif_tx_request_t>> tx_chains;
    std::deque<RxSlot> to_deliver;

  protected:
    std::optional<std::map<std::string, std::string>> connect() override {
        uint8_t* tx = granted_page(env, front_uint("tx-ring-ref"), true);
        uint8_t* rx = granted_page(env, front_uint("rx-ring-ref"), true);
        if (!tx || !rx || front_key("request-rx-copy") != "1") return std::nullopt;
        BACK_RING_INIT(&tx_, reinterpret_cast<netif_tx_sring_t*>(tx), FRONT_PAGE_SIZE);
        BACK_RING_INIT(&rx_, reinterpret_cast<netif_rx_sring_t*>(rx), FRONT_PAGE_SIZE);
        port_ = front_uint("event-channel");
        return std::map<std::string, std::string>{};
    }

    void serve() override {
        serve_tx();
        serve_rx();
    }

  private:
    void serve_tx() {
        std::vector<netif_tx_request_t> chain;
        while (tx_.req_cons != tx_.sring->req_prod) {
            netif_tx_request_t req;
            std::memcpy(&req, RING_GET_REQUEST(&tx_, tx_.req_cons), sizeof(req));
            ++tx_.req_cons;
            chain.push_back(req);
            if (req.flags & NETTXF_more_data) continue;
            std::vector<uint8_t> frame;
            const size_t total = chain[0].size;
            for (size_t i = 0; i < chain.size(); ++i) {
                const netif_tx_request_t& r = chain[i];
                const uint8_t* page = granted_page(env, r.gref, false);
                const size_t n = i == 0 ? total - following(chain) : r.size;
                if (page) frame.insert(frame.end(), page + r.offset, page + r.offset + n);
                netif_tx_response_t* rsp = RING_GET_RESPONSE(&tx_, tx_.rsp_prod_pvt++);
                rsp->id = r.id;
                rsp->status = page ? NETIF_RSP_OKAY : NETIF_RSP_ERROR;
            }
            sent.push_back(frame);
            tx_chains.push_back(chain);
            chain.clear();
        }
        notify_if(&tx_);
    }
    static size_t following(const std::vector<netif_tx_request_t>& chain) {
        size_t n = 0;
        for (size_t i = 1; i < chain.size(); ++i) n += chain[i].size;
        return n;
    }

    void serve_rx() {
        while (!to_deliver.empty() && rx_.req_cons != rx_.sring->req_prod) {
            netif_rx_request_t req;
            std::memcpy(&req, RING_GET_REQUEST(&rx_, rx_.req_cons), sizeof(req));
            ++rx_.req_cons;
            RxSlot slot = to_deliver.front();
            to_deliver.pop_front();
            void* rsp = RING_GET_RESPONSE(&rx_, rx_.rsp_prod_pvt++);
            if (slot.extra) {
                netif_extra_info e{};
                e.type = XEN_NETIF_EXTRA_TYPE_GSO;
                e.flags = slot.flags;
                std::memcpy(rsp, &e, sizeof(e));
                continue;
            }
            uint8_t* page = granted_page(env, req.gref, true);
            ASSERT_NE(page, nullptr);
            std::memcpy(page + 16, slot.data.data(), slot.data.size());
            netif_rx_response_t r{req.id, 16, slot.flags,
                                  slot.status_override ? slot.status_override
                                                       : static_cast<int16_t>(slot.data.size())};
            std::memcpy(rsp, &r, sizeof(r));
        }
        notify_if(&rx_);
    }

    template <typename Ring>
    void notify_if(Ring* ring) {
        int notify = 0;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(ring, notify);
        if (notify) env.pending.insert(port_);
    }

    netif_tx_back_ring_t tx_{};
    netif_rx_back_ring_t rx_{};
    evtchn_port_t port_ = 0;
};

std::vector<uint8_t> bytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 13);
    return v;
}

class FrontNet : public ::testing::Test {
  protected:
    void start(std::map<std::string, std::string> features) {
        be_ = std::make_unique<FakeNetBack>(env_, std::move(features));
        env_.backend_step = [this] { be_->step(); };
        env_.init_grants(1);
        ASSERT_EQ(netfront_open(&nf_, XBF_FIRST_DEVICE), 0);
    }
    int recv(std::vector<uint8_t>& out) {
        out.assign(4096 * 4, 0);
        int n = netfront_recv(&nf_, out.data(), out.size(), 1000);
        if (n >= 0) out.resize(static_cast<size_t>(n));
        return n;
    }

    FakeFrontEnv env_;
    std::unique_ptr<FakeNetBack> be_;
    netfront nf_{};
};

TEST_F(FrontNet, ConnectsInCopyModeWithEveryRxBufferPosted) {
    start({{"feature-rx-copy", "1"}});
    const uint8_t mac[6] = {0x00, 0x16, 0x3e, 0x0a, 0x0b, 0x0c};
    EXPECT_EQ(std::memcmp(nf_.mac, mac, 6), 0);
    EXPECT_EQ(be_->front_key("request-rx-copy"), "1");
    EXPECT_EQ(be_->front_key("feature-rx-notify"), "1");
    EXPECT_EQ(be_->front_key("state"), "4");
    EXPECT_EQ(nf_.rx.sring->req_prod, unsigned{NETFRONT_RX_BUFS});
    EXPECT_FALSE(nf_.feature_sg);
    EXPECT_FALSE(env_.kicks.empty());  // the back-end is told to look at the rings
}

TEST_F(FrontNet, NeedsFeatureRxCopy) {
    be_ = std::make_unique<FakeNetBack>(env_, std::map<std::string, std::string>{});
    env_.backend_step = [this] { be_->step(); };
    env_.init_grants(1);
    EXPECT_EQ(netfront_open(&nf_, XBF_FIRST_DEVICE), -XEN_EOPNOTSUPP);
}

TEST_F(FrontNet, SendsAFrameInOneSlot) {
    start({{"feature-rx-copy", "1"}});
    auto f = bytes(60, 1);
    ASSERT_EQ(netfront_send(&nf_, f.data(), f.size()), 0);
    env_.backend_step();
    ASSERT_EQ(be_->sent.size(), 1u);
    EXPECT_EQ(be_->sent[0], f);
    ASSERT_EQ(be_->tx_chains[0].size(), 1u);
    EXPECT_EQ(be_->tx_chains[0][0].size, 60);
    EXPECT_EQ(be_->tx_chains[0][0].flags, 0);
}

TEST_F(FrontNet, LargeFramesTakeSeveralSlotsOnlyWithFeatureSg) {
    start({{"feature-rx-copy", "1"}, {"feature-sg", "1"}});
    auto f = bytes(9000, 2);
    ASSERT_EQ(netfront_send(&nf_, f.data(), f.size()), 0);
    env_.backend_step();
    ASSERT_EQ(be_->tx_chains.size(), 1u);
    const auto& chain = be_->tx_chains[0];
    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[0].size, 9000);  // the first slot carries the whole frame's size
    EXPECT_EQ(chain[0].flags, NETTXF_more_data);
    EXPECT_EQ(chain[1].size, 4096);
    EXPECT_EQ(chain[2].size, 9000 - 8192);
    EXPECT_EQ(chain[2].flags, 0);
    EXPECT_EQ(be_->sent[0], f);
}

TEST_F(FrontNet, WithoutFeatureSgLargeFramesAndRuntsAreRefused) {
    start({{"feature-rx-copy", "1"}});
    auto f = bytes(5000, 3);
    EXPECT_EQ(netfront_send(&nf_, f.data(), f.size()), -XEN_EINVAL);
    EXPECT_EQ(netfront_send(&nf_, f.data(), 13), -XEN_EINVAL);
}

TEST_F(FrontNet, TxBuffersComeBackWithTheirResponses) {
    start({{"feature-rx-copy", "1"}});
    auto f = bytes(100, 4);
    for (int i = 0; i < 3 * NETFRONT_TX_BUFS; ++i) ASSERT_EQ(netfront_send(&nf_, f.data(), f.size()), 0);
    env_.backend_step();
    EXPECT_EQ(be_->sent.size(), 3u * NETFRONT_TX_BUFS);
    EXPECT_EQ(nf_.tx_errors, 0u);
}

TEST_F(FrontNet, ReceivesFramesAndPostsTheirBuffersAgain) {
    start({{"feature-rx-copy", "1"}});
    std::vector<uint8_t> out;
    for (int i = 0; i < 2 * NETFRONT_RX_BUFS; ++i) {  // more frames than buffers
        auto f = bytes(64 + i, static_cast<uint8_t>(i));
        be_->to_deliver.push_back({f});
        ASSERT_EQ(recv(out), 64 + i);
        EXPECT_EQ(out, f);
    }
    EXPECT_EQ(nf_.rx.sring->req_prod, 3u * NETFRONT_RX_BUFS);
    EXPECT_EQ(recv(out), -XEN_ETIMEDOUT);
}

TEST_F(FrontNet, AFrameOverSeveralSlotsAndExtraInfo) {
    start({{"feature-rx-copy", "1"}});
    auto a = bytes(2000, 5), b = bytes(1000, 6);
    be_->to_deliver.push_back({a, NETRXF_more_data | NETRXF_extra_info});
    be_->to_deliver.push_back({{}, 0, 0, true});  // the extra-info slot, last of its kind
    be_->to_deliver.push_back({b, 0});
    std::vector<uint8_t> out;
    ASSERT_EQ(recv(out), 3000);
    std::vector<uint8_t> want = a;
    want.insert(want.end(), b.begin(), b.end());
    EXPECT_EQ(out, want);
    EXPECT_EQ(nf_.last_rx_flags, NETRXF_more_data | NETRXF_extra_info);
}

TEST_F(FrontNet, FramesWithAnErrorStatusAreSkippedAndCounted) {
    start({{"feature-rx-copy", "1"}});
    be_->to_deliver.push_back({bytes(10, 0), 0, NETIF_RSP_ERROR});
    be_->to_deliver.push_back({bytes(100, 0), 0, 5000});  // offset + status past the page
    auto good = bytes(80, 7);
    be_->to_deliver.push_back({good});
    std::vector<uint8_t> out;
    ASSERT_EQ(recv(out), 80);
    EXPECT_EQ(out, good);
    EXPECT_EQ(nf_.rx_errors, 2u);
}

TEST_F(FrontNet, ABackendProducingMoreResponsesThanRequestsIsBroken) {
    start({{"feature-rx-copy", "1"}});
    nf_.rx.sring->rsp_prod = nf_.rx.rsp_cons + NETFRONT_RX_BUFS + 1;
    std::vector<uint8_t> out;
    EXPECT_EQ(recv(out), -XEN_EIO);
}

TEST_F(FrontNet, CloseEndsEveryGrant) {
    start({{"feature-rx-copy", "1"}});
    ASSERT_EQ(netfront_close(&nf_), 0);
    EXPECT_EQ(gnt_refs_in_use(), 0u);
    EXPECT_EQ(be_->state(), XenbusStateClosed);
}

}  // namespace
}  // namespace pvhv::test
