// Unit tests of __HYPERVISOR_event_channel_op: guest structs in, Xen's errors and results out.
#include <gtest/gtest.h>

#include <cstring>

#include "evtchn_test_fakes.h"
#include "hv/xen_public.h"
#include <xen/event_channel.h>

namespace pvhv {
namespace {

using testing::FakeEvtchnDomain;
using testing::FakeEvtchnGuest;
using testing::kEvtchnGuestRam;

constexpr uint64_t kArg = 0x8000;  // where each test puts the argument struct (paging off)

class EvtchnOp : public ::testing::Test {
protected:
    EvtchnOp() {
        dir.tables = {{0, dom0.table}, {1, ga.table}, {2, gb.table}};
    }

    // Issues EVTCHNOP `cmd` from `dom` with `s` as its argument; `s` is read back afterwards.
    template <class T>
    int64_t op(FakeEvtchnDomain& dom, uint64_t cmd, T& s, uint64_t where = kArg) {
        EXPECT_TRUE(dom.guest.mem.write(Gpa{kArg}, s));
        GuestLinearAccess guest(dom.guest.mem, PagingMode{});
        HypercallContext ctx{guest, dom, VcpuId{0}};
        const int64_t rc = do_event_channel_op(
            ctx, HypercallArgs{__HYPERVISOR_event_channel_op, {cmd, where, 0, 0, 0}});
        s = *dom.guest.mem.read<T>(Gpa{kArg});
        return rc;
    }
    int64_t raw(FakeEvtchnDomain& dom, uint64_t cmd, uint64_t where) {
        GuestLinearAccess guest(dom.guest.mem, PagingMode{});
        HypercallContext ctx{guest, dom, VcpuId{0}};
        return do_event_channel_op(ctx, HypercallArgs{__HYPERVISOR_event_channel_op, {cmd, where, 0, 0, 0}});
    }
    evtchn_status_t status(FakeEvtchnDomain& dom, uint32_t port, domid_t d = DOMID_SELF) {
        evtchn_status_t s{};
        s.dom = d;
        s.port = port;
        EXPECT_EQ(op(dom, EVTCHNOP_status, s), 0);
        return s;
    }
    uint32_t alloc_unbound(FakeEvtchnDomain& dom, domid_t remote) {
        evtchn_alloc_unbound_t a{DOMID_SELF, remote, 0};
        EXPECT_EQ(op(dom, EVTCHNOP_alloc_unbound, a), 0);
        return a.port;
    }

