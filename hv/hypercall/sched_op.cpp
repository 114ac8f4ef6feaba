// __HYPERVISOR_sched_op: yield, block, shutdown and shutdown_code.
#include "hv/xen_public.h"
#include <sched.h>


#include "hv/hypercall/handlers.h"

namespace pvhv {

namespace {

int64_t read_reason(HypercallContext& ctx, uint64_t arg, ShutdownReason& out) {
    auto s = ctx.guest.read<sched_shutdown_t>(arg);
    if (!s) return err(XEN_EFAULT);
    if (s->reason > SHUTDOWN_MAX) return err(XEN_EINVAL);
    out = static_cast<ShutdownReason>(s->reason);
    return 0;
}

}  // namespace

int64_t do_sched_op(HypercallContext& ctx, const HypercallArgs& a) {
    ShutdownReason reason{};
    switch (a.arg[0]) {
        case SCHEDOP_yield:
            ::sched_yield();
            return 0;
        case SCHEDOP_block:
            ctx.domain.block(ctx.vcpu);
            return 0;
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
            return err(XEN_ENOSYS);  // poll arrives with event channels, watchdog later
    }
}

}  // namespace pvhv
