// ACPI hardware-reduced sleep control/status and reset registers: S5 powers off, reset reboots.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "hv/devices/bus.h"
#include "hv/log.h"

namespace pvhv {

// Register layout and values, shared with the FADT/DSDT writer (hv/boot/acpi.cpp). They are
// QEMU's ACPI GED registers (include/hw/acpi/generic_event_device.h: SLEEP_CTL +0, SLEEP_STS +1,
// RESET +2, reset value 0x42, SLP_TYP 5 for S5), so a guest or firmware that drives that device
// needs nothing new; one register per port keeps each port's accepted values unambiguous.
namespace acpi_sleep {
// Above the legacy ISA range (0-0x3ff) and clear of PCI config (0xcf8) and pvhv's own ports.
inline constexpr uint16_t kDefaultPort = 0x600;
inline constexpr uint64_t kControlOffset = 0;  // SLEEP_CONTROL_REG (ACPI 6.x §4.8.3.7)
inline constexpr uint64_t kStatusOffset = 1;   // SLEEP_STATUS_REG (§4.8.3.8)
inline constexpr uint64_t kResetOffset = 2;    // RESET_REG (§4.8.3.6)
inline constexpr uint64_t kLength = 3;
inline constexpr uint8_t kResetValue = 0x42;
inline constexpr uint8_t kS5SleepType = 5;  // SLP_TYPa in the DSDT's \_S5 package
inline constexpr uint8_t kSlpTypShift = 2;
inline constexpr uint8_t kSlpEn = 0x20;
// The one control value that does anything: SLP_TYP = S5, SLP_EN, reserved bits clear.
inline constexpr uint8_t kPowerOffValue = (kS5SleepType << kSlpTypShift) | kSlpEn;
}  // namespace acpi_sleep

// Only S5 exists (the DSDT has no \_S1-\_S4, so Linux never asks for them). Every register reads
// 0: the guest never sleeps, so WAK_STS is never set. Only 1-byte writes of exactly the values
// above act (the FADT declares 8-bit registers with byte access); anything else is ignored.
class AcpiSleepDevice : public BusDevice {
public:
    using Callback = std::function<void()>;
    AcpiSleepDevice(Callback power_off, Callback reset)
        : power_off_(std::move(power_off)), reset_(std::move(reset)) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

private:
    void request(const Callback& fn);

    const Callback power_off_, reset_;
    // The first power-off or reset wins: several vCPUs may race to write, the domain ends once.
    std::atomic<bool> requested_{false};
    RateLimit log_limit_{10, std::chrono::seconds(5)};
};

}  // namespace pvhv
