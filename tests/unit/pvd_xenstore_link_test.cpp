// Unit tests of pvd's xenstore wiring (service + per-guest link) against fake guests: ring page
// in host memory, event channels through the real registry and dom0 ports, pvd's Asio loop.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>

#include "dom0-tools/pvd/pv_shutdown.h"
#include "dom0-tools/pvd/xenstore_link.h"
#include "dom0-tools/pvd/xenstore_service.h"
#include "dom0-tools/xenstore/testing/fake_guest.h"
#include "evtchn_test_fakes.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"

namespace pvhv::dom0 {
namespace {

using xs::testing::nul;

constexpr uint64_t kRingGfn = 0xfeff0;

// One guest: its event channels (shared_info in fake RAM), its ring page, its link.
struct Guest {
    Guest(DomId id, std::string name) : evtchn(id, 1), name(std::move(name)) {}
    pvhv::testing::FakeEvtchnGuest evtchn;
    std::string name;
    xs::testing::GuestRing ring;
    std::map<uint32_t, uint64_t> params;
    std::unique_ptr<XenstoreLink> link;
    std::vector<uint8_t> received;
    uint32_t req_id = 0;

    EvtchnPort port() const { return EvtchnPort{static_cast<uint32_t>(params.at(HVM_PARAM_STORE_EVTCHN))}; }
    // Puts a request in the ring and kicks dom0, as the guest's EVTCHNOP_send would.
    void send(uint32_t type, std::string_view payload) {
        ASSERT_TRUE(ring.push_all(xs::testing::request(type, payload, ++req_id)));
        kick();
    }
    void kick() { ASSERT_TRUE(evtchn.table->send(port())); }
    std::vector<xs::testing::Reply> replies() {
        auto b = ring.pop();
        received.insert(received.end(), b.begin(), b.end());
        return xs::testing::take_replies(received);
    }
    // Whether dom0 kicked us since the last call (and clears it, as the guest's handler would).
    bool kicked() {
        const bool p = evtchn.pending(port().value);
        if (p) {
            auto bit = evtchn.pending_word(port().value / 64) & ~(uint64_t{1} << (port().value % 64));
            (void)evtchn.mem.write(pvhv::testing::kSharedInfoGpa + offsetof(shared_info_t, evtchn_pending) +
                                       8 * (port().value / 64),
                                   bit);
        }
        evtchn.ack(VcpuId{0});
        return p;
    }
};

class XenstoreLinkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto c = Dom0EventChannels::create(registry_);
        ASSERT_TRUE(c) << c.error().message;
        channels_ = *c;
        auto s = XenstoreService::create(io_, channels_);
        ASSERT_TRUE(s) << s.error().message;
        service_ = std::move(*s);
    }
    void TearDown() override {
        for (auto& g : guests_) g->link.reset();
        settle();
        EXPECT_TRUE(service_->store().check_invariants());
        service_.reset();
        for (auto& g : guests_) registry_.remove(DomId{g->evtchn.table->domid()});
    }

    Guest& add_guest(uint16_t id, const std::string& name) {
        auto g = std::make_unique<Guest>(DomId{id}, name);
        EXPECT_TRUE(registry_.add(DomId{id}, g->evtchn.table));
        StoreGuest sg;
        sg.id = DomId{id};
        sg.name = name;
        sg.memory_kib = 32 * 1024;
        sg.vcpus = 2;
        sg.ring_page = g->ring.page();
        sg.ring_gfn = kRingGfn;
        sg.set_hvm_param = [p = &g->params](uint32_t i, uint64_t v) { (*p)[i] = v; };
        auto link = XenstoreLink::connect(*service_, sg);
        EXPECT_TRUE(link) << link.error().message;
        if (link) g->link = std::move(*link);
        guests_.push_back(std::move(g));
        settle();  // the fresh binding's first kick
        guests_.back()->kicked();
        return *guests_.back();
    }
    // Runs the loop until nothing is left to do.
    void settle() {
        for (int i = 0; i < 100; ++i) {
            io_.restart();
            if (io_.poll() == 0) return;
        }
    }
    std::string read(const std::string& path) {
        auto r = service_->toolstack().read(path);
        return r ? *r : "ERR:" + r.error().message;
    }

