// __HYPERVISOR_event_channel_op: the 2-level EVTCHNOP_* sub-ops on the caller's port table.
#include "hv/xen_public.h"
#include <xen/event_channel.h>

#include <memory>

#include "hv/evtchn/event_channel_op.h"
#include "hv/hypercall/handlers.h"

namespace pvhv {

EventChannelDomain* event_channel_domain(HypercallDomain& domain) {
    return domain.event_channel_domain();
}

namespace {

// Xen's continuation of a preempted EVTCHNOP_reset; public headers define it only for Xen
// itself (__XEN__), but a guest can still issue the number.
constexpr uint64_t kEvtchnopResetCont = 14;

int64_t rc_of(const Error& e) { return err(e.xen_errno); }

// A domain named by a guest: the caller itself, or another domain held alive for the call.
struct Target {
    PortTable* table = nullptr;  // null: no such domain
    std::shared_ptr<PortTable> ref;
    bool foreign = false;
};

// Xen's rcu_lock_domain_by_any_id: DOMID_SELF and the caller's own id are the caller.
Target find_domain(EventChannelDomain& ev, domid_t dom) {
    PortTable& own = ev.event_channels();
    if (dom == DOMID_SELF || dom == own.domid().value) return Target{&own, nullptr, false};
    std::shared_ptr<PortTable> t = ev.domain_directory().find_event_channels(DomId{dom});
    PortTable* p = t.get();
    return Target{p, std::move(t), true};
}

// Each sub-op copies its struct in once, works on that copy only, and (like Xen) copies the
// whole struct back on success; a fault on the way back leaves the operation done and
// returns -EFAULT, as Xen does ("cleaning up here would be a mess").
template <class T>
int64_t write_back(HypercallContext& ctx, uint64_t arg, const T& op) {
    return ctx.guest.write(arg, op) ? 0 : err(XEN_EFAULT);
}

int64_t alloc_unbound(HypercallContext& ctx, EventChannelDomain& ev, uint64_t arg) {
    auto in = ctx.guest.read<evtchn_alloc_unbound_t>(arg);
    if (!in) return err(XEN_EFAULT);
    evtchn_alloc_unbound_t op = *in;
    const Target t = find_domain(ev, op.dom);
    if (!t.table) return err(XEN_ESRCH);
    // XSM_TARGET. (Xen looks for a free port first, so a full foreign table would say
    // -ENOSPC; refusing first tells an unprivileged guest nothing about other domains.)
    if (t.foreign && !ev.evtchn_privileged()) return err(XEN_EPERM);
    // Any remote id is accepted, as in Xen: it only names who may bind later.
    const DomId remote{op.remote_dom == DOMID_SELF ? ev.event_channels().domid().value
                                                   : op.remote_dom};
    auto port = t.table->alloc_unbound(remote);
    if (!port) return rc_of(port.error());
    op.port = port->value;
    return write_back(ctx, arg, op);
}

int64_t bind_interdomain(HypercallContext& ctx, EventChannelDomain& ev, uint64_t arg) {
    auto in = ctx.guest.read<evtchn_bind_interdomain_t>(arg);
    if (!in) return err(XEN_EFAULT);
    evtchn_bind_interdomain_t op = *in;
    const Target remote = find_domain(ev, op.remote_dom);
    if (!remote.table) return err(XEN_ESRCH);
    auto port = PortTable::bind_interdomain(ev.event_channels(), *remote.table,
                                            EvtchnPort{op.remote_port});
    if (!port) return rc_of(port.error());
    op.local_port = port->value;
    return write_back(ctx, arg, op);
}

int64_t bind_virq(HypercallContext& ctx, EventChannelDomain& ev, uint64_t arg) {
    auto in = ctx.guest.read<evtchn_bind_virq_t>(arg);
    if (!in) return err(XEN_EFAULT);
    evtchn_bind_virq_t op = *in;
    auto port = ev.event_channels().bind_virq(op.virq, VcpuId{op.vcpu});
    if (!port) return rc_of(port.error());
    op.port = port->value;
    return write_back(ctx, arg, op);
}

int64_t bind_ipi(HypercallContext& ctx, EventChannelDomain& ev, uint64_t arg) {
    auto in = ctx.guest.read<evtchn_bind_ipi_t>(arg);
    if (!in) return err(XEN_EFAULT);
    evtchn_bind_ipi_t op = *in;
    auto port = ev.event_channels().bind_ipi(VcpuId{op.vcpu});
    if (!port) return rc_of(port.error());
    op.port = port->value;
    return write_back(ctx, arg, op);
}

int64_t status(HypercallContext& ctx, EventChannelDomain& ev, uint64_t arg) {
    auto in = ctx.guest.read<evtchn_status_t>(arg);
    if (!in) return err(XEN_EFAULT);
    evtchn_status_t op = *in;
    const Target t = find_domain(ev, op.dom);
    if (!t.table) return err(XEN_ESRCH);
    if (op.port >= kEvtchnPorts2L) return err(XEN_EINVAL);  // Xen checks the port before XSM
    if (t.foreign && !ev.evtchn_privileged()) return err(XEN_EPERM);
    auto info = t.table->status(EvtchnPort{op.port});
    if (!info) return rc_of(info.error());
    // Like Xen, only the fields that belong to the state are written; the rest of the union
    // goes back as the guest passed it.
    switch (info->state) {
        case PortState::Free:
        case PortState::Reserved:
            op.status = EVTCHNSTAT_closed;
            break;
        case PortState::Unbound:
            op.status = EVTCHNSTAT_unbound;
            op.u.unbound.dom = info->remote_dom.value;
            break;
        case PortState::Interdomain:
            op.status = EVTCHNSTAT_interdomain;
            op.u.interdomain.dom = info->remote_dom.value;
            op.u.interdomain.port = info->remote_port.value;
            break;
        case PortState::Virq:
            op.status = EVTCHNSTAT_virq;
            op.u.virq = info->virq;
            break;
        case PortState::Ipi:
            op.status = EVTCHNSTAT_ipi;
            break;
    }
    op.vcpu = info->vcpu.value;
    return write_back(ctx, arg, op);
}

// EVTCHNOP_reset and reset_cont. pvhv resets in one go, never with a continuation, so
// reset_cont finds no reset in progress: -EBUSY, as Xen's evtchn_reset(d, resuming=true).
int64_t reset(HypercallContext& ctx, EventChannelDomain& ev, uint64_t arg, bool resuming) {
    auto in = ctx.guest.read<evtchn_reset_t>(arg);
    if (!in) return err(XEN_EFAULT);
    const Target t = find_domain(ev, in->dom);
    if (!t.table) return err(XEN_ESRCH);
    if (t.foreign && !ev.evtchn_privileged()) return err(XEN_EPERM);
    // Xen lets a controller reset another domain only while it keeps it paused; pvhv has no
    // such pause to check, so it refuses as Xen does for an unpaused domain.
    if (t.foreign) return err(XEN_EINVAL);
    if (resuming) return err(XEN_EBUSY);
    t.table->reset();
    return 0;
}

int64_t set_priority(HypercallContext& ctx, uint64_t arg) {
    auto in = ctx.guest.read<evtchn_set_priority_t>(arg);
    if (!in) return err(XEN_EFAULT);
    if (in->port >= kEvtchnPorts2L) return err(XEN_EINVAL);
    return err(XEN_ENOSYS);  // the 2-level ABI has no priorities (Xen: -ENOSYS too)
}

}  // namespace

int64_t do_event_channel_op(HypercallContext& ctx, const HypercallArgs& a) {
    EventChannelDomain* ev = event_channel_domain(ctx.domain);
    if (!ev) return err(XEN_ENOSYS);
    PortTable& own = ev->event_channels();
    const uint64_t arg = a.arg[1];
    switch (a.arg[0]) {
        case EVTCHNOP_alloc_unbound:
            return alloc_unbound(ctx, *ev, arg);
        case EVTCHNOP_bind_interdomain:
            return bind_interdomain(ctx, *ev, arg);
        case EVTCHNOP_bind_virq:
            return bind_virq(ctx, *ev, arg);
        case EVTCHNOP_bind_ipi:
            return bind_ipi(ctx, *ev, arg);
        case EVTCHNOP_bind_vcpu: {
            auto op = ctx.guest.read<evtchn_bind_vcpu_t>(arg);
            if (!op) return err(XEN_EFAULT);
            auto r = own.bind_vcpu(EvtchnPort{op->port}, VcpuId{op->vcpu});
            return r ? 0 : rc_of(r.error());
        }
        case EVTCHNOP_close: {
            auto op = ctx.guest.read<evtchn_close_t>(arg);
            if (!op) return err(XEN_EFAULT);
            auto r = own.close(EvtchnPort{op->port});
            return r ? 0 : rc_of(r.error());
        }
        case EVTCHNOP_send: {
            auto op = ctx.guest.read<evtchn_send_t>(arg);
            if (!op) return err(XEN_EFAULT);
            auto r = own.send(EvtchnPort{op->port});
            return r ? 0 : rc_of(r.error());
        }
        case EVTCHNOP_unmask: {
            auto op = ctx.guest.read<evtchn_unmask_t>(arg);
            if (!op) return err(XEN_EFAULT);
            auto r = own.unmask(EvtchnPort{op->port});
            return r ? 0 : rc_of(r.error());
        }
        case EVTCHNOP_status:
            return status(ctx, *ev, arg);
        case EVTCHNOP_reset:
            return reset(ctx, *ev, arg, false);
        case kEvtchnopResetCont:
            return reset(ctx, *ev, arg, true);
        case EVTCHNOP_set_priority:
            return set_priority(ctx, arg);
        case EVTCHNOP_bind_pirq:     // PVH has no physical IRQs to bind
        case EVTCHNOP_init_control:  // FIFO ABI: Linux falls back to 2-level on failure
        case EVTCHNOP_expand_array:
        default:
            return err(XEN_ENOSYS);
    }
}

}  // namespace pvhv