    FakeEvtchnGuest dom0{DomId{0}, 1}, ga{DomId{1}, 2}, gb{DomId{2}, 2};
    testing::FakeDirectory dir;
    FakeEvtchnDomain a{ga, dir}, b{gb, dir};
};

TEST_F(EvtchnOp, DomainWithoutEventChannelsGetsEnosys) {
    testing::FakeHypercallDomain plain;
    GuestLinearAccess guest(ga.mem, PagingMode{});
    HypercallContext ctx{guest, plain, VcpuId{0}};
    EXPECT_EQ(do_event_channel_op(ctx, HypercallArgs{32, {EVTCHNOP_send, kArg, 0, 0, 0}}), -XEN_ENOSYS);
}

TEST_F(EvtchnOp, AllocUnboundWritesThePortBackAndResolvesDomidSelf) {
    evtchn_alloc_unbound_t s{DOMID_SELF, DOMID_SELF, 0xdead};
    ASSERT_EQ(op(a, EVTCHNOP_alloc_unbound, s), 0);
    EXPECT_EQ(s.port, 1u);
    auto st = status(a, 1);
    EXPECT_EQ(st.status, uint32_t{EVTCHNSTAT_unbound});
    EXPECT_EQ(st.u.unbound.dom, 1u);  // DOMID_SELF means the caller
    EXPECT_EQ(st.vcpu, 0u);

    s = {1, 0, 0};  // the caller's own id works like DOMID_SELF
    ASSERT_EQ(op(a, EVTCHNOP_alloc_unbound, s), 0);
    EXPECT_EQ(s.port, 2u);
    EXPECT_EQ(status(a, 2).u.unbound.dom, 0u);
}

TEST_F(EvtchnOp, AllocUnboundForAnotherDomainNeedsPrivilege) {
    evtchn_alloc_unbound_t s{2, DOMID_SELF, 0};
    EXPECT_EQ(op(a, EVTCHNOP_alloc_unbound, s), -XEN_EPERM);
    s = {99, DOMID_SELF, 0};
    EXPECT_EQ(op(a, EVTCHNOP_alloc_unbound, s), -XEN_ESRCH);
    s = {DOMID_IO, DOMID_SELF, 0};
    EXPECT_EQ(op(a, EVTCHNOP_alloc_unbound, s), -XEN_ESRCH);
    EXPECT_TRUE(gb.table->dump().empty());

    a.privileged = true;
    s = {2, DOMID_SELF, 0};
    ASSERT_EQ(op(a, EVTCHNOP_alloc_unbound, s), 0);
    auto info = gb.table->status(EvtchnPort{s.port});
    EXPECT_EQ(info->state, PortState::Unbound);
    EXPECT_EQ(info->remote_dom, DomId{1});  // DOMID_SELF is the caller, not the target
}

TEST_F(EvtchnOp, InterdomainBetweenTwoGuestsLifecycle) {
    const uint32_t pb = alloc_unbound(b, 1);
    evtchn_bind_interdomain_t bind{2, pb, 0};
    ASSERT_EQ(op(a, EVTCHNOP_bind_interdomain, bind), 0);
    const uint32_t pa = bind.local_port;
    EXPECT_EQ(pa, 1u);
    auto sa = status(a, pa);
    EXPECT_EQ(sa.status, uint32_t{EVTCHNSTAT_interdomain});
    EXPECT_EQ(sa.u.interdomain.dom, 2u);
    EXPECT_EQ(sa.u.interdomain.port, pb);
    EXPECT_TRUE(ga.pending(pa));  // Xen raises the new local port

    evtchn_send_t send{pa};
    ASSERT_EQ(op(a, EVTCHNOP_send, send), 0);
    EXPECT_TRUE(gb.pending(pb));
    EXPECT_EQ(gb.upcall(VcpuId{0}), 1u);
    EXPECT_EQ(gb.sink.raised.size(), 1u);

    ga.ack(VcpuId{0});
    ga.delivery.clear_pending(EvtchnPort{pa});
    send.port = pb;
    ASSERT_EQ(op(b, EVTCHNOP_send, send), 0);
    EXPECT_TRUE(ga.pending(pa));

    evtchn_close_t close{pa};
    ASSERT_EQ(op(a, EVTCHNOP_close, close), 0);
    EXPECT_EQ(status(a, pa).status, uint32_t{EVTCHNSTAT_closed});
    auto sb = status(b, pb);
    EXPECT_EQ(sb.status, uint32_t{EVTCHNSTAT_unbound});
    EXPECT_EQ(sb.u.unbound.dom, 1u);
    EXPECT_EQ(op(a, EVTCHNOP_close, close), -XEN_EINVAL);
}

TEST_F(EvtchnOp, BindInterdomainErrors) {
    evtchn_bind_interdomain_t bind{7, 1, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_interdomain, bind), -XEN_ESRCH);
    bind = {2, 1, 0};  // nothing allocated on b
    EXPECT_EQ(op(a, EVTCHNOP_bind_interdomain, bind), -XEN_EINVAL);
    const uint32_t for_dom0 = alloc_unbound(b, 0);
    bind = {2, for_dom0, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_interdomain, bind), -XEN_EINVAL);  // not offered to a
    bind = {2, 0x10000, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_interdomain, bind), -XEN_EINVAL);
    EXPECT_TRUE(ga.table->dump().empty());
    // Loopback through DOMID_SELF.
    const uint32_t mine = alloc_unbound(a, DOMID_SELF);
    bind = {DOMID_SELF, mine, 0};
    ASSERT_EQ(op(a, EVTCHNOP_bind_interdomain, bind), 0);
    EXPECT_EQ(status(a, mine).u.interdomain.port, bind.local_port);
}

TEST_F(EvtchnOp, GuestBindsToAPortOfferedByDom0) {
    // A back-end in pvd offers a port through the C++ API; the guest binds it by hypercall.
    auto offer = dom0.table->alloc_unbound(DomId{2});
    evtchn_bind_interdomain_t bind{0, offer->value, 0};
    ASSERT_EQ(op(b, EVTCHNOP_bind_interdomain, bind), 0);
    ASSERT_TRUE(dom0.table->send(*offer));  // the back-end kicks the guest
    EXPECT_TRUE(gb.pending(bind.local_port));
}

