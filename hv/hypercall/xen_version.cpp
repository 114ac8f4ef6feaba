// __HYPERVISOR_xen_version: version, extraversion, features, page size and build strings.
#include "hv/xen_public.h"

#include <cstring>

#include "hv/hypercall/handlers.h"

namespace pvhv {

namespace {

template <class T>
int64_t copy_out(HypercallContext& ctx, uint64_t buf, const T& value) {
    return ctx.guest.write(buf, value) ? 0 : err(XEN_EFAULT);
}

template <size_t N>
int64_t copy_string(HypercallContext& ctx, uint64_t buf, const char* s) {
    char out[N] = {};
    std::strncpy(out, s, N - 1);
    return copy_out(ctx, buf, out);
}

}  // namespace

uint32_t xen_features_submap0() {
    // HVM/PVH guests are always auto-translated (the guest's frames are guest-physical) and
    // own their page tables, which is why Xen sets both bits for them. hvm_safe_pvclock: every
    // vcpu_info carries a pvclock and the singleshot timer raises VIRQ_TIMER (hv/time/).
    // Not hvm_callback_vector: HVM_PARAM_CALLBACK_IRQ's vector arrives through the LAPIC and
    // needs an EOI, which Xen's does not, and a Linux that falls back to it never EOIs; Linux
    // >= 6.0 takes the per-vCPU vector from CPUID 0x40000004 instead (abi/README.md, "Time").
    return (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_auto_translated_physmap) |
           (1u << XENFEAT_hvm_safe_pvclock);
}

int64_t do_xen_version(HypercallContext& ctx, const HypercallArgs& a) {
    const uint64_t buf = a.arg[1];
    switch (a.arg[0]) {
        case XENVER_version: return (kXenMajor << 16) | kXenMinor;
        case XENVER_extraversion: return copy_string<XEN_EXTRAVERSION_LEN>(ctx, buf, kXenExtraversion);
        case XENVER_compile_info: {
            xen_compile_info_t info{};
            std::strncpy(info.compiler, "g++ " __VERSION__, sizeof info.compiler - 1);
            std::strncpy(info.compile_by, "pvhv", sizeof info.compile_by - 1);
            std::strncpy(info.compile_date, __DATE__, sizeof info.compile_date - 1);
            return copy_out(ctx, buf, info);
        }
        case XENVER_capabilities:
            return copy_string<XEN_CAPABILITIES_INFO_LEN>(ctx, buf, "hvm-3.0-x86_64 hvm-3.0-x86_32");
        case XENVER_changeset: return copy_string<XEN_CHANGESET_INFO_LEN>(ctx, buf, "pvhv");
        case XENVER_platform_parameters: {
            xen_platform_parameters_t p{};  // no hypervisor hole in an HVM guest's space
            return copy_out(ctx, buf, p);
        }
        case XENVER_get_features: {
            auto fi = ctx.guest.read<xen_feature_info_t>(buf);
            if (!fi) return err(XEN_EFAULT);
            if (fi->submap_idx != 0) return err(XEN_EINVAL);
            fi->submap = xen_features_submap0();
            return copy_out(ctx, buf, *fi);
        }
        case XENVER_pagesize: return kPageSize;
        case XENVER_guest_handle: {
            xen_domain_handle_t handle{};  // the domain's UUID; pvhv has none yet (all zero)
            return copy_out(ctx, buf, handle);
        }
        case XENVER_commandline:
        case XENVER_build_id:
            return err(XEN_EPERM);  // Xen's default XSM policy: dom0 only
        default: return err(XEN_ENOSYS);
    }
}

}  // namespace pvhv
