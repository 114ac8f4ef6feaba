// ACPI sleep/reset register decoding: validates each guest write before powering off or resetting.
#include "hv/devices/acpi_sleep_device.h"

#include <algorithm>
#include <string>

namespace pvhv {

using namespace acpi_sleep;

void AcpiSleepDevice::read(uint64_t, std::span<uint8_t> data) { std::ranges::fill(data, 0); }

void AcpiSleepDevice::write(uint64_t offset, std::span<const uint8_t> data) {
    if (data.size() != 1) return;
    const uint8_t value = data[0];
    switch (offset) {
        case kControlOffset:
            // Linux writes SLP_EN with another type only for a \_Sx we do not describe.
            if (value == kPowerOffValue) {
                request(power_off_);
                return;
            }
            break;
        case kStatusOffset:
            return;  // WAK_STS is write-1-to-clear and never set: every write is a no-op
        case kResetOffset:
            if (value == kResetValue) {
                request(reset_);
                return;
            }
            break;
        default:
            return;
    }
    log_guest(log_limit_, LogLevel::Warn,
              "acpi-sleep: ignored write " + std::to_string(value) + " at offset " +
                  std::to_string(offset));
}

void AcpiSleepDevice::request(const Callback& fn) {
    if (!requested_.exchange(true)) fn();
}

}  // namespace pvhv
