// Run-time placement of pages in the guest-physical map: hole checks and one KVM slot per page.
#include "hv/mem/physmap.h"

#include "hv/format.h"

namespace pvhv {

Physmap::Physmap(PhysmapConfig config, SlotControl& slots)
    : config_(std::move(config)), slots_(slots) {
    for (uint32_t i = config_.nr_slots; i > 0; --i) free_slots_.push_back(config_.first_slot + i - 1);
}

Result<void> Physmap::check(Gfn gfn) const {
    const uint32_t bits = config_.phys_bits > 63 ? 63 : config_.phys_bits;
    if (bits <= kPageShift || gfn.value >= (uint64_t{1} << (bits - kPageShift)))
        return fail(XEN_EINVAL, "gfn " + fmt::hex(gfn.value) + " is beyond the guest's " +
                                    std::to_string(config_.phys_bits) + " address bits");
    const uint64_t gpa = to_gpa(gfn).value;
    for (const auto& r : config_.fixed)
        if (r.overlaps(gpa, kPageSize))
            return fail(XEN_EINVAL, "gfn " + fmt::hex(gfn.value) + " is not a hole: it lies in " +
                                        fmt::range(r.base, r.size));
    return {};
}

Result<void> Physmap::place(Gfn gfn, std::span<uint8_t> page) {
    if (auto r = check(gfn); !r) return r;
    if (page.size() != kPageSize) return fail(XEN_EINVAL, "a placed page is one page");
    // KVM refuses overlapping slots: what is at gfn goes first.
    if (auto r = remove(gfn); !r) return std::unexpected(r.error());
    if (free_slots_.empty())
        return fail(XEN_ENOMEM, "no free memory slot for gfn " + fmt::hex(gfn.value));
    const uint32_t slot = free_slots_.back();
    if (auto r = slots_.map_slot(slot, to_gpa(gfn), page); !r) return r;
    free_slots_.pop_back();
    slot_of_.emplace(gfn.value, slot);
    return {};
}

Result<bool> Physmap::remove(Gfn gfn) {
    auto it = slot_of_.find(gfn.value);
    if (it == slot_of_.end()) return false;
    if (auto r = slots_.unmap_slot(it->second); !r) return std::unexpected(r.error());
    free_slots_.push_back(it->second);
    slot_of_.erase(it);
    return true;
}

std::string Physmap::describe() const {
    std::string out;
    for (const auto& [gfn, slot] : slot_of_)
        out += "  gfn " + fmt::hex(gfn) + " slot " + std::to_string(slot) + "\n";
    return out;
}

}  // namespace pvhv
