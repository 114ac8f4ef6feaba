// Loads a PVH kernel (ELF with XEN_ELFNOTE_PHYS32_ENTRY), ramdisk, cmdline, ACPI and start_info.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "hv/boot/acpi.h"
#include "hv/boot/e820.h"
#include "hv/boot/elf_image.h"
#include "hv/boot/guest_layout.h"
#include "hv/error.h"
#include "hv/mem/guest_memory.h"
#include "hv/types.h"

namespace pvhv {

struct PvhLoadRequest {
    std::span<const uint8_t> ramdisk;  // empty: no module
    std::string_view cmdline;          // at most layout::kCmdlineMax - 1 bytes, no NUL
    AcpiConfig acpi;                   // vcpus for the MADT
};

// What the domain builder needs to start vCPU 0 and to answer the guest later.
//
// PVH entry state (Xen's docs/misc/pvh.pandoc), set up by the vCPU code: 32-bit protected
// mode, paging off, CS flat 32-bit code (base 0, limit 4 GiB), DS/ES/SS flat data, TR a
// 32-bit TSS, EFLAGS bits reserved-only, CR0 PE (and ET), CR4 0, EBX = start_info, EIP =
// entry; all other registers undefined (zero them). Other vCPUs start via INIT/SIPI or
// VCPUOP_initialise, not here.
struct PvhBootInfo {
    uint32_t entry = 0;                // guest-physical 32-bit entry point (EIP)
    Gpa start_info;                    // struct hvm_start_info (version 1); goes in EBX
    std::vector<E820Entry> e820;       // also served through XENMEM_memory_map
    PhysRange kernel;                  // lowest p_paddr .. highest p_paddr + p_memsz
    std::optional<PhysRange> ramdisk;  // module 0, page-aligned base; size = file size
    Gpa cmdline;
    AcpiTables acpi;
};

// Validates everything before writing anything: the PVH note, each PT_LOAD inside usable
// RAM (not in the boot tables, ACPI, legacy hole, MMIO or special pages) and not
// overlapping another, the ramdisk fitting between the kernel's end and the top of low RAM,
// the command line's length. Then copies segments (zeroing bss), the ramdisk (at the top of
// low RAM, page aligned), the command line, the ACPI tables, the memory map and start_info.
Result<PvhBootInfo> load_pvh(const GuestMemory& mem, const GuestLayout& layout,
                             const ElfImage& kernel, const PvhLoadRequest& request);

// The PVH entry point from the note, checked to be a 32-bit address inside a PT_LOAD.
Result<uint32_t> pvh_entry_point(const ElfImage& kernel);

}  // namespace pvhv