    boost::asio::io_context io_;
    DomainRegistry registry_;
    std::shared_ptr<Dom0EventChannels> channels_;
    std::unique_ptr<XenstoreService> service_;
    std::vector<std::unique_ptr<Guest>> guests_;
};

TEST_F(XenstoreLinkTest, Dom0HasItsOwnEntry) {
    EXPECT_EQ(read("/local/domain/0/name"), "Domain-0");
    EXPECT_EQ(read("/local/domain/0/domid"), "0");
}

TEST_F(XenstoreLinkTest, ConnectPublishesTheRingAndTheTreeAndBindsThePort) {
    Guest& g = add_guest(5, "guest");
    EXPECT_EQ(g.params.at(HVM_PARAM_STORE_PFN), kRingGfn);
    const EvtchnPort port = g.port();
    EXPECT_EQ(g.link->guest_port(), port);
    auto st = g.evtchn.table->status(port);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, PortState::Interdomain);
    EXPECT_EQ(st->remote_dom, kDom0);

    EXPECT_EQ(g.ring.intf().connection, uint32_t{XENSTORE_CONNECTED});
    EXPECT_EQ(g.ring.intf().server_features, uint32_t{XENSTORE_SERVER_FEATURE_ERROR});
    EXPECT_EQ(read("/local/domain/5/name"), "guest");
    EXPECT_EQ(read("/local/domain/5/domid"), "5");
    EXPECT_EQ(read("/local/domain/5/memory/target"), "32768");
    EXPECT_EQ(read("/local/domain/5/cpu/1/availability"), "online");
    EXPECT_EQ(read("/local/domain/5/store/port"), std::to_string(port.value));
    EXPECT_EQ(read("/local/domain/5/store/ring-ref"), std::to_string(kRingGfn));
    EXPECT_EQ(read("/local/domain/5/control/shutdown"), "");
}

TEST_F(XenstoreLinkTest, AGuestRequestIsAnsweredAndTheGuestKicked) {
    Guest& g = add_guest(5, "guest");
    g.send(XS_READ, nul("name"));
    settle();
    EXPECT_TRUE(g.kicked());
    auto r = g.replies();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, uint32_t{XS_READ});
    EXPECT_EQ(r[0].payload, "guest");
    settle();
    EXPECT_FALSE(g.kicked());  // nothing moved since
}

TEST_F(XenstoreLinkTest, PvControlNeedsAFirstRequest) {
    Guest& g = add_guest(5, "guest");
    EXPECT_FALSE(g.link->has_pv_control());
    g.send(XS_WRITE, nul("control/feature-poweroff") + "1");
    settle();
    EXPECT_TRUE(g.link->has_pv_control());
    EXPECT_EQ(read("/local/domain/5/control/feature-poweroff"), "1");
}

TEST_F(XenstoreLinkTest, ShutdownRequestFiresTheGuestsWatchAndItsAckIsSeen) {
    Guest& g = add_guest(5, "guest");
    g.send(XS_WATCH, nul("control/shutdown") + nul("tok"));
    settle();
    auto r = g.replies();
    ASSERT_EQ(r.size(), 2u);  // the ack, then the initial event
    EXPECT_EQ(r[1].type, uint32_t{XS_WATCH_EVENT});
    g.kicked();

    ASSERT_TRUE(g.link->request_shutdown(ShutdownReason::Reboot));
    EXPECT_EQ(read("/local/domain/5/control/shutdown"), "reboot");
    settle();  // output_ready was posted: the event reaches the ring and the guest is kicked
    EXPECT_TRUE(g.kicked());
    r = g.replies();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, uint32_t{XS_WATCH_EVENT});
    EXPECT_EQ(r[0].payload, nul("control/shutdown") + nul("tok"));

    // The guest acknowledges as Linux does: it clears the node.
    g.send(XS_WRITE, nul("control/shutdown"));
    settle();
    EXPECT_EQ(read("/local/domain/5/control/shutdown"), "");
    ASSERT_FALSE(g.link->request_shutdown(ShutdownReason::Crash));
}

