// XENMEM_add_to_physmap(XENMAPSPACE_grant_table): the table's placement record and the physmap in step.
#pragma once

#include <cstdint>

#include "hv/error.h"
#include "hv/gnttab/grant_table.h"
#include "hv/mem/physmap.h"
#include "hv/types.h"

namespace pvhv {

// Places frame `idx` of `table` at `gfn`, as Xen's gnttab_map_frame + guest_physmap_add_page:
//   * gfn must be a hole of the guest-physical map or hold a placed page (XEN_EINVAL for RAM,
//     special pages, the APIC windows, beyond the guest's address width: Physmap::check);
//   * the table grows to idx + 1 frames (XEN_EINVAL from max_frames on; with v1,
//     XENMAPIDX_grant_table_status is just such an index, as in Xen);
//   * a grant frame already at gfn loses its place, the frame leaves its previous gfn, and
//     the frame's page of the table's memfd region shows at gfn in a KVM slot of its own;
//   * a frame placed for the first time is zeroed (GrantTable::place_frame).
// The new slot exists before the old one goes, so a moving frame is never absent. If KVM
// fails, the frame ends up unplaced (table and physmap agree) and the error is returned.
//
// The caller holds the lock that serialises its physmap (DomainImpl::physmap_mu_); the
// table's own lock is taken inside, after it (the table's lock is a leaf).
Result<void> place_grant_frame(GrantTable& table, Physmap& physmap, uint64_t idx, Gfn gfn);

}  // namespace pvhv