TEST_F(EvtchnOp, BindVirqAndIpiThroughGuestStructs) {
    evtchn_bind_virq_t v{VIRQ_TIMER, 1, 0};
    ASSERT_EQ(op(a, EVTCHNOP_bind_virq, v), 0);
    auto s = status(a, v.port);
    EXPECT_EQ(s.status, uint32_t{EVTCHNSTAT_virq});
    EXPECT_EQ(s.u.virq, uint32_t{VIRQ_TIMER});
    EXPECT_EQ(s.vcpu, 1u);
    EXPECT_EQ(op(a, EVTCHNOP_bind_virq, v), -XEN_EEXIST);
    v = {NR_VIRQS, 0, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_virq, v), -XEN_EINVAL);
    v = {VIRQ_TIMER, 2, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_virq, v), -XEN_ENOENT);
    v = {VIRQ_DEBUGGER, 1, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_virq, v), -XEN_EINVAL);

    evtchn_bind_ipi_t ipi{1, 0};
    ASSERT_EQ(op(a, EVTCHNOP_bind_ipi, ipi), 0);
    s = status(a, ipi.port);
    EXPECT_EQ(s.status, uint32_t{EVTCHNSTAT_ipi});
    EXPECT_EQ(s.vcpu, 1u);
    ipi = {0xffffffff, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_ipi, ipi), -XEN_ENOENT);
}

TEST_F(EvtchnOp, BindVcpuMovesWhereEventsArrive) {
    const uint32_t p = alloc_unbound(a, 2);
    evtchn_bind_vcpu_t bv{p, 1};
    ASSERT_EQ(op(a, EVTCHNOP_bind_vcpu, bv), 0);
    EXPECT_EQ(status(a, p).vcpu, 1u);
    bv = {p, 2};
    EXPECT_EQ(op(a, EVTCHNOP_bind_vcpu, bv), -XEN_ENOENT);
    bv = {4096, 1};
    EXPECT_EQ(op(a, EVTCHNOP_bind_vcpu, bv), -XEN_EINVAL);
}

TEST_F(EvtchnOp, MaskedIpiIsRaisedByUnmask) {
    evtchn_bind_ipi_t ipi{1, 0};
    ASSERT_EQ(op(a, EVTCHNOP_bind_ipi, ipi), 0);
    ga.set_mask(ipi.port, true);
    evtchn_send_t send{ipi.port};
    ASSERT_EQ(op(a, EVTCHNOP_send, send), 0);
    EXPECT_TRUE(ga.pending(ipi.port));
    EXPECT_TRUE(ga.sink.raised.empty());
    evtchn_unmask_t um{ipi.port};
    ASSERT_EQ(op(a, EVTCHNOP_unmask, um), 0);
    EXPECT_FALSE(ga.masked(ipi.port));
    EXPECT_EQ(ga.upcall(VcpuId{1}), 1u);
    ASSERT_EQ(ga.sink.raised.size(), 1u);
    EXPECT_EQ(ga.sink.raised[0], VcpuId{1});
    um.port = 4096;
    EXPECT_EQ(op(a, EVTCHNOP_unmask, um), -XEN_EINVAL);
    send.port = 4096;
    EXPECT_EQ(op(a, EVTCHNOP_send, send), -XEN_EINVAL);
}

TEST_F(EvtchnOp, StatusChecksDomainPortThenPermission) {
    EXPECT_EQ(status(a, 0).status, uint32_t{EVTCHNSTAT_closed});  // reserved port 0
    evtchn_status_t s{};
    s.dom = DOMID_SELF;
    s.port = 4096;
    EXPECT_EQ(op(a, EVTCHNOP_status, s), -XEN_EINVAL);
    s.dom = 55;
    s.port = 1;
    EXPECT_EQ(op(a, EVTCHNOP_status, s), -XEN_ESRCH);
    s.dom = 2;
    s.port = 4096;
    EXPECT_EQ(op(a, EVTCHNOP_status, s), -XEN_EINVAL);  // as Xen: the port before XSM
    s.port = 1;
    EXPECT_EQ(op(a, EVTCHNOP_status, s), -XEN_EPERM);
    a.privileged = true;
    alloc_unbound(b, 0);
    auto st = status(a, 1, 2);
    EXPECT_EQ(st.status, uint32_t{EVTCHNSTAT_unbound});
}

