// The guest's e820 memory map, built from the layout.
#include "hv/boot/e820.h"

#include "hv/format.h"

namespace pvhv {

using namespace layout;

std::vector<E820Entry> build_e820(const GuestLayout& l) {
    std::vector<E820Entry> m;
    m.push_back({0, kBootInfoBase, E820Type::Ram});
    m.push_back({kBootInfoBase, kBootInfoSize, E820Type::Reserved});
    m.push_back({kAcpiBase, kAcpiSize, E820Type::Acpi});
    m.push_back({kLegacyHoleBase, kLegacyHoleEnd - kLegacyHoleBase, E820Type::Reserved});
    m.push_back({kLegacyHoleEnd, l.low_ram_end - kLegacyHoleEnd, E820Type::Ram});
    // The APIC windows are MMIO: listing them reserved keeps Linux from placing PCI BARs or
    // hot-added memory there.
    m.push_back({kIoapicBase, kApicWindowSize, E820Type::Reserved});
    m.push_back({kLapicBase, kApicWindowSize, E820Type::Reserved});
    m.push_back({kSpecialPagesBase, kSpecialPagesSize, E820Type::Reserved});
    if (l.high_ram_size != 0) m.push_back({k4GiB, l.high_ram_size, E820Type::Ram});
    return m;
}

Result<void> validate_e820(std::span<const E820Entry> map) {
    if (map.empty()) return fail(XEN_EINVAL, "e820: empty map");
    for (size_t i = 0; i < map.size(); ++i) {
        const auto& e = map[i];
        const std::string at =
            "e820 entry " + fmt::dec(i) + " " + fmt::range(e.addr, e.size);
        if (e.size == 0) return fail(XEN_EINVAL, at + ": empty");
        if (e.addr + e.size < e.addr) return fail(XEN_EINVAL, at + ": wraps");
        const auto t = static_cast<uint32_t>(e.type);
        if (t < XEN_HVM_MEMMAP_TYPE_RAM || t > XEN_HVM_MEMMAP_TYPE_UNUSABLE)
            return fail(XEN_EINVAL, at + ": unknown type " + fmt::dec(t));
        if (i > 0 && map[i - 1].addr + map[i - 1].size > e.addr)
            return fail(XEN_EINVAL, at + ": overlaps or is out of order with the previous one");
    }
    return {};
}

std::vector<hvm_memmap_table_entry> to_hvm_memmap(std::span<const E820Entry> map) {
    std::vector<hvm_memmap_table_entry> out;
    out.reserve(map.size());
    for (const auto& e : map) {
        hvm_memmap_table_entry h{};
        h.addr = e.addr;
        h.size = e.size;
        h.type = static_cast<uint32_t>(e.type);
        h.reserved = 0;
        out.push_back(h);
    }
    return out;
}

}  // namespace pvhv
