// The default GrantableRam: the layout's RAM ranges in the domain's memory regions, kept mapped.
#include "hv/gnttab/grantable_ram.h"

#include <cstdio>

namespace pvhv {

LayoutGrantableRam::LayoutGrantableRam(const GuestMemory& mem, const std::vector<PhysRange>& ram) {
    for (const auto& r : ram)
        for (const auto& region : mem.regions())
            if (region.contains(Gpa{r.base}, r.size))
                pieces_.push_back({r, region.host() + (r.base - region.base().value),
                                   region.shared_mapping()});
}

Result<std::span<uint8_t>> LayoutGrantableRam::frame(Gfn gfn) const {
    // A v1 frame is 32 bits, but Gfn is wider: refuse anything whose address would not fit.
    if (gfn.value > (~uint64_t{0} >> kPageShift))
        return fail(XEN_EFAULT, "granted frame beyond the address space");
    const uint64_t gpa = to_gpa(gfn).value;
    for (const auto& p : pieces_)
        if (p.range.contains(gpa, kPageSize))
            return std::span<uint8_t>(p.host + (gpa - p.range.base), kPageSize);
    char msg[64];
    std::snprintf(msg, sizeof msg, "granted frame %#llx is not guest RAM",
                  static_cast<unsigned long long>(gfn.value));
    return fail(XEN_EFAULT, msg);
}

}  // namespace pvhv
