// __HYPERVISOR_grant_table_op: the calling domain's own grant table (v1 setup, size, version).
#include "hv/xen_public.h"  // first: Xen's headers need its <cstdint> prerequisites

#include <xen/grant_table.h>

#include <cstddef>

#include "hv/gnttab/grant_table.h"
#include "hv/hypercall/handlers.h"

namespace pvhv {

namespace {

// A domU may only name itself (DOMID_SELF or its own id). Xen's XSM_TARGET check refuses an
// existing other domain; pvhv cannot tell which others exist, so all get the refusal.
bool names_self(const HypercallContext& ctx, domid_t dom) {
    return dom == DOMID_SELF || dom == ctx.domain.id().value;
}

int64_t setup_table(HypercallContext& ctx, GrantTable& table, uint64_t uop, uint32_t count) {
    if (count != 1) return err(XEN_EINVAL);
    auto op = ctx.guest.read<gnttab_setup_table_t>(uop);
    if (!op) return err(XEN_EFAULT);
    // Xen's guest_handle_okay(frame_list) is always true for an HVM caller; each element is
    // checked as it is written instead.
    if (!names_self(ctx, op->dom)) {
        op->status = GNTST_permission_denied;
    } else if (auto frames = table.setup(op->nr_frames); !frames) {
        op->status = GNTST_general_error;
    } else {
        op->status = GNTST_okay;
        const uint64_t list = reinterpret_cast<uint64_t>(op->frame_list.p);
        for (uint32_t i = 0; i < frames->size(); ++i) {
            const xen_pfn_t gfn = (*frames)[i];
            // As Xen: a fault marks the status and the loop goes on (at most max_frames).
            if (!ctx.guest.write(list + uint64_t{i} * sizeof(xen_pfn_t), gfn))
                op->status = GNTST_bad_virt_addr;
        }
    }
    // Only the status field is written back, as Xen's __copy_field_to_guest.
    if (!ctx.guest.write(uop + offsetof(gnttab_setup_table_t, status), op->status))
        return err(XEN_EFAULT);
    return 0;
}

int64_t query_size(HypercallContext& ctx, GrantTable& table, uint64_t uop, uint32_t count) {
    if (count != 1) return err(XEN_EINVAL);
    auto op = ctx.guest.read<gnttab_query_size_t>(uop);
    if (!op) return err(XEN_EFAULT);
    if (!names_self(ctx, op->dom)) {
        op->status = GNTST_permission_denied;
    } else {
        op->nr_frames = table.nr_frames();
        op->max_nr_frames = table.max_frames();
        op->status = GNTST_okay;
    }
    return ctx.guest.write(uop, *op) ? 0 : err(XEN_EFAULT);
}

// Only v1 exists here: Xen with gnttab=max-ver:1 answers a request for v2 with -ENOSYS
// ("behave as before set_version was introduced") and reports the version in force.
int64_t set_version(HypercallContext& ctx, GrantTable& table, uint64_t uop) {
    auto op = ctx.guest.read<gnttab_set_version_t>(uop);
    if (!op) return err(XEN_EFAULT);
    int64_t rc = 0;
    if (op->version != 1 && op->version != 2)
        rc = err(XEN_EINVAL);
    else if (op->version == 2)
        rc = err(XEN_ENOSYS);
    op->version = table.version();
    return ctx.guest.write(uop, *op) ? rc : err(XEN_EFAULT);
}

int64_t get_version(HypercallContext& ctx, GrantTable& table, uint64_t uop) {
    auto op = ctx.guest.read<gnttab_get_version_t>(uop);
    if (!op) return err(XEN_EFAULT);
    if (!names_self(ctx, op->dom)) return err(XEN_EPERM);  // XSM_TARGET refusal
    const uint32_t version = table.version();
    if (!ctx.guest.write(uop + offsetof(gnttab_get_version_t, version), version))
        return err(XEN_EFAULT);
    return 0;
}

}  // namespace

int64_t do_grant_table_op(HypercallContext& ctx, const HypercallArgs& a) {
    // Xen's prototype is (unsigned int cmd, handle uop, unsigned int count): a 64-bit HVM
    // caller's upper register halves are dropped.
    const auto cmd = static_cast<uint32_t>(a.arg[0]);
    const uint64_t uop = a.arg[1];
    const auto count = static_cast<uint32_t>(a.arg[2]);

    // Xen's hvm_grant_table_op lets HVM guests use only these sub-ops, comparing the whole cmd
    // (so continuation bits in a guest's cmd also give -ENOSYS). pvhv has no guest-to-guest
    // grant path (back-ends live in pvd and use grant_access.h), so map/unmap/copy/swap are
    // -ENOSYS too.
    switch (cmd) {
        case GNTTABOP_setup_table:
        case GNTTABOP_query_size:
        case GNTTABOP_set_version:
        case GNTTABOP_get_version:
            break;
        default:
            return err(XEN_ENOSYS);
    }
    GrantTable* const own = ctx.domain.grant_table();
    if (!own) return err(XEN_ENOSYS);
    GrantTable& table = *own;

    if (static_cast<int32_t>(count) < 0) return err(XEN_EINVAL);  // do_grant_table_op
    switch (cmd) {
        case GNTTABOP_setup_table:
            return setup_table(ctx, table, uop, count);
        case GNTTABOP_query_size:
            return query_size(ctx, table, uop, count);
        case GNTTABOP_set_version:
            return set_version(ctx, table, uop);
        default:
            return get_version(ctx, table, uop);
    }
}

}  // namespace pvhv
