// Grant frames in the guest-physical map: GrantTable::place_frame plus the Physmap's KVM slots.
#include "hv/gnttab/grant_physmap.h"

#include "hv/format.h"
#include "hv/log.h"

namespace pvhv {

Result<void> place_grant_frame(GrantTable& table, Physmap& physmap, uint64_t idx, Gfn gfn) {
    // The gfn first: a refused placement must not grow the table or move anything.
    if (auto r = physmap.check(gfn); !r) return r;
    const bool already_there = idx < table.max_frames() &&
                               table.frame_gfn(static_cast<uint32_t>(idx)) == gfn;
    auto p = table.place_frame(idx, gfn);
    if (!p) return std::unexpected(p.error());
    if (already_there) return {};  // the same frame at the same gfn: the slot stays

    // A frame the table displaced from gfn (p->displaced) still has its slot there: place()
    // replaces it.
    if (auto r = physmap.place(gfn, p->host); !r) {
        (void)table.unplace_gfn(gfn);  // nothing shows at gfn: the table must agree
        if (p->previous_gfn) (void)physmap.remove(*p->previous_gfn);
        return r;
    }
    if (p->previous_gfn) {
        // Unreachable short of a KVM bug: deleting a slot fails only for bad arguments. The
        // frame then also shows at its old gfn, which the physmap keeps recorded.
        if (auto r = physmap.remove(*p->previous_gfn); !r)
            log_line(LogLevel::Error, "d" + std::to_string(table.owner().value) + ": grant frame " +
                                          std::to_string(p->index) + " stays visible at gfn " +
                                          fmt::hex(p->previous_gfn->value) + ": " +
                                          r.error().message);
    }
    return {};
}

}  // namespace pvhv
