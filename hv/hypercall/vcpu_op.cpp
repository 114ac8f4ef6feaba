// __HYPERVISOR_vcpu_op: per-vCPU operations; today the placement of a vCPU's vcpu_info.
#include "hv/xen_public.h"

#include <xen/vcpu.h>

#include "hv/hypercall/handlers.h"

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
        default: return err(XEN_ENOSYS);  // timers and runstate arrive with the PV core
    }
}

}  // namespace pvhv
