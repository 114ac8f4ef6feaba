// The guest-physical address map of a PVH domain: RAM, boot tables, ACPI, MMIO, special pages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hv/error.h"
#include "hv/mem/guest_memory.h"
#include "hv/types.h"

namespace pvhv {

// The map (one place, so the domain builder, the loader, e820 and ACPI agree):
//
//   0x0000_0000 .. 0x0008_0000   RAM (Linux wants low RAM for its SMP trampoline)
//   0x0008_0000 .. 0x0009_0000   boot info, e820 reserved: hvm_start_info + module list,
//                                memory map, command line
//   0x0009_0000 .. 0x000A_0000   ACPI tables (RSDP first), e820 ACPI
//   0x000A_0000 .. 0x0010_0000   legacy VGA/BIOS hole, e820 reserved (Linux's PVH entry
//                                reserves it anyway); backed by the low RAM region, unused
//   0x0010_0000 .. low_ram_end   RAM: kernel (at its p_paddr), free RAM, ramdisk at the top
//   low_ram_end .. 4 GiB         MMIO hole, low_ram_end = min(memory, 0xE000_0000):
//       0xFEC0_0000 + 4 KiB      IOAPIC (e820 reserved)
//       0xFEE0_0000 + 4 KiB      local APIC (e820 reserved)
//       0xFEFF_0000 + 64 KiB     16 special pages (e820 reserved, own MemoryRegion): rings
//                                and other hypervisor-provided pages; ends where Xen's HVM
//                                special pages end (0xFF000000)
//   4 GiB .. 4 GiB + rest        RAM above the hole when memory > 0xE000_0000
//
// Boot tables sit below 1 MiB and below 4 GiB on purpose: Linux's PVH entry copies
// cmdline_paddr and the first module's paddr into 32-bit boot_params fields.
namespace layout {
inline constexpr uint64_t kLowRamLimit = 0xE000'0000;  // RAM below 4 GiB ends here at most
inline constexpr uint64_t k4GiB = uint64_t{1} << 32;
inline constexpr uint64_t kMinMemory = 4 << 20;            // room for tables and a tiny guest
inline constexpr uint64_t kMaxMemory = uint64_t{1} << 40;  // 1 TiB: within 40 address bits

inline constexpr uint64_t kBootInfoBase = 0x8'0000;
inline constexpr uint64_t kBootInfoSize = 0x1'0000;
inline constexpr uint64_t kStartInfo = kBootInfoBase;              // hvm_start_info (1 page)
inline constexpr uint64_t kModlist = kStartInfo + 0x100;           // hvm_modlist_entry[]
inline constexpr uint64_t kMaxModules = (kPageSize - 0x100) / 32;  // rest of that page
inline constexpr uint64_t kMemmap = kBootInfoBase + 0x1000;        // hvm_memmap_table_entry[]
inline constexpr uint64_t kMaxMemmapEntries = kPageSize / 24;      // 1 page
inline constexpr uint64_t kCmdline = kBootInfoBase + 0x2000;       // NUL-terminated
inline constexpr uint64_t kCmdlineMax = 2 * kPageSize;             // bytes, NUL included

inline constexpr uint64_t kAcpiBase = 0x9'0000;
inline constexpr uint64_t kAcpiSize = 0x1'0000;

inline constexpr uint64_t kLegacyHoleBase = 0xA'0000;
inline constexpr uint64_t kLegacyHoleEnd = 0x10'0000;

inline constexpr uint64_t kIoapicBase = 0xFEC0'0000;
inline constexpr uint64_t kLapicBase = 0xFEE0'0000;
inline constexpr uint64_t kApicWindowSize = kPageSize;

inline constexpr uint64_t kSpecialPagesBase = 0xFEFF'0000;
inline constexpr uint64_t kSpecialPagesCount = 16;
inline constexpr uint64_t kSpecialPagesSize = kSpecialPagesCount * kPageSize;

// The GuestMemory region names the builder creates (also the memfd names).
inline constexpr const char* kRegionLowRam = "ram-low";
inline constexpr const char* kRegionHighRam = "ram-high";
inline constexpr const char* kRegionSpecial = "special-pages";

// Which special page holds what (abi/README.md, "Special pages"). The toolstack fills them
// and publishes their frames in HVM params, as Xen's toolstack does with its magic pages.
namespace special {
inline constexpr uint32_t kXenstoreRing = 0;  // HVM_PARAM_STORE_PFN
inline constexpr uint32_t kConsoleRing = 1;   // HVM_PARAM_CONSOLE_PFN
}  // namespace special
}  // namespace layout

// One guest-physical range the domain builder backs with a MemoryRegion (and a KVM slot).
struct RegionSpec {
    std::string name;
    Gpa base;
    uint64_t size = 0;
};

// A physical range [base, base+size).
struct PhysRange {
    uint64_t base = 0;
    uint64_t size = 0;
    uint64_t end() const { return base + size; }
    bool contains(uint64_t addr, uint64_t len) const {
        return addr >= base && addr - base <= size && len <= size - (addr - base);
    }
    bool overlaps(uint64_t addr, uint64_t len) const {
        return len != 0 && size != 0 && addr < end() && base < addr + len;
    }
};

// The layout for a given memory size (bytes of guest RAM, as in xl.cfg `memory`).
struct GuestLayout {
    uint64_t memory = 0;
    uint64_t low_ram_end = 0;    // RAM [0, low_ram_end) is one region
    uint64_t high_ram_size = 0;  // RAM [4 GiB, 4 GiB + high_ram_size), 0 if none

    // Fails unless memory is page aligned and within [kMinMemory, kMaxMemory].
    static Result<GuestLayout> for_memory(uint64_t memory_bytes);

    // What the builder must create, in address order: ram-low, special-pages, ram-high.
    std::vector<RegionSpec> memory_regions() const;

    // What no page may be placed over at run time (hv/mem/physmap.h): every region of
    // memory_regions() and the in-kernel IOAPIC and LAPIC windows. The rest below the guest's
    // address width is a hole (Linux places its grant frames in one).
    std::vector<PhysRange> fixed_ranges() const;

    // Ranges the guest may use as ordinary RAM (what e820 reports as RAM), ascending.
    std::vector<PhysRange> usable_ram() const;
    // True if [addr, addr+len) lies inside one usable RAM range.
    bool is_usable_ram(uint64_t addr, uint64_t len) const;

    PhysRange boot_info() const { return {layout::kBootInfoBase, layout::kBootInfoSize}; }
    PhysRange acpi() const { return {layout::kAcpiBase, layout::kAcpiSize}; }
    PhysRange special_pages() const {
        return {layout::kSpecialPagesBase, layout::kSpecialPagesSize};
    }
    // Guest frame of special page `index` (< kSpecialPagesCount); which page holds what is
    // assigned in abi/ (console ring, xenstore ring, ...).
    static Gfn special_page(uint32_t index) {
        return Gfn{(layout::kSpecialPagesBase >> kPageShift) + index};
    }
};

// Creates every region of memory_regions() and adds it to a new GuestMemory.
Result<GuestMemory> create_guest_memory(const GuestLayout& layout);

}  // namespace pvhv
