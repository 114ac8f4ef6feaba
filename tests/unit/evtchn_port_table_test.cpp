// Unit tests of the event-channel port table: Xen's state machine, errors and locking.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "hv/evtchn/port_table.h"
#include "hv/xen_public.h"

namespace pvhv {
namespace {

// Records what the table asks of its delivery, and keeps pending bits like a 2-level page.
class RecordingDelivery : public PortDelivery {
public:
    struct Call {
        char what;  // 's' set_pending, 'c' clear_pending, 'u' unmask
        uint32_t port;
        uint32_t vcpu;
        bool operator==(const Call&) const = default;
    };
    void set_pending(EvtchnPort p, VcpuId v) override {
        calls.push_back({'s', p.value, v.value});
        pending.insert(p.value);
    }
    void clear_pending(EvtchnPort p) override {
        calls.push_back({'c', p.value, 0});
        pending.erase(p.value);
    }
    void unmask(EvtchnPort p, VcpuId v) override { calls.push_back({'u', p.value, v.value}); }
    bool is_pending(EvtchnPort p) const override { return pending.count(p.value) != 0; }
    bool is_masked(EvtchnPort) const override { return false; }

    std::vector<Call> sets() const {
        std::vector<Call> out;
        for (const Call& c : calls)
            if (c.what == 's') out.push_back(c);
        return out;
    }

    std::vector<Call> calls;
    std::set<uint32_t> pending;
};

using Call = RecordingDelivery::Call;

std::shared_ptr<PortTable> make(DomId id, uint32_t vcpus, PortDelivery* d) {
    auto t = PortTable::create(id, vcpus, d);
    EXPECT_TRUE(t);
    return *t;
}

int errno_of(const auto& r) { return r ? 0 : r.error().xen_errno; }

class EvtchnPortTable : public ::testing::Test {
protected:
    RecordingDelivery da, db;
    std::shared_ptr<PortTable> a = make(DomId{1}, 2, &da);
    std::shared_ptr<PortTable> b = make(DomId{2}, 4, &db);

    // b offers a port to a, a binds it: returns {a's port, b's port}.
    std::pair<EvtchnPort, EvtchnPort> connect() {
        auto pb = b->alloc_unbound(DomId{1});
        EXPECT_TRUE(pb);
        auto pa = PortTable::bind_interdomain(*a, *b, *pb);
        EXPECT_TRUE(pa);
        return {*pa, *pb};
    }
};

TEST_F(EvtchnPortTable, CreateRejectsZeroVcpus) {
    EXPECT_EQ(errno_of(PortTable::create(DomId{3}, 0, nullptr)), XEN_EINVAL);
}

TEST_F(EvtchnPortTable, AllocUnboundStartsAtPortOneAndReportsStatus) {
    EXPECT_EQ(a->alloc_unbound(DomId{5})->value, 1u);
    EXPECT_EQ(a->alloc_unbound(DomId{0})->value, 2u);
    auto s = a->status(EvtchnPort{1});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state, PortState::Unbound);
    EXPECT_EQ(s->remote_dom, DomId{5});
    EXPECT_EQ(s->vcpu, VcpuId{0});
    EXPECT_EQ(a->status(EvtchnPort{0})->state, PortState::Reserved);
    EXPECT_EQ(a->status(EvtchnPort{3})->state, PortState::Free);
    EXPECT_EQ(a->status(EvtchnPort{4095})->state, PortState::Free);  // valid before first use
    EXPECT_TRUE(a->unmask(EvtchnPort{4095}));
    EXPECT_EQ(errno_of(a->status(EvtchnPort{kEvtchnPorts2L})), XEN_EINVAL);
    // Allocating raised nothing; the unmask of the never-used port went through.
    EXPECT_EQ(da.calls, (std::vector<Call>{{'u', 4095, 0}}));
}

TEST_F(EvtchnPortTable, BindInterdomainConnectsBothEndsAndRaisesTheNewPort) {
    auto [pa, pb] = connect();
    auto sa = *a->status(pa);
    auto sb = *b->status(pb);
    EXPECT_EQ(sa.state, PortState::Interdomain);
    EXPECT_EQ(sa.remote_dom, DomId{2});
    EXPECT_EQ(sa.remote_port, pb);
    EXPECT_EQ(sb.state, PortState::Interdomain);
    EXPECT_EQ(sb.remote_dom, DomId{1});
    EXPECT_EQ(sb.remote_port, pa);
    // Events sent to the unbound end were dropped, so Xen raises the new local port.
    EXPECT_EQ(da.sets(), (std::vector<Call>{{'s', pa.value, 0}}));
    EXPECT_TRUE(db.sets().empty());
}

TEST_F(EvtchnPortTable, BindInterdomainErrors) {
    auto other = b->alloc_unbound(DomId{9});  // offered to domain 9, not to a
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, *other)), XEN_EINVAL);
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, EvtchnPort{77})), XEN_EINVAL);  // free
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, EvtchnPort{0})), XEN_EINVAL);
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, EvtchnPort{kEvtchnPorts2L})), XEN_EINVAL);
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, EvtchnPort{0xffffffff})), XEN_EINVAL);
    auto [pa, pb] = connect();
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, pb)), XEN_EINVAL);  // already bound
    (void)pa;
    EXPECT_TRUE(a->dump().size() == 1);  // failed binds leave no half-made port behind
}

