// Unit tests of the xenstore ring server: round trips, wrap-around, partial messages, a full
// response ring, events to other domains, and hostile indexes.
#include <gtest/gtest.h>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/ring.h"
#include "dom0-tools/xenstore/testing/fake_guest.h"

namespace pvhv::xs {
namespace {

using testing::args;
using testing::nul;

struct XenstoreRing : ::testing::Test {
    Xenstore xs;
    XsClient dom0{xs};
    testing::GuestRing ring;
    ConnId conn = 0;
    std::vector<uint8_t> received;

    void SetUp() override {
        ASSERT_TRUE(dom0.mkdir("/local/domain/3"));
        ASSERT_TRUE(dom0.set_perms("/local/domain/3", {{DomId{3}, kPermNone}}));
        init_ring_page(ring.page());
        conn = xs.introduce_domain(DomId{3});
    }
    void TearDown() override { EXPECT_TRUE(xs.check_invariants()); }

    RingResult service() { return service_ring(xs, conn, ring.page()); }
    std::vector<testing::Reply> replies() {
        auto b = ring.pop();
        received.insert(received.end(), b.begin(), b.end());
        return testing::take_replies(received);
    }
};

TEST_F(XenstoreRing, InitAdvertisesOnlyTheErrorFeature) {
    EXPECT_EQ(ring.intf().server_features, uint32_t{XENSTORE_SERVER_FEATURE_ERROR});
    EXPECT_EQ(ring.intf().connection, uint32_t{XENSTORE_CONNECTED});
    EXPECT_EQ(ring.intf().error, uint32_t{XENSTORE_ERROR_NONE});
}

TEST_F(XenstoreRing, RequestAndReplyRoundTrip) {
    ring.push(testing::request(XS_WRITE, nul("name") + "guest", 1));
    ring.push(testing::request(XS_READ, nul("name"), 2));
    auto r = service();
    EXPECT_TRUE(r.notify);
    EXPECT_FALSE(r.broken);
    EXPECT_EQ(ring.intf().req_cons, ring.intf().req_prod);
    auto rep = replies();
    ASSERT_EQ(rep.size(), 2u);
    EXPECT_EQ(rep[0].payload, nul("OK"));
    EXPECT_EQ(rep[1].req_id, 2u);
    EXPECT_EQ(rep[1].payload, "guest");
    EXPECT_FALSE(service().notify);  // nothing to do, no kick
}

TEST_F(XenstoreRing, WrapsAroundBothRings) {
    // Start the indexes just before a wrap of the 32-bit counters and of the 1 KiB ring.
    auto& i = ring.intf();
    i.req_cons = i.req_prod = 0xfffffff0u;
    i.rsp_cons = i.rsp_prod = 0xfffffffau;
    for (uint32_t n = 1; n <= 50; ++n) {
        const std::string v(n * 7 % 300, 'a' + n % 26);
        ASSERT_EQ(ring.push(testing::request(XS_WRITE, nul("k") + v, n)), kHeaderSize + 2 + v.size());
        ring.push(testing::request(XS_READ, nul("k"), 1000 + n));
        ASSERT_FALSE(service().broken);
        auto rep = replies();
        ASSERT_EQ(rep.size(), 2u) << n;
        EXPECT_EQ(rep[1].req_id, 1000 + n);
        EXPECT_EQ(rep[1].payload, v);
    }
}

TEST_F(XenstoreRing, PartialMessagesWaitForTheRest) {
    const auto msg = testing::request(XS_WRITE, nul("p") + std::string(200, 'x'), 9);
    ring.push(std::span(msg).first(10));  // half a header
    service();
    EXPECT_TRUE(replies().empty());
    ring.push(std::span(msg).subspan(10, 100));
    service();
    EXPECT_TRUE(replies().empty());
    ring.push(std::span(msg).subspan(110));
    service();
    auto rep = replies();
    ASSERT_EQ(rep.size(), 1u);
    EXPECT_EQ(rep[0].req_id, 9u);
    EXPECT_EQ(*dom0.read("/local/domain/3/p"), std::string(200, 'x'));
}

TEST_F(XenstoreRing, LargeRepliesWaitForRoomInTheResponseRing) {
    ASSERT_TRUE(dom0.write("/local/domain/3/big", std::string(3000, 'b')));
    ring.push(testing::request(XS_READ, nul("big"), 1));
    service();
    // Only a ring's worth is out; the guest consumes and kicks, and the rest follows.
    EXPECT_EQ(ring.intf().rsp_prod - ring.intf().rsp_cons, uint32_t{XENSTORE_RING_SIZE});
    std::vector<testing::Reply> rep;
    for (int k = 0; k < 5 && rep.empty(); ++k) {
        auto more = replies();
        rep.insert(rep.end(), more.begin(), more.end());
        service();
    }
    ASSERT_EQ(rep.size(), 1u);
    EXPECT_EQ(rep[0].payload, std::string(3000, 'b'));
}

TEST_F(XenstoreRing, EventsForAnotherDomainAreQueuedForItsRing) {
    ring.push(testing::request(XS_WATCH, args("control/shutdown", "ctl"), 1));
    service();
    ASSERT_EQ(replies().size(), 2u);  // ack + initial event
    ASSERT_TRUE(dom0.write("/local/domain/3/control/shutdown", "poweroff"));
    EXPECT_GT(xs.pending_output(conn), 0u);
    EXPECT_TRUE(service().notify);
    auto rep = replies();
    ASSERT_EQ(rep.size(), 1u);
    EXPECT_EQ(rep[0].type, uint32_t{XS_WATCH_EVENT});
    EXPECT_EQ(rep[0].payload, args("control/shutdown", "ctl"));
}

TEST_F(XenstoreRing, ProducerTooFarAheadBreaksTheConnection) {
    ring.intf().req_prod = ring.intf().req_cons + XENSTORE_RING_SIZE + 1;
    auto r = service();
    EXPECT_TRUE(r.broken);
    EXPECT_EQ(ring.intf().error, uint32_t{XENSTORE_ERROR_RINGIDX});
    EXPECT_TRUE(xs.is_broken(conn));
    EXPECT_TRUE(service().broken);  // stays broken, does nothing
    // The store and other domains carry on.
    EXPECT_TRUE(dom0.write("/still", "fine"));
}

TEST_F(XenstoreRing, ResponseConsumerPastProducerBreaksTheConnection) {
    ring.intf().rsp_cons = ring.intf().rsp_prod + 5;
    EXPECT_TRUE(service().broken);
    EXPECT_EQ(ring.intf().error, uint32_t{XENSTORE_ERROR_RINGIDX});
}

TEST_F(XenstoreRing, OversizedLengthIsAProtocolError) {
    xsd_sockmsg h{XS_READ, 1, 0, 0x10000};
    ring.push(std::span(reinterpret_cast<const uint8_t*>(&h), sizeof h));
    EXPECT_TRUE(service().broken);
    EXPECT_EQ(ring.intf().error, uint32_t{XENSTORE_ERROR_PROTO});
}

TEST_F(XenstoreRing, ReleaseClosesTheConnection) {
    xs.release_domain(DomId{3});
    ring.push(testing::request(XS_READ, nul("name"), 1));
    EXPECT_TRUE(service().broken);
}

TEST_F(XenstoreRing, BadPagesAreRefused) {
    std::vector<uint8_t> small(100);
    EXPECT_TRUE(service_ring(xs, conn, small).broken);
}

TEST_F(XenstoreRing, ManyRequestsInOneBurstAreAllAnswered) {
    // More requests than fit in the rsp ring at once: the server must stop reading until the
    // guest drains, and lose nothing.
    Quotas q;
    q.max_output_bytes = 512;
    xs.set_quotas(DomId{3}, q);
    ASSERT_TRUE(dom0.write("/local/domain/3/v", std::string(100, 'v')));
    uint32_t sent = 0, answered = 0;
    for (int round = 0; round < 200 && answered < 100; ++round) {
        while (sent < 100 && ring.push_all(testing::request(XS_READ, nul("v"), sent + 1))) ++sent;
        ASSERT_FALSE(service().broken);
        for (const auto& r : replies()) {
            EXPECT_EQ(r.req_id, answered + 1);
            ++answered;
        }
    }
    EXPECT_EQ(answered, 100u);
}

}  // namespace
}  // namespace pvhv::xs
