// The guest-physical address map of a PVH domain and the regions that back it.
#include "hv/boot/guest_layout.h"

#include <algorithm>

#include "hv/format.h"

namespace pvhv {

using namespace layout;

// The constants must keep the boot tables, ACPI and hole in the order the map documents.
static_assert(kBootInfoBase + kBootInfoSize <= kAcpiBase);
static_assert(kAcpiBase + kAcpiSize <= kLegacyHoleBase);
static_assert(kCmdline + kCmdlineMax <= kBootInfoBase + kBootInfoSize);
static_assert(kLowRamLimit <= kIoapicBase && kSpecialPagesBase + kSpecialPagesSize <= k4GiB);
static_assert(kMinMemory > kLegacyHoleEnd);

Result<GuestLayout> GuestLayout::for_memory(uint64_t memory_bytes) {
    if (memory_bytes % kPageSize != 0)
        return fail(XEN_EINVAL, "guest memory " + fmt::dec(memory_bytes) +
                                    " bytes is not a multiple of the page size");
    if (memory_bytes < kMinMemory)
        return fail(XEN_EINVAL, "guest memory " + fmt::dec(memory_bytes >> 10) +
                                    " KiB is below the minimum of " +
                                    fmt::dec(kMinMemory >> 20) + " MiB");
    if (memory_bytes > kMaxMemory)
        return fail(XEN_EINVAL, "guest memory " + fmt::dec(memory_bytes >> 20) +
                                    " MiB is above the maximum of " +
                                    fmt::dec(kMaxMemory >> 20) + " MiB");
    GuestLayout l;
    l.memory = memory_bytes;
    l.low_ram_end = std::min(memory_bytes, kLowRamLimit);
    l.high_ram_size = memory_bytes - l.low_ram_end;
    return l;
}

std::vector<RegionSpec> GuestLayout::memory_regions() const {
    std::vector<RegionSpec> out;
    out.push_back({kRegionLowRam, Gpa{0}, low_ram_end});
    out.push_back({kRegionSpecial, Gpa{kSpecialPagesBase}, kSpecialPagesSize});
    if (high_ram_size != 0) out.push_back({kRegionHighRam, Gpa{k4GiB}, high_ram_size});
    return out;
}

std::vector<PhysRange> GuestLayout::fixed_ranges() const {
    std::vector<PhysRange> out;
    for (const auto& r : memory_regions()) out.push_back({r.base.value, r.size});
    out.push_back({kIoapicBase, kApicWindowSize});
    out.push_back({kLapicBase, kApicWindowSize});
    return out;
}

std::vector<PhysRange> GuestLayout::usable_ram() const {
    std::vector<PhysRange> out;
    out.push_back({0, kBootInfoBase});
    out.push_back({kLegacyHoleEnd, low_ram_end - kLegacyHoleEnd});
    if (high_ram_size != 0) out.push_back({k4GiB, high_ram_size});
    return out;
}

bool GuestLayout::is_usable_ram(uint64_t addr, uint64_t len) const {
    for (const auto& r : usable_ram())
        if (r.contains(addr, len)) return true;
    return false;
}

Result<GuestMemory> create_guest_memory(const GuestLayout& layout) {
    GuestMemory mem;
    for (const auto& spec : layout.memory_regions()) {
        auto region = MemoryRegion::create(spec.base, spec.size, spec.name);
        if (!region) return std::unexpected(region.error());
        if (auto r = mem.add_region(std::move(*region)); !r) return std::unexpected(r.error());
    }
    return mem;
}

}  // namespace pvhv