TEST_F(EvtchnPortTable, SendInterdomainRaisesThePeerPortOnItsNotifyVcpu) {
    auto [pa, pb] = connect();
    da.calls.clear();
    ASSERT_TRUE(b->bind_vcpu(pb, VcpuId{3}));
    ASSERT_TRUE(a->send(pa));
    EXPECT_EQ(db.sets(), (std::vector<Call>{{'s', pb.value, 3}}));
    EXPECT_TRUE(da.sets().empty());
    ASSERT_TRUE(b->send(pb));  // from the higher domid: locks are retaken in domid order
    EXPECT_EQ(da.sets(), (std::vector<Call>{{'s', pa.value, 0}}));
}

TEST_F(EvtchnPortTable, ClosingOneEndReturnsTheOtherToUnbound) {
    auto [pa, pb] = connect();
    ASSERT_TRUE(b->bind_vcpu(pb, VcpuId{2}));
    ASSERT_TRUE(a->close(pa));
    EXPECT_EQ(a->status(pa)->state, PortState::Free);
    EXPECT_EQ(da.calls.back(), (Call{'c', pa.value, 0}));  // the freed port's pending bit goes
    auto sb = *b->status(pb);
    EXPECT_EQ(sb.state, PortState::Unbound);
    EXPECT_EQ(sb.remote_dom, DomId{1});  // the closer may bind again
    EXPECT_EQ(sb.vcpu, VcpuId{2});       // the survivor keeps its notify vCPU
    db.calls.clear();
    EXPECT_TRUE(b->send(pb));  // unbound: dropped without error
    EXPECT_TRUE(db.calls.empty());
    EXPECT_EQ(errno_of(a->send(pa)), XEN_EINVAL);
    EXPECT_EQ(errno_of(a->close(pa)), XEN_EINVAL);
    // a re-binds the same remote port.
    auto again = PortTable::bind_interdomain(*a, *b, pb);
    ASSERT_TRUE(again);
    EXPECT_EQ(b->status(pb)->remote_port, *again);
}

TEST_F(EvtchnPortTable, ClosingFromTheHigherDomidSide) {
    auto [pa, pb] = connect();
    ASSERT_TRUE(b->close(pb));
    EXPECT_EQ(b->status(pb)->state, PortState::Free);
    auto sa = *a->status(pa);
    EXPECT_EQ(sa.state, PortState::Unbound);
    EXPECT_EQ(sa.remote_dom, DomId{2});
}