TEST_F(EvtchnOp, ResetClosesTheCallersPorts) {
    const uint32_t pb = alloc_unbound(b, 1);
    evtchn_bind_interdomain_t bind{2, pb, 0};
    ASSERT_EQ(op(a, EVTCHNOP_bind_interdomain, bind), 0);
    evtchn_bind_ipi_t ipi{0, 0};
    ASSERT_EQ(op(a, EVTCHNOP_bind_ipi, ipi), 0);

    evtchn_reset_t r{2};
    EXPECT_EQ(op(a, EVTCHNOP_reset, r), -XEN_EPERM);
    r.dom = 77;
    EXPECT_EQ(op(a, EVTCHNOP_reset, r), -XEN_ESRCH);
    r.dom = DOMID_SELF;
    EXPECT_EQ(op(a, 14 /* EVTCHNOP_reset_cont */, r), -XEN_EBUSY);  // no reset in progress
    EXPECT_EQ(ga.table->dump().size(), 2u);
    ASSERT_EQ(op(a, EVTCHNOP_reset, r), 0);
    EXPECT_TRUE(ga.table->dump().empty());
    EXPECT_FALSE(ga.pending(bind.local_port));
    EXPECT_EQ(status(b, pb).status, uint32_t{EVTCHNSTAT_unbound});
    a.privileged = true;
    r.dom = 2;
    EXPECT_EQ(op(a, EVTCHNOP_reset, r), -XEN_EINVAL);  // Xen: only a paused foreign domain
}

TEST_F(EvtchnOp, UnimplementedSubOps) {
    evtchn_bind_pirq_t pirq{1, 0, 0};
    EXPECT_EQ(op(a, EVTCHNOP_bind_pirq, pirq), -XEN_ENOSYS);
    evtchn_init_control_t ic{};
    EXPECT_EQ(op(a, EVTCHNOP_init_control, ic), -XEN_ENOSYS);
    evtchn_expand_array_t ea{};
    EXPECT_EQ(op(a, EVTCHNOP_expand_array, ea), -XEN_ENOSYS);
    evtchn_set_priority_t sp{1, 0};
    EXPECT_EQ(op(a, EVTCHNOP_set_priority, sp), -XEN_ENOSYS);
    sp.port = 4096;
    EXPECT_EQ(op(a, EVTCHNOP_set_priority, sp), -XEN_EINVAL);
    evtchn_send_t dummy{0};
    EXPECT_EQ(op(a, 15, dummy), -XEN_ENOSYS);
    EXPECT_EQ(op(a, (uint64_t{1} << 32) | EVTCHNOP_send, dummy), -XEN_ENOSYS);
}

TEST_F(EvtchnOp, BadArgumentAddressesFaultAndChangeNothing) {
    const uint64_t past_end = kEvtchnGuestRam - 1;  // every struct straddles the end of RAM
    for (uint64_t cmd : std::initializer_list<uint64_t>{EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq, EVTCHNOP_close, EVTCHNOP_send,
                         EVTCHNOP_status, EVTCHNOP_alloc_unbound, EVTCHNOP_bind_ipi,
                         EVTCHNOP_bind_vcpu, EVTCHNOP_unmask, EVTCHNOP_reset, uint64_t{14},
                         EVTCHNOP_set_priority}) {
        EXPECT_EQ(raw(a, cmd, past_end), -XEN_EFAULT) << cmd;
        EXPECT_EQ(raw(a, cmd, ~uint64_t{0} - 2), -XEN_EFAULT) << cmd;
    }
    EXPECT_TRUE(ga.table->dump().empty());
}

// Output structs go back through the guest's page tables: a read-only mapping faults after
// the port was made, which stays allocated (Xen: "cleaning up here would be a mess").
TEST_F(EvtchnOp, ReadOnlyOutputBufferFaultsAfterTheWork) {
    const uint64_t P = 1, W = 2;
    auto put = [&](uint64_t gpa, uint64_t v) { ASSERT_TRUE(ga.mem.write(Gpa{gpa}, v)); };
    put(0x1000, 0x2000 | P | W);  // PML4[0]
    put(0x2000, 0x3000 | P | W);  // PDPT[0]
    put(0x3000, 0x4000 | P | W);  // PD[0]
    put(0x4000 + 8 * 8, 0x8000 | P);  // PT[8]: linear 0x8000 -> gpa 0x8000, read-only
    const PagingMode long_mode{.cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0x500};
    evtchn_alloc_unbound_t s{DOMID_SELF, 0, 0};
    ASSERT_TRUE(ga.mem.write(Gpa{kArg}, s));
    GuestLinearAccess guest(ga.mem, long_mode);
    HypercallContext ctx{guest, a, VcpuId{0}};
    EXPECT_EQ(do_event_channel_op(ctx, HypercallArgs{32, {EVTCHNOP_alloc_unbound, kArg, 0, 0, 0}}),
              -XEN_EFAULT);
    EXPECT_EQ(ga.table->dump().size(), 1u);
    EXPECT_EQ(ga.mem.read<evtchn_alloc_unbound_t>(Gpa{kArg})->port, 0u);
}

}  // namespace
}  // namespace pvhv
