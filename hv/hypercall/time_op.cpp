// Timers and run-state areas: __HYPERVISOR_set_timer_op and vcpu_op's time sub-operations.
#include "hv/hypercall/time_op.h"

#include "hv/hypercall/handlers.h"
#include "hv/time/time_domain.h"

namespace pvhv {

namespace {

constexpr uint64_t kMillisecond = 1'000'000;
constexpr int64_t kStimeDeltaMax = static_cast<int64_t>(~uint64_t{0} >> 2);  // Xen's STIME_DELTA_MAX

int64_t set_singleshot(HypercallContext& ctx, TimeDomain& t, VcpuId target, uint64_t arg) {
    if (target != ctx.vcpu) return err(XEN_EINVAL);  // only the calling vCPU's own timer
    auto set = ctx.guest.read<vcpu_set_singleshot_timer_t>(arg);
    if (!set) return err(XEN_EFAULT);
    // Xen 4.17's check (s_time_t is signed: a "negative" deadline is in the past).
    if ((set->flags & VCPU_SSHOTTMR_future) &&
        static_cast<int64_t>(set->timeout_abs_ns) < static_cast<int64_t>(t.system_time_ns()))
        return err(XEN_ETIME);
    t.set_singleshot_timer(target, set->timeout_abs_ns);
    return 0;
}

int64_t set_periodic(HypercallContext& ctx, TimeDomain& t, VcpuId target, uint64_t arg) {
    auto set = ctx.guest.read<vcpu_set_periodic_timer_t>(arg);
    if (!set) return err(XEN_EFAULT);
    if (set->period_ns < kMillisecond || set->period_ns > static_cast<uint64_t>(kStimeDeltaMax))
        return err(XEN_EINVAL);
    t.set_periodic_timer(target, set->period_ns);
    return 0;
}

// Xen accepts any address for the run-state area and ignores a failed copy (guest_handle_okay
// is always true for an HVM guest); so does pvhv. The contents never change afterwards (the
// run state is "running since system time 0"), so one write at registration is all Xen's
// updates would ever write.
int64_t register_runstate(HypercallContext& ctx, TimeDomain& t, VcpuId target, uint64_t arg) {
    auto area = ctx.guest.read<vcpu_register_runstate_memory_area_t>(arg);
    if (!area) return err(XEN_EFAULT);
    if (area->addr.p != 0) (void)ctx.guest.write(area->addr.p, t.runstate(target));
    return 0;
}

}  // namespace

int64_t vcpu_time_op(HypercallContext& ctx, uint64_t cmd, VcpuId target, uint64_t arg) {
    TimeDomain* t = ctx.domain.time();
    if (!t) return err(XEN_ENOSYS);
    switch (cmd) {
        case VCPUOP_set_singleshot_timer: return set_singleshot(ctx, *t, target, arg);
        case VCPUOP_stop_singleshot_timer:
            if (target != ctx.vcpu) return err(XEN_EINVAL);
            t->stop_singleshot_timer(target);
            return 0;
        case VCPUOP_set_periodic_timer: return set_periodic(ctx, *t, target, arg);
        case VCPUOP_stop_periodic_timer:
            t->set_periodic_timer(target, 0);
            return 0;
        case VCPUOP_get_runstate_info:
            return ctx.guest.write(arg, t->runstate(target)) ? 0 : err(XEN_EFAULT);
        case VCPUOP_register_runstate_memory_area: return register_runstate(ctx, *t, target, arg);
        default: return err(XEN_ENOSYS);
    }
}

// Xen's do_set_timer_op, Linux workaround included: a deadline that wrapped negative or lies
// more than 2^50 ns (~13 days) ahead becomes an event in 100 ms.
int64_t do_set_timer_op(HypercallContext& ctx, const HypercallArgs& a) {
    TimeDomain* t = ctx.domain.time();
    if (!t) return err(XEN_ENOSYS);
    const auto timeout = static_cast<int64_t>(a.arg[0]);
    const auto now = static_cast<int64_t>(t->system_time_ns());
    // Xen's s_time_t arithmetic wraps (built with -fwrapv); so does this, without UB.
    const auto offset = static_cast<int64_t>(static_cast<uint64_t>(timeout) - static_cast<uint64_t>(now));
    if (timeout == 0)
        t->stop_singleshot_timer(ctx.vcpu);
    else if (timeout < 0 || (offset > 0 && (static_cast<uint64_t>(offset) >> 50) != 0))
        t->set_singleshot_timer(ctx.vcpu, static_cast<uint64_t>(now) + 100 * kMillisecond);
    else
        t->set_singleshot_timer(ctx.vcpu, static_cast<uint64_t>(timeout));
    return 0;
}

}  // namespace pvhv
