// The default GrantableRam: the layout's RAM ranges over the domain's GuestMemory.
#include "hv/gnttab/grantable_ram.h"

#include <cstdio>

namespace pvhv {

Result<std::span<uint8_t>> LayoutGrantableRam::frame(Gfn gfn) const {
    // A v1 frame is 32 bits, but Gfn is wider: refuse anything whose address would not fit.
    if (gfn.value > (~uint64_t{0} >> kPageShift))
        return fail(XEN_EFAULT, "granted frame beyond the address space");
    const uint64_t gpa = to_gpa(gfn).value;
    bool in_ram = false;
    for (const auto& r : ram_) in_ram = in_ram || r.contains(gpa, kPageSize);
    if (!in_ram) {
        char msg[64];
        std::snprintf(msg, sizeof msg, "granted frame %#llx is not guest RAM",
                      static_cast<unsigned long long>(gfn.value));
        return fail(XEN_EFAULT, msg);
    }
    return mem_.span(Gpa{gpa}, kPageSize);
}

}  // namespace pvhv