TEST_F(EvtchnPortTable, LoopbackInterdomainWithinOneTable) {
    auto p = a->alloc_unbound(DomId{1});
    auto q = PortTable::bind_interdomain(*a, *a, *p);
    ASSERT_TRUE(q);
    EXPECT_NE(*p, *q);
    da.calls.clear();
    ASSERT_TRUE(a->send(*q));
    EXPECT_EQ(da.sets(), (std::vector<Call>{{'s', p->value, 0}}));
    ASSERT_TRUE(a->close(*p));
    auto sq = *a->status(*q);
    EXPECT_EQ(sq.state, PortState::Unbound);
    EXPECT_EQ(sq.remote_dom, DomId{1});
}

TEST_F(EvtchnPortTable, BindVirqRules) {
    EXPECT_EQ(errno_of(b->bind_virq(kNrVirqs, VcpuId{0})), XEN_EINVAL);
    EXPECT_EQ(errno_of(b->bind_virq(0xffffffff, VcpuId{0})), XEN_EINVAL);
    // Global VIRQs bind on vCPU 0 only; that check comes before the vCPU range check.
    EXPECT_EQ(errno_of(b->bind_virq(VIRQ_CON_RING, VcpuId{1})), XEN_EINVAL);
    EXPECT_EQ(errno_of(b->bind_virq(VIRQ_ARCH_0, VcpuId{99})), XEN_EINVAL);
    EXPECT_EQ(errno_of(b->bind_virq(VIRQ_TIMER, VcpuId{4})), XEN_ENOENT);

    auto t1 = b->bind_virq(VIRQ_TIMER, VcpuId{1});
    ASSERT_TRUE(t1);
    EXPECT_EQ(errno_of(b->bind_virq(VIRQ_TIMER, VcpuId{1})), XEN_EEXIST);  // one per (virq, vcpu)
    auto t0 = b->bind_virq(VIRQ_TIMER, VcpuId{0});
    ASSERT_TRUE(t0);
    EXPECT_NE(*t0, *t1);
    auto s = *b->status(*t1);
    EXPECT_EQ(s.state, PortState::Virq);
    EXPECT_EQ(s.virq, uint32_t{VIRQ_TIMER});
    EXPECT_EQ(s.vcpu, VcpuId{1});

    EXPECT_EQ(errno_of(b->send(*t1)), XEN_EINVAL);                // guests cannot send on a VIRQ
    EXPECT_EQ(errno_of(b->bind_vcpu(*t1, VcpuId{2})), XEN_EINVAL);  // per-vCPU VIRQs stay put

    EXPECT_TRUE(b->send_virq(VIRQ_TIMER, VcpuId{1}));
    EXPECT_EQ(db.sets().back(), (Call{'s', t1->value, 1}));
    EXPECT_FALSE(b->send_virq(VIRQ_TIMER, VcpuId{2}));  // nothing bound there

    ASSERT_TRUE(b->close(*t1));
    EXPECT_TRUE(b->bind_virq(VIRQ_TIMER, VcpuId{1}));  // closing frees the (virq, vcpu) slot
}

TEST_F(EvtchnPortTable, GlobalVirqMovesWithBindVcpu) {
    auto p = b->bind_virq(VIRQ_ARGO, VcpuId{0});
    ASSERT_TRUE(p);
    ASSERT_TRUE(b->bind_vcpu(*p, VcpuId{3}));
    EXPECT_EQ(b->status(*p)->vcpu, VcpuId{3});
    // Raised on its notify vCPU; the vcpu argument does not matter for a global VIRQ.
    EXPECT_TRUE(b->send_virq(VIRQ_ARGO, VcpuId{1}));
    EXPECT_EQ(db.sets().back(), (Call{'s', p->value, 3}));
    EXPECT_EQ(errno_of(b->bind_virq(VIRQ_ARGO, VcpuId{0})), XEN_EEXIST);
    ASSERT_TRUE(b->close(*p));  // recorded on vCPU 0 even though it moved
    EXPECT_TRUE(b->bind_virq(VIRQ_ARGO, VcpuId{0}));
}

