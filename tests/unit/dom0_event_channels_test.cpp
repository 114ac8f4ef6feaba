// Unit tests of the domain registry and dom0's eventfd-delivered event channels.
#include <gtest/gtest.h>

#include <poll.h>

#include "evtchn_test_fakes.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"

namespace pvhv {
namespace {

using testing::FakeEvtchnGuest;

bool readable(int fd) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

class Dom0EventChannelsTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(registry.add(DomId{1}, guest.table));
        auto c = Dom0EventChannels::create(registry);
        ASSERT_TRUE(c) << c.error().message;
        dom0 = *c;
    }
    DomainRegistry registry;
    FakeEvtchnGuest guest{DomId{1}, 1};
    std::shared_ptr<Dom0EventChannels> dom0;
};

TEST(DomainRegistry, AddFindRemove) {
    DomainRegistry r;
    FakeEvtchnGuest g{DomId{3}, 1};
    EXPECT_EQ(r.find_event_channels(DomId{3}), nullptr);
    ASSERT_TRUE(r.add(DomId{3}, g.table));
    EXPECT_EQ(r.find_event_channels(DomId{3}), g.table);
    auto again = r.add(DomId{3}, g.table);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().xen_errno, XEN_EEXIST);
    r.remove(DomId{3});
    r.remove(DomId{3});  // idempotent
    EXPECT_EQ(r.find_event_channels(DomId{3}), nullptr);
}

TEST_F(Dom0EventChannelsTest, RegistersItselfAsDomainZeroAndLeavesOnDestruction) {
    EXPECT_EQ(registry.find_event_channels(kDom0).get(), &dom0->table());
    dom0.reset();
    EXPECT_EQ(registry.find_event_channels(kDom0), nullptr);
}

TEST_F(Dom0EventChannelsTest, ToolstackPortIsUnboundForDom0Only) {
    auto p = dom0->alloc_unbound_in(DomId{1});
    ASSERT_TRUE(p);
    auto st = guest.table->status(*p);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, PortState::Unbound);
    EXPECT_EQ(st->remote_dom, kDom0);
    auto none = dom0->alloc_unbound_in(DomId{9});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().xen_errno, XEN_ESRCH);
    // dom0 cannot allocate in its own table through this path.
    EXPECT_FALSE(dom0->alloc_unbound_in(kDom0));
}

TEST_F(Dom0EventChannelsTest, GuestSendWritesTheEventfdAndNotifyRaisesTheGuest) {
    auto gp = dom0->alloc_unbound_in(DomId{1});
    ASSERT_TRUE(gp);
    auto port = dom0->bind_interdomain(DomId{1}, *gp);
    ASSERT_TRUE(port) << port.error().message;
    EXPECT_EQ(port->remote_domain(), DomId{1});
    EXPECT_EQ(port->remote_port(), *gp);
    // The first kick of a fresh binding, as Xen marks the new port pending.
    EXPECT_TRUE(readable(port->fd()));
    EXPECT_EQ(port->consume(), 1u);
    EXPECT_FALSE(readable(port->fd()));
    EXPECT_EQ(port->consume(), 0u);

    ASSERT_TRUE(guest.table->send(*gp));
    ASSERT_TRUE(guest.table->send(*gp));
    EXPECT_EQ(port->consume(), 2u);  // an eventfd counts; a back-end handles both at once

    guest.sink.raised.clear();
    ASSERT_TRUE(port->notify());
    EXPECT_TRUE(guest.pending(gp->value));
    EXPECT_EQ(guest.sink.raised.size(), 1u);
}

TEST_F(Dom0EventChannelsTest, ClosingTheDom0PortUnbindsTheGuestEnd) {
    auto gp = dom0->alloc_unbound_in(DomId{1});
    ASSERT_TRUE(gp);
    {
        auto port = dom0->bind_interdomain(DomId{1}, *gp);
        ASSERT_TRUE(port);
        Dom0Port moved = std::move(*port);
        EXPECT_EQ(guest.table->status(*gp)->state, PortState::Interdomain);
    }
    auto st = guest.table->status(*gp);
    EXPECT_EQ(st->state, PortState::Unbound);
    EXPECT_EQ(st->remote_dom, kDom0);
    // Bindable again (a back-end that reconnects).
    EXPECT_TRUE(dom0->bind_interdomain(DomId{1}, *gp));
}

TEST_F(Dom0EventChannelsTest, RefusesPortsNotOfferedToDom0) {
    auto other = guest.table->alloc_unbound(DomId{7});
    ASSERT_TRUE(other);
    auto r = dom0->bind_interdomain(DomId{1}, *other);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().xen_errno, XEN_EINVAL);
    EXPECT_FALSE(dom0->bind_interdomain(DomId{1}, EvtchnPort{4095}));
    EXPECT_EQ(dom0->bind_interdomain(DomId{5}, EvtchnPort{1}).error().xen_errno, XEN_ESRCH);
}

TEST_F(Dom0EventChannelsTest, AGuestThatGoesAwayLeavesADeadPortNotACrash) {
    auto gp = dom0->alloc_unbound_in(DomId{1});
    auto port = dom0->bind_interdomain(DomId{1}, *gp);
    ASSERT_TRUE(port);
    (void)port->consume();
    registry.remove(DomId{1});
    guest.table->destroy();
    guest.sink.raised.clear();
    // As in Xen, dom0's end is unbound now and a send on it is dropped, successfully.
    EXPECT_EQ(dom0->table().status(port->port())->state, PortState::Unbound);
    EXPECT_TRUE(port->notify());
    EXPECT_TRUE(guest.sink.raised.empty());
}

}  // namespace
}  // namespace pvhv
