// __HYPERVISOR_hvm_op: HVM parameters (get/set) and per-vCPU upcall vectors of the calling domain.
#include "hv/xen_public.h"

#include "hv/hypercall/handlers.h"
#include "hv/hypercall/hvm_params.h"

namespace pvhv {

namespace {

int64_t set_upcall_vector(HypercallContext& ctx, uint64_t arg) {
    auto u = ctx.guest.read<xen_hvm_evtchn_upcall_vector_t>(arg);
    if (!u) return err(XEN_EFAULT);
    auto r = ctx.domain.set_upcall_vector(VcpuId{u->vcpu}, u->vector);
    return r ? 0 : err(r.error().xen_errno);
}

}  // namespace

int64_t do_hvm_op(HypercallContext& ctx, const HypercallArgs& a) {
    const uint64_t op = a.arg[0];
    if (op == HVMOP_set_evtchn_upcall_vector) return set_upcall_vector(ctx, a.arg[1]);
    if (op != HVMOP_set_param && op != HVMOP_get_param) return err(XEN_ENOSYS);

    auto p = ctx.guest.read<xen_hvm_param_t>(a.arg[1]);
    if (!p) return err(XEN_EFAULT);
    // A domU may only name itself; Xen answers a foreign domid with -EPERM (XSM).
    if (p->domid != DOMID_SELF && p->domid != ctx.domain.id().value) return err(XEN_EPERM);

    if (op == HVMOP_set_param) {
        if (p->index == HVM_PARAM_CALLBACK_IRQ)
            if (auto r = ctx.domain.set_callback_via(p->value); !r) return err(r.error().xen_errno);
        auto r = ctx.domain.hvm_params().set_by_guest(p->index, p->value);
        return r ? 0 : err(r.error().xen_errno);
    }
    auto v = ctx.domain.hvm_params().get(p->index);
    if (!v) return err(v.error().xen_errno);
    p->value = *v;
    return ctx.guest.write(a.arg[1], *p) ? 0 : err(XEN_EFAULT);
}

}  // namespace pvhv
