// Event-channel port table: Xen's xen/common/event_channel.c state machine, one mutex per domain.
#include "hv/evtchn/port_table.h"

#include <functional>

#include "hv/xen_public.h"

namespace pvhv {

namespace {

bool valid(EvtchnPort p) { return p.value < kEvtchnPorts2L; }

}  // namespace

bool virq_is_global(uint32_t virq) {
    switch (virq) {
        case VIRQ_TIMER:
        case VIRQ_DEBUG:
        case VIRQ_XENOPROF:
        case VIRQ_XENPMU:
            return false;
        default:
            return true;  // including VIRQ_ARCH_*: x86 has no per-vCPU arch VIRQs
    }
}

// Holds the mutexes of one or two tables, taken in locks_before() order.
class PortTable::PairLock {
public:
    PairLock(PortTable& a, PortTable& b) {
        PortTable* first = &a;
        PortTable* second = &b;
        if (locks_before(b, a)) std::swap(first, second);
        first_ = std::unique_lock(first->mu_);
        if (second != first) second_ = std::unique_lock(second->mu_);
    }

private:
    std::unique_lock<std::mutex> first_, second_;
};

Result<std::shared_ptr<PortTable>> PortTable::create(DomId self, uint32_t nr_vcpus,
                                                     PortDelivery* delivery) {
    if (nr_vcpus == 0 || nr_vcpus > kEvtchnPorts2L) return fail(XEN_EINVAL, "evtchn: bad vCPU count");
    return std::make_shared<PortTable>(Passkey{}, self, nr_vcpus, delivery);
}

PortTable::PortTable(Passkey, DomId self, uint32_t nr_vcpus, PortDelivery* delivery)
    : self_(self), nr_vcpus_(nr_vcpus), virq_ports_(nr_vcpus), delivery_(delivery) {
    buckets_.push_back(std::make_unique<Bucket>());
    (*buckets_[0])[0].state = PortState::Reserved;  // Xen never hands out port 0
}

// Domid order (DESIGN §3). Live tables have distinct domids; the address only breaks a tie
// that would otherwise be a deadlock waiting to happen.
bool PortTable::locks_before(const PortTable& a, const PortTable& b) {
    if (a.self_ != b.self_) return a.self_ < b.self_;
    return std::less<const PortTable*>{}(&a, &b);
}

// With `own` (this table's lock) held, also locks `peer` in order. When the peer comes first,
// `own` is dropped and retaken, so the caller must re-check what it read before.
std::unique_lock<std::mutex> PortTable::lock_peer(std::unique_lock<std::mutex>& own,
                                                  PortTable& peer) {
    if (&peer == this) return {};
    if (locks_before(*this, peer)) return std::unique_lock(peer.mu_);
    own.unlock();
    std::unique_lock peer_lock(peer.mu_);
    own.lock();
    return peer_lock;
}

PortTable::Port* PortTable::slot(EvtchnPort port) {
    const uint32_t b = port.value / kBucketPorts;
    return b < buckets_.size() ? &(*buckets_[b])[port.value % kBucketPorts] : nullptr;
}

const PortTable::Port* PortTable::slot(EvtchnPort port) const {
    const uint32_t b = port.value / kBucketPorts;
    return b < buckets_.size() ? &(*buckets_[b])[port.value % kBucketPorts] : nullptr;
}

// Both locks held: is `port` still the interdomain end of (peer, remote_port)?
bool PortTable::still_connected(EvtchnPort port, const PortTable& peer,
                                EvtchnPort remote_port) const {
    const Port* p = slot(port);
    return p && p->state == PortState::Interdomain && p->remote_port == remote_port &&
           p->peer.lock().get() == &peer;
}

// Xen's get_free_port: the lowest free port, allocating the next bucket when all are in use.
// The port stays free until the caller gives it a state.
Result<EvtchnPort> PortTable::alloc_locked() {
    if (dying_) return fail(XEN_EINVAL, "evtchn: domain is dying");
    for (uint32_t b = 0; b < buckets_.size(); ++b)
        for (uint32_t i = 0; i < kBucketPorts; ++i)
            if ((*buckets_[b])[i].state == PortState::Free) return EvtchnPort{b * kBucketPorts + i};
    if (buckets_.size() * kBucketPorts >= kEvtchnPorts2L)
        return fail(XEN_ENOSPC, "evtchn: all ports in use");
    buckets_.push_back(std::make_unique<Bucket>());
    return EvtchnPort{static_cast<uint32_t>((buckets_.size() - 1) * kBucketPorts)};
}

// Xen's free_evtchn: a stale pending bit would fire on the next binding of this port.
void PortTable::free_locked(EvtchnPort port) {
    if (delivery_) delivery_->clear_pending(port);
    if (Port* p = slot(port)) *p = Port{};
}

void PortTable::deliver_locked(EvtchnPort port) {
    const Port* p = slot(port);
    if (delivery_ && p) delivery_->set_pending(port, p->notify);
}

PortInfo PortTable::info_locked(EvtchnPort port) const {
    const Port* p = slot(port);
    if (!p) return PortInfo{port, PortState::Free, VcpuId{0}, DomId{}, EvtchnPort{}, 0};
    return PortInfo{port, p->state, p->notify, p->remote_dom, p->remote_port, p->virq};
}

Result<EvtchnPort> PortTable::alloc_unbound(DomId remote) {
    std::lock_guard lk(mu_);
    auto port = alloc_locked();
    if (!port) return port;
    Port& p = *slot(*port);
    p.state = PortState::Unbound;
    p.remote_dom = remote;
    return port;
}

Result<EvtchnPort> PortTable::bind_interdomain(PortTable& local, PortTable& remote,
                                               EvtchnPort remote_port) {
    PairLock both(local, remote);
    // Xen allocates the local port before it looks at the remote one; keep its error order.
    auto lport = local.alloc_locked();
    if (!lport) return lport;
    Port* rp = valid(remote_port) ? remote.slot(remote_port) : nullptr;
    if (!rp || rp->state != PortState::Unbound || rp->remote_dom != local.self_)
        return fail(XEN_EINVAL, "evtchn: remote port is not unbound for this domain");

    Port& r = *rp;
    Port& l = *local.slot(*lport);
    l.state = PortState::Interdomain;
    l.remote_dom = remote.self_;
    l.remote_port = remote_port;
    l.peer = remote.weak_from_this();
    r.state = PortState::Interdomain;
    r.remote_dom = local.self_;
    r.remote_port = *lport;
    r.peer = local.weak_from_this();
    local.deliver_locked(*lport);
    return lport;
}

Result<EvtchnPort> PortTable::bind_virq(uint32_t virq, VcpuId vcpu) {
    if (virq >= kNrVirqs) return fail(XEN_EINVAL, "evtchn: virq out of range");
    if (virq_is_global(virq) && vcpu.value != 0)
        return fail(XEN_EINVAL, "evtchn: global virq must bind on vcpu 0");
    if (vcpu.value >= nr_vcpus_) return fail(XEN_ENOENT, "evtchn: no such vcpu");
    std::lock_guard lk(mu_);
    EvtchnPort& bound = virq_ports_[vcpu.value][virq];
    if (bound.value != 0) return fail(XEN_EEXIST, "evtchn: virq already bound");
    auto port = alloc_locked();
    if (!port) return port;
    Port& p = *slot(*port);
    p.state = PortState::Virq;
    p.notify = vcpu;
    p.virq = virq;
    bound = *port;
    return port;
}

Result<EvtchnPort> PortTable::bind_ipi(VcpuId vcpu) {
    if (vcpu.value >= nr_vcpus_) return fail(XEN_ENOENT, "evtchn: no such vcpu");
    std::lock_guard lk(mu_);
    auto port = alloc_locked();
    if (!port) return port;
    Port& p = *slot(*port);
    p.state = PortState::Ipi;
    p.notify = vcpu;
    return port;
}

Result<void> PortTable::bind_vcpu(EvtchnPort port, VcpuId vcpu) {
    if (vcpu.value >= nr_vcpus_) return fail(XEN_ENOENT, "evtchn: no such vcpu");
    if (!valid(port)) return fail(XEN_EINVAL, "evtchn: port out of range");
    std::lock_guard lk(mu_);
    Port* slot_p = slot(port);
    if (!slot_p) return fail(XEN_EINVAL, "evtchn: port cannot be rebound");
    Port& p = *slot_p;
    switch (p.state) {
        case PortState::Virq:
            // A per-vCPU VIRQ belongs to its vCPU (the timer of vCPU 1 cannot fire on vCPU 0).
            if (!virq_is_global(p.virq)) return fail(XEN_EINVAL, "evtchn: per-vcpu virq");
            p.notify = vcpu;
            return {};
        case PortState::Unbound:
        case PortState::Interdomain:
            p.notify = vcpu;
            return {};
        default:
            return fail(XEN_EINVAL, "evtchn: port cannot be rebound");
    }
}

Result<void> PortTable::close(EvtchnPort port) {
    if (!valid(port)) return fail(XEN_EINVAL, "evtchn: port out of range");
    // Each round reads the port under our lock; an interdomain port then needs the peer's lock
    // too, which may mean dropping ours first (domid order) and so another round if the port
    // changed meanwhile.
    for (;;) {
        std::unique_lock lk(mu_);
        Port* slot_p = slot(port);
        if (!slot_p) return fail(XEN_EINVAL, "evtchn: port is not in use");
        Port& p = *slot_p;
        switch (p.state) {
            case PortState::Free:
            case PortState::Reserved:
                return fail(XEN_EINVAL, "evtchn: port is not in use");
            case PortState::Unbound:
            case PortState::Ipi:
                free_locked(port);
                return {};
            case PortState::Virq:
                // Global VIRQs are recorded on vCPU 0 whatever their notify vCPU.
                virq_ports_[virq_is_global(p.virq) ? 0 : p.notify.value][p.virq] = EvtchnPort{0};
                free_locked(port);
                return {};
            case PortState::Interdomain:
                break;
        }
        const EvtchnPort rport = p.remote_port;
        std::shared_ptr<PortTable> peer = p.peer.lock();
        if (!peer) {  // the peer table was dropped without destroy(); nothing to hand back
            free_locked(port);
            return {};
        }
        std::unique_lock peer_lock = lock_peer(lk, *peer);
        if (!still_connected(port, *peer, rport)) continue;
        Port& r = *peer->slot(rport);  // connected: the peer's port exists
        r.state = PortState::Unbound;
        r.remote_dom = self_;  // Xen: the other end may be re-bound by the closer
        r.remote_port = EvtchnPort{0};
        r.peer.reset();
        free_locked(port);
        return {};
    }
}

Result<void> PortTable::send(EvtchnPort port) {
    if (!valid(port)) return fail(XEN_EINVAL, "evtchn: port out of range");
    for (;;) {
        std::unique_lock lk(mu_);
        const Port* slot_p = slot(port);
        if (!slot_p) return fail(XEN_EINVAL, "evtchn: cannot send on this port");
        const Port& p = *slot_p;
        switch (p.state) {
            case PortState::Ipi:
                deliver_locked(port);
                return {};
            case PortState::Unbound:
                return {};  // Xen drops it silently; bind_interdomain raises the port later
            case PortState::Interdomain:
                break;
            default:
                return fail(XEN_EINVAL, "evtchn: cannot send on this port");
        }
        const EvtchnPort rport = p.remote_port;
        std::shared_ptr<PortTable> peer = p.peer.lock();
        if (!peer) return {};
        std::unique_lock peer_lock = lock_peer(lk, *peer);
        if (!still_connected(port, *peer, rport)) continue;
        peer->deliver_locked(rport);
        return {};
    }
}

Result<PortInfo> PortTable::status(EvtchnPort port) const {
    if (!valid(port)) return fail(XEN_EINVAL, "evtchn: port out of range");
    std::lock_guard lk(mu_);
    return info_locked(port);
}

Result<void> PortTable::unmask(EvtchnPort port) {
    if (!valid(port)) return fail(XEN_EINVAL, "evtchn: port out of range");
    std::lock_guard lk(mu_);
    const Port* p = slot(port);
    if (delivery_) delivery_->unmask(port, p ? p->notify : VcpuId{0});
    return {};
}

void PortTable::reset() {
    // Port by port, as Xen's evtchn_reset: close() takes peer locks in order each time.
    // Buckets only grow, so ports allocated meanwhile are found too, as in Xen.
    for (uint32_t i = 1;; ++i) {
        {
            std::lock_guard lk(mu_);
            if (i >= buckets_.size() * kBucketPorts) return;
        }
        (void)close(EvtchnPort{i});
    }
}

void PortTable::destroy() {
    {
        std::lock_guard lk(mu_);
        dying_ = true;  // from here on no port can be allocated or become bindable
    }
    reset();
    std::lock_guard lk(mu_);
    delivery_ = nullptr;
}

bool PortTable::send_virq(uint32_t virq, VcpuId vcpu) {
    if (virq >= kNrVirqs) return false;
    const bool global = virq_is_global(virq);
    const uint32_t owner = global ? 0 : vcpu.value;
    if (owner >= nr_vcpus_) return false;
    std::lock_guard lk(mu_);
    const EvtchnPort port = virq_ports_[owner][virq];
    if (port.value == 0) return false;
    deliver_locked(port);  // notify vCPU: the bound vCPU, or where bind_vcpu moved a global VIRQ
    return true;
}

std::vector<PortInfo> PortTable::dump() const {
    std::lock_guard lk(mu_);
    std::vector<PortInfo> out;
    for (uint32_t i = 1; i < buckets_.size() * kBucketPorts; ++i)
        if (slot(EvtchnPort{i})->state != PortState::Free) out.push_back(info_locked(EvtchnPort{i}));
    return out;
}

uint32_t PortTable::valid_ports() const {
    std::lock_guard lk(mu_);
    return static_cast<uint32_t>(buckets_.size() * kBucketPorts);
}

}  // namespace pvhv
