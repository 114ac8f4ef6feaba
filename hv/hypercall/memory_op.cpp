// __HYPERVISOR_memory_op: the guest's memory map, reservation sizes and add_to_physmap.
#include "hv/xen_public.h"

#include <algorithm>

#include "hv/hypercall/handlers.h"

namespace pvhv {

namespace {

// Xen splits memory_op's cmd into a command (low 6 bits) and a continuation's start extent;
// the constant lives in Xen's internal hypercall.h, not in the public headers.
constexpr uint64_t kMemopExtentShift = 6;

// The BIOS e820 entry format the guest's buffer holds (20 bytes, packed).
struct [[gnu::packed]] E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

int64_t memory_map(HypercallContext& ctx, uint64_t arg) {
    auto map = ctx.guest.read<xen_memory_map>(arg);
    if (!map) return err(XEN_EFAULT);
    const auto entries = ctx.domain.memory_map();
    const uint32_t n = std::min<uint64_t>(map->nr_entries, entries.size());
    const uint64_t buffer = reinterpret_cast<uint64_t>(map->buffer.p);
    for (uint32_t i = 0; i < n; ++i) {
        const E820Entry e{entries[i].addr, entries[i].size, entries[i].type};
        if (!ctx.guest.write(buffer + uint64_t{i} * sizeof(E820Entry), e)) return err(XEN_EFAULT);
    }
    map->nr_entries = n;
    return ctx.guest.write(arg, *map) ? 0 : err(XEN_EFAULT);
}

int64_t reservation(HypercallContext& ctx, uint64_t arg) {
    auto domid = ctx.guest.read<domid_t>(arg);
    if (!domid) return err(XEN_EFAULT);
    if (*domid != DOMID_SELF && *domid != ctx.domain.id().value) return err(XEN_EPERM);
    return static_cast<int64_t>(ctx.domain.ram_pages());
}

int64_t add_to_physmap(HypercallContext& ctx, uint64_t arg) {
    auto x = ctx.guest.read<xen_add_to_physmap_t>(arg);
    if (!x) return err(XEN_EFAULT);
    if (x->domid != DOMID_SELF && x->domid != ctx.domain.id().value) return err(XEN_EPERM);
    switch (x->space) {
        case XENMAPSPACE_shared_info: {
            if (x->idx != 0) return err(XEN_EINVAL);  // there is one shared info page
            auto r = ctx.domain.map_shared_info(Gfn{x->gpfn});
            return r ? 0 : err(r.error().xen_errno);
        }
        case XENMAPSPACE_grant_table: {
            // idx with XENMAPIDX_grant_table_status names a v2 status frame; with v1 it is
            // just an index past max_frames, -EINVAL as on Xen (gnttab_map_frame).
            auto r = ctx.domain.map_grant_frame(x->idx, Gfn{x->gpfn});
            return r ? 0 : err(r.error().xen_errno);
        }
        default:
            return err(XEN_EINVAL);  // gmfn spaces move RAM around: not for PVH guests here
    }
}

}  // namespace

int64_t do_memory_op(HypercallContext& ctx, const HypercallArgs& a) {
    // The low bits are the command; the rest is Xen's continuation state (start extent).
    switch (a.arg[0] & ((uint64_t{1} << kMemopExtentShift) - 1)) {
        case XENMEM_memory_map: return memory_map(ctx, a.arg[1]);
        case XENMEM_add_to_physmap: return add_to_physmap(ctx, a.arg[1]);
        case XENMEM_current_reservation:
        case XENMEM_maximum_reservation: return reservation(ctx, a.arg[1]);
        default: return err(XEN_ENOSYS);
    }
}

}  // namespace pvhv
