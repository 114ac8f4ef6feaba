// __HYPERVISOR_vcpu_op: per-vCPU operations: vcpu_info placement, timers and run state.
#include "hv/xen_public.h"

#include <xen/vcpu.h>

#include "hv/hypercall/handlers.h"
#include "hv/hypercall/time_op.h"

namespace pvhv {

namespace {

int64_t register_vcpu_info(HypercallContext& ctx, VcpuId vcpu, uint64_t arg) {
    auto info = ctx.guest.read<vcpu_register_vcpu_info_t>(arg);
    if (!info) return err(XEN_EFAULT);
    // The structure must sit inside one page (Xen: offset <= PAGE_SIZE - sizeof(vcpu_info)).
    if (info->offset > kPageSize - sizeof(vcpu_info) || info->mfn > (~uint64_t{0} >> kPageShift))
        return err(XEN_EINVAL);
    auto r = ctx.domain.register_vcpu_info(vcpu, to_gpa(Gfn{info->mfn}) + info->offset);
    return r ? 0 : err(r.error().xen_errno);
}

}  // namespace

int64_t do_vcpu_op(HypercallContext& ctx, const HypercallArgs& a) {
    const uint64_t cmd = a.arg[0];
    const uint64_t id = a.arg[1];
    if (id >= ctx.domain.nr_vcpus()) return err(XEN_ENOENT);  // as Xen for a vCPU that does not exist
    const VcpuId vcpu{static_cast<uint32_t>(id)};
    switch (cmd) {
        case VCPUOP_register_vcpu_info: return register_vcpu_info(ctx, vcpu, a.arg[2]);
        case VCPUOP_set_singleshot_timer:
        case VCPUOP_stop_singleshot_timer:
        case VCPUOP_set_periodic_timer:
        case VCPUOP_stop_periodic_timer:
        case VCPUOP_get_runstate_info:
        case VCPUOP_register_runstate_memory_area:
            return vcpu_time_op(ctx, cmd, vcpu, a.arg[2]);
        default:
            // VCPUOP_initialise/up/down/is_up (vCPUs come up through INIT/SIPI), send_nmi,
            // get_physid, register_vcpu_time_memory_area: not offered (abi/README.md).
            return err(XEN_ENOSYS);
    }
}

}  // namespace pvhv