TEST_F(XenstoreLinkTest, ARepliesLargerThanTheRingArriveAsTheGuestMakesRoom) {
    Guest& g = add_guest(5, "guest");
    // 40 children of ~40 bytes: a directory listing of ~1.6 KiB, over the 1 KiB ring.
    for (int i = 0; i < 40; ++i)
        ASSERT_TRUE(service_->toolstack().write(
            "/local/domain/5/data/a-rather-long-child-name-number-" + std::to_string(i), "x"));
    g.send(XS_DIRECTORY, nul("data"));
    settle();
    EXPECT_TRUE(g.replies().empty());  // only part of it fits
    for (int i = 0; i < 4 && g.received.size() < 1600; ++i) {
        g.kick();  // "I consumed": dom0 writes more
        settle();
        auto r = g.replies();
        if (!r.empty()) {
            ASSERT_EQ(r.size(), 1u);
            EXPECT_EQ(std::count(r[0].payload.begin(), r[0].payload.end(), '\0'), 40);
            return;
        }
    }
    FAIL() << "the directory listing never completed";
}

TEST_F(XenstoreLinkTest, HostileRingIndexesBreakOnlyThatGuestsConnection) {
    Guest& bad = add_guest(5, "bad");
    Guest& good = add_guest(6, "good");
    bad.send(XS_READ, nul("name"));
    settle();
    bad.replies();
    EXPECT_TRUE(bad.link->has_pv_control());

    bad.ring.intf().req_prod = bad.ring.intf().req_cons + 2 * XENSTORE_RING_SIZE;
    bad.kick();
    settle();
    EXPECT_EQ(bad.ring.intf().error, uint32_t{XENSTORE_ERROR_RINGIDX});
    EXPECT_TRUE(bad.kicked());  // told, so it can see the error field
    EXPECT_TRUE(bad.link->broken());
    EXPECT_FALSE(bad.link->has_pv_control());
    // Ignored from now on, whatever it sends.
    bad.ring.intf().req_prod = bad.ring.intf().req_cons;
    bad.send(XS_READ, nul("name"));
    settle();
    EXPECT_TRUE(bad.replies().empty());

    good.send(XS_READ, nul("name"));
    settle();
    auto r = good.replies();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].payload, "good");
    EXPECT_EQ(read("/local/domain/5/name"), "bad");  // its tree stays until it is destroyed
}

TEST_F(XenstoreLinkTest, AnOverlongMessageIsAProtocolError) {
    Guest& g = add_guest(5, "guest");
    xsd_sockmsg h{XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};
    ASSERT_TRUE(g.ring.push_all(std::span(reinterpret_cast<const uint8_t*>(&h), sizeof h)));
    g.kick();
    settle();
    EXPECT_EQ(g.ring.intf().error, uint32_t{XENSTORE_ERROR_PROTO});
    EXPECT_TRUE(g.link->broken());
}

TEST_F(XenstoreLinkTest, DestroyingTheLinkRemovesTheTreeAndReleasesTheDomain) {
    Guest& g = add_guest(5, "guest");
    int released = 0;
    ASSERT_TRUE(service_->toolstack().watch("@releaseDomain", "rel",
                                            [&](std::string_view, std::string_view) { ++released; }));
    settle();
    ASSERT_EQ(released, 1);  // the initial event
    const EvtchnPort port = g.port();
    g.link.reset();
    settle();
    EXPECT_EQ(released, 2);
    EXPECT_EQ(read("/local/domain/5/name").substr(0, 4), "ERR:");
    auto st = g.evtchn.table->status(port);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, PortState::Unbound);  // dom0's end closed
    EXPECT_TRUE(g.evtchn.table->send(port));   // a late kick goes nowhere, harmlessly
    settle();
    ASSERT_TRUE(service_->toolstack().unwatch("@releaseDomain", "rel"));
}

TEST_F(XenstoreLinkTest, AKickAfterTheLinkIsGoneIsHarmless) {
    Guest& g = add_guest(5, "guest");
    g.send(XS_READ, nul("name"));  // queued on the loop, not run yet
    g.link.reset();
    settle();
    EXPECT_TRUE(g.replies().empty());
}

TEST(PvShutdownCommand, XlWords) {
    EXPECT_EQ(shutdown_command(ShutdownReason::Poweroff), "poweroff");
    EXPECT_EQ(shutdown_command(ShutdownReason::Reboot), "reboot");
    EXPECT_FALSE(shutdown_command(ShutdownReason::Crash));
    EXPECT_FALSE(shutdown_command(ShutdownReason::Suspend));
}

}  // namespace
}  // namespace pvhv::dom0
