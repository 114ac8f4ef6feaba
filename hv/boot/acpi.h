// Minimal ACPI tables for PVH guests (RSDP, RSDT/XSDT, FADT, MADT, DSDT) written into guest RAM.
#pragma once

#include <cstdint>
#include <span>

#include "hv/devices/acpi_sleep_device.h"
#include "hv/error.h"
#include "hv/mem/guest_memory.h"
#include "hv/types.h"

namespace pvhv {

// xAPIC MADT entries carry 8-bit APIC ids, and the IOAPIC takes the id after the last CPU.
inline constexpr uint32_t kAcpiMaxVcpus = 254;

struct AcpiConfig {
    uint32_t vcpus = 1;      // LAPIC ids 0..vcpus-1, enabled
    uint32_t max_vcpus = 0;  // 0 = vcpus; ids vcpus..max_vcpus-1 are listed but disabled
    bool ioapic = true;      // one IOAPIC at 0xFEC00000, id = max_vcpus, GSI base 0
    bool cmos_rtc = false;   // false sets the FADT "no CMOS RTC" boot flag
    // Describe the 16550 at 0x3F8/IRQ4 in the DSDT (needs ioapic). With HW_REDUCED_ACPI
    // Linux sets up no legacy ISA IRQs, so ttyS0 only gets IRQ 4 when a PNP0501 device's
    // _CRS maps GSI 4 (as Firecracker and Cloud Hypervisor do); without it ttyS0 can
    // print (polled) but opening it fails. Set false when no UART is emulated.
    bool com1 = true;
    // First of the three AcpiSleepDevice ports (control, status, reset). Without the FADT's
    // sleep registers and \_S5 Linux installs no ACPI power-off, and without RESET_REG its
    // reboot falls back to legacy reset methods pvhv does not emulate. 0: none of them.
    uint16_t sleep_port = acpi_sleep::kDefaultPort;
};

// Where each table went (all inside [base, base+size)).
struct AcpiTables {
    Gpa rsdp;  // goes to hvm_start_info.rsdp_paddr
    Gpa rsdt;
    Gpa xsdt;
    Gpa fadt;
    Gpa madt;
    Gpa dsdt;
    uint64_t size = 0;  // bytes used from base
};

// Builds the tables and writes them at `base` (16-byte aligned, at most `max_size` bytes).
//
// Shape (checked against Linux 6.1, arch/x86/kernel/acpi/boot.c and ACPICA tbfadt.c):
// - FADT revision 6 with HW_REDUCED_ACPI: no FACS, no PM timer, no SCI/GPE/PM1 blocks;
//   Linux then skips the PIT/legacy PIC setup (acpi_generic_reduced_hw_init), as on Xen PVH.
//   SCI_INT is 9 nevertheless: Linux matches interrupt source overrides against SCI_INT,
//   and 0 would make it treat the IRQ0->GSI2 override as the SCI (level, active low).
//   Boot flags: no VGA, no 8042, no CMOS RTC unless cmos_rtc.
//   With sleep_port: SLEEP_CONTROL_REG and SLEEP_STATUS_REG (Linux's acpi_sleep_state_supported
//   wants both on reduced hardware), RESET_REG with RESET_VALUE and RESET_REG_SUP (acpi_reboot),
//   all 8-bit system I/O registers of the AcpiSleepDevice.
// - MADT: LAPIC address 0xFEE00000, PCAT_COMPAT; one Processor Local APIC per vCPU; the
//   IOAPIC; overrides ISA IRQ0 -> GSI2 (edge, high) and IRQ9 -> GSI9 (level, high).
// - DSDT: \_S5 (with sleep_port) and the optional COM1 device; CPUs come from the MADT.
// - RSDP revision 2 -> XSDT (and RSDT for acpi=rsdt) -> FADT, MADT; FADT -> DSDT.
Result<AcpiTables> write_acpi_tables(const GuestMemory& mem, Gpa base, uint64_t max_size,
                                     const AcpiConfig& config);

// Checks the vCPU counts (what write_acpi_tables refuses), for callers validating up front.
Result<void> validate_acpi_config(const AcpiConfig& config);

// The byte that makes a table sum to zero is `-(sum of the others)`; a valid table sums to 0.
uint8_t acpi_sum(std::span<const uint8_t> bytes);

}  // namespace pvhv
