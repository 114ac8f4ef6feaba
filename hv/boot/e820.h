// The guest's e820 memory map, built from the layout (served in start_info and XENMEM_memory_map).
#pragma once

#include <stdint.h>  // start_info.h uses the C fixed-width types without including them
#include <xen/arch-x86/hvm/start_info.h>

#include <cstdint>
#include <span>
#include <vector>

#include "hv/boot/guest_layout.h"
#include "hv/error.h"

namespace pvhv {

// The numbers are the e820 ones, which Xen's start_info memmap types repeat.
enum class E820Type : uint32_t {
    Ram = XEN_HVM_MEMMAP_TYPE_RAM,
    Reserved = XEN_HVM_MEMMAP_TYPE_RESERVED,
    Acpi = XEN_HVM_MEMMAP_TYPE_ACPI,
    Nvs = XEN_HVM_MEMMAP_TYPE_NVS,
    Unusable = XEN_HVM_MEMMAP_TYPE_UNUSABLE,
};

struct E820Entry {
    uint64_t addr = 0;
    uint64_t size = 0;
    E820Type type = E820Type::Reserved;
    bool operator==(const E820Entry&) const = default;
};

// Sorted, non-overlapping: low RAM, boot info (reserved), ACPI tables (ACPI), legacy hole
// (reserved), RAM above 1 MiB, IOAPIC and LAPIC windows (reserved), special pages
// (reserved), RAM above 4 GiB.
std::vector<E820Entry> build_e820(const GuestLayout& layout);

// Checks what the guest relies on: non-empty, entries non-empty and not wrapping, sorted by
// address, no overlaps, known types.
Result<void> validate_e820(std::span<const E820Entry> map);

// The start_info (version 1) form of the map.
std::vector<hvm_memmap_table_entry> to_hvm_memmap(std::span<const E820Entry> map);

}  // namespace pvhv
