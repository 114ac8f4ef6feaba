// __HYPERVISOR_sched_op: yield, block, poll, shutdown and shutdown_code.
#include "hv/xen_public.h"
#include <sched.h>

#include <bit>

#include "hv/hypercall/handlers.h"
#include "hv/time/time_domain.h"

namespace pvhv {

namespace {

int64_t read_reason(HypercallContext& ctx, uint64_t arg, ShutdownReason& out) {
    auto s = ctx.guest.read<sched_shutdown_t>(arg);
    if (!s) return err(XEN_EFAULT);
    if (s->reason > SHUTDOWN_MAX) return err(XEN_EINVAL);
    out = static_cast<ShutdownReason>(s->reason);
    return 0;
}

// Xen's SCHEDOP_poll: sched_poll is copied once; the ports are read one by one as do_poll
// reaches them (the checks themselves are DomainTime::poll's).
int64_t poll(HypercallContext& ctx, uint64_t arg) {
    TimeDomain* t = ctx.domain.time();
    if (!t) return err(XEN_ENOSYS);
    auto p = ctx.guest.read<sched_poll_t>(arg);
    if (!p) return err(XEN_EFAULT);
    const auto ports = std::bit_cast<uint64_t>(p->ports);
    PollRequest req;
    req.nr_ports = p->nr_ports;
    req.timeout_ns = p->timeout;
    req.interrupts_enabled = ctx.interrupts_enabled;
    req.port_at = [&ctx, ports](uint32_t i) -> Result<EvtchnPort> {
        auto port = ctx.guest.read<evtchn_port_t>(ports + uint64_t{i} * sizeof(evtchn_port_t));
        if (!port) return std::unexpected(port.error());
        return EvtchnPort{*port};
    };
    return t->poll(ctx.vcpu, req);
}

}  // namespace

int64_t do_sched_op(HypercallContext& ctx, const HypercallArgs& a) {
    ShutdownReason reason{};
    switch (a.arg[0]) {
        case SCHEDOP_yield:
            ::sched_yield();
            return 0;
        case SCHEDOP_block:
            ctx.domain.block(ctx.vcpu, ctx.interrupts_enabled);
            return 0;
        case SCHEDOP_poll: return poll(ctx, a.arg[1]);
        case SCHEDOP_shutdown:
            if (int64_t rc = read_reason(ctx, a.arg[1], reason)) return rc;
            ctx.domain.shutdown(reason);
            return 0;
        case SCHEDOP_shutdown_code:
            if (int64_t rc = read_reason(ctx, a.arg[1], reason)) return rc;
            ctx.domain.set_shutdown_code(reason);
            return 0;
        case SCHEDOP_remote_shutdown:
        case SCHEDOP_pin_override:
            return err(XEN_EPERM);  // privileged in Xen; a domU is never allowed
        default:
            return err(XEN_ENOSYS);  // watchdog: not offered (abi/README.md)
    }
}

}  // namespace pvhv