TEST_F(EvtchnPortTable, BindIpiAndSend) {
    EXPECT_EQ(errno_of(b->bind_ipi(VcpuId{4})), XEN_ENOENT);
    auto p = b->bind_ipi(VcpuId{2});
    ASSERT_TRUE(p);
    auto s = *b->status(*p);
    EXPECT_EQ(s.state, PortState::Ipi);
    EXPECT_EQ(s.vcpu, VcpuId{2});
    ASSERT_TRUE(b->send(*p));
    EXPECT_EQ(db.sets(), (std::vector<Call>{{'s', p->value, 2}}));
    EXPECT_EQ(errno_of(b->bind_vcpu(*p, VcpuId{1})), XEN_EINVAL);  // IPIs are not movable
}

TEST_F(EvtchnPortTable, BindVcpuRules) {
    auto u = a->alloc_unbound(DomId{2});
    EXPECT_EQ(errno_of(a->bind_vcpu(*u, VcpuId{2})), XEN_ENOENT);
    EXPECT_EQ(errno_of(a->bind_vcpu(EvtchnPort{kEvtchnPorts2L}, VcpuId{9})), XEN_ENOENT);  // vcpu first
    EXPECT_EQ(errno_of(a->bind_vcpu(EvtchnPort{kEvtchnPorts2L}, VcpuId{1})), XEN_EINVAL);
    EXPECT_EQ(errno_of(a->bind_vcpu(EvtchnPort{50}, VcpuId{1})), XEN_EINVAL);  // free
    EXPECT_EQ(errno_of(a->bind_vcpu(EvtchnPort{0}, VcpuId{1})), XEN_EINVAL);   // reserved
    ASSERT_TRUE(a->bind_vcpu(*u, VcpuId{1}));
    EXPECT_EQ(a->status(*u)->vcpu, VcpuId{1});
    ASSERT_TRUE(a->close(*u));
    auto again = a->alloc_unbound(DomId{2});
    EXPECT_EQ(*again, *u);
    EXPECT_EQ(a->status(*again)->vcpu, VcpuId{0});  // a freed port forgets its vCPU
}

TEST_F(EvtchnPortTable, CloseAndSendErrors) {
    EXPECT_EQ(errno_of(a->close(EvtchnPort{0})), XEN_EINVAL);
    EXPECT_EQ(errno_of(a->close(EvtchnPort{1})), XEN_EINVAL);
    EXPECT_EQ(errno_of(a->close(EvtchnPort{kEvtchnPorts2L})), XEN_EINVAL);
    EXPECT_EQ(errno_of(a->send(EvtchnPort{0})), XEN_EINVAL);
    EXPECT_EQ(errno_of(a->send(EvtchnPort{1})), XEN_EINVAL);
    EXPECT_EQ(errno_of(a->send(EvtchnPort{0xffffffff})), XEN_EINVAL);
    EXPECT_TRUE(da.calls.empty());
}

TEST_F(EvtchnPortTable, UnmaskPassesTheNotifyVcpuForAnyPortInRange) {
    auto p = b->bind_ipi(VcpuId{3});
    ASSERT_TRUE(b->unmask(*p));
    ASSERT_TRUE(b->unmask(EvtchnPort{100}));  // free ports too, as Xen
    EXPECT_EQ(db.calls, (std::vector<Call>{{'u', p->value, 3}, {'u', 100, 0}}));
    EXPECT_EQ(errno_of(b->unmask(EvtchnPort{kEvtchnPorts2L})), XEN_EINVAL);
}

TEST_F(EvtchnPortTable, AllPortsInUseGivesEnospcAndTheLowestFreePortIsReused) {
    for (uint32_t i = 1; i < kEvtchnPorts2L; ++i) ASSERT_EQ(a->alloc_unbound(DomId{2})->value, i);
    EXPECT_EQ(errno_of(a->alloc_unbound(DomId{2})), XEN_ENOSPC);
    EXPECT_EQ(errno_of(a->bind_ipi(VcpuId{0})), XEN_ENOSPC);
    EXPECT_EQ(errno_of(a->bind_virq(VIRQ_TIMER, VcpuId{0})), XEN_ENOSPC);
    auto pb = b->alloc_unbound(DomId{1});
    // Xen allocates the local port first: a full table says -ENOSPC even for a bad remote port.
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, EvtchnPort{4000})), XEN_ENOSPC);
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, *pb)), XEN_ENOSPC);
    ASSERT_TRUE(a->close(EvtchnPort{100}));
    ASSERT_TRUE(a->close(EvtchnPort{4095}));
    EXPECT_EQ(a->bind_ipi(VcpuId{1})->value, 100u);
    EXPECT_EQ(a->bind_ipi(VcpuId{1})->value, 4095u);
    EXPECT_EQ(a->dump().size(), kEvtchnPorts2L - 1);
}

TEST_F(EvtchnPortTable, ResetClosesEveryPortAndUnbindsPeers) {
    auto [pa, pb] = connect();
    auto ipi = a->bind_ipi(VcpuId{1});
    auto virq = a->bind_virq(VIRQ_TIMER, VcpuId{1});
    auto unbound = a->alloc_unbound(DomId{2});
    ASSERT_TRUE(ipi && virq && unbound);
    da.calls.clear();
    a->reset();
    EXPECT_TRUE(a->dump().empty());
    EXPECT_EQ(a->status(EvtchnPort{0})->state, PortState::Reserved);
    EXPECT_EQ(da.calls.size(), 4u);  // one clear_pending per closed port
    auto sb = *b->status(pb);
    EXPECT_EQ(sb.state, PortState::Unbound);
    EXPECT_EQ(sb.remote_dom, DomId{1});
    EXPECT_EQ(a->bind_virq(VIRQ_TIMER, VcpuId{1})->value, 1u);  // VIRQ slots are free again
    (void)pa;
}

TEST_F(EvtchnPortTable, DestroyRefusesNewPortsAndStopsDelivery) {
    auto [pa, pb] = connect();
    auto offer = a->alloc_unbound(DomId{2});
    a->destroy();
    EXPECT_TRUE(a->dump().empty());
    EXPECT_EQ(b->status(pb)->state, PortState::Unbound);
    EXPECT_EQ(errno_of(a->alloc_unbound(DomId{2})), XEN_EINVAL);  // dying, as Xen's get_free_port
    EXPECT_EQ(errno_of(a->bind_ipi(VcpuId{0})), XEN_EINVAL);
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*b, *a, *offer)), XEN_EINVAL);  // closed
    EXPECT_EQ(errno_of(PortTable::bind_interdomain(*a, *b, pb)), XEN_EINVAL);
    da.calls.clear();
    EXPECT_TRUE(a->unmask(pa));
    EXPECT_FALSE(a->send_virq(VIRQ_TIMER, VcpuId{0}));
    EXPECT_TRUE(da.calls.empty());  // the delivery (and its guest memory) is never touched again
}

// Both tables send, close and re-bind at once from both sides; each side's natural first lock is
// its own table, so only domid ordering keeps this from deadlocking.
TEST_F(EvtchnPortTable, ConcurrentTwoDomainOperationsDoNotDeadlock) {
    std::atomic<bool> stop{false};
    auto worker = [&](PortTable& self, PortTable& other) {
        for (int i = 0; i < 3000 && !stop; ++i) {
            auto offer = other.alloc_unbound(self.domid());
            if (!offer) continue;
            auto mine = PortTable::bind_interdomain(self, other, *offer);
            if (!mine) continue;
            (void)self.send(*mine);
            (void)other.send(*offer);
            (void)(i % 2 ? self.close(*mine) : other.close(*offer));
            (void)self.close(*mine);
            (void)other.close(*offer);
        }
    };
    std::thread t1(worker, std::ref(*a), std::ref(*b));
    std::thread t2(worker, std::ref(*b), std::ref(*a));
    t1.join();
    t2.join();
    EXPECT_TRUE(a->dump().empty());
    EXPECT_TRUE(b->dump().empty());
}

}  // namespace
}  // namespace pvhv
