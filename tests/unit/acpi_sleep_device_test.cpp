// Unit tests of the ACPI sleep/reset device: S5 powers off once, reset resets, garbage is ignored.
#include <gtest/gtest.h>

#include <vector>

#include "hv/devices/acpi_sleep_device.h"
#include "hv/devices/bus.h"

namespace pvhv {
namespace {

constexpr uint16_t kBase = acpi_sleep::kDefaultPort;
constexpr uint16_t kControl = kBase + acpi_sleep::kControlOffset;
constexpr uint16_t kStatus = kBase + acpi_sleep::kStatusOffset;
constexpr uint16_t kReset = kBase + acpi_sleep::kResetOffset;

struct AcpiSleepFixture : ::testing::Test {
    int power_offs = 0, resets = 0;
    AcpiSleepDevice dev{[this] { ++power_offs; }, [this] { ++resets; }};
    Bus bus{"pio"};
    AcpiSleepFixture() { EXPECT_TRUE(bus.add(kBase, acpi_sleep::kLength, &dev, "acpi-sleep")); }
    void out(uint16_t port, std::vector<uint8_t> bytes) {
        EXPECT_TRUE(bus.write(port, std::span<const uint8_t>(bytes)));
    }
    std::vector<uint8_t> in(uint16_t port, size_t len) {
        std::vector<uint8_t> v(len, 0xaa);
        EXPECT_TRUE(bus.read(port, std::span<uint8_t>(v)));
        return v;
    }
};

TEST_F(AcpiSleepFixture, PowerOffValueIsLinuxsS5Write) {
    // What acpi_hw_extended_sleep(S5) writes: (SLP_TYPa << 2) & 0x1c | SLP_EN.
    EXPECT_EQ(acpi_sleep::kPowerOffValue, ((5 << 2) & 0x1c) | 0x20);
    out(kStatus, {0x80});  // it clears WAK_STS first
    EXPECT_EQ(power_offs, 0);
    out(kControl, {0x34});
    EXPECT_EQ(power_offs, 1);
    EXPECT_EQ(resets, 0);
}

TEST_F(AcpiSleepFixture, OnlyTheFirstRequestActs) {
    out(kControl, {0x34});
    out(kControl, {0x34});
    out(kReset, {acpi_sleep::kResetValue});
    EXPECT_EQ(power_offs, 1);
    EXPECT_EQ(resets, 0);
}

TEST_F(AcpiSleepFixture, ResetValueResets) {
    out(kReset, {0x42});
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(power_offs, 0);
}

TEST_F(AcpiSleepFixture, OtherSleepTypesAndGarbageDoNothing) {
    for (unsigned v = 0; v < 256; ++v) {
        if (v == 0x34) continue;
        out(kControl, {static_cast<uint8_t>(v)});  // S0-S4/S6/S7, no SLP_EN, reserved bits
        out(kStatus, {static_cast<uint8_t>(v)});
        if (v != 0x42) out(kReset, {static_cast<uint8_t>(v)});
    }
    out(kControl, {0x34, 0x00});  // wider than the declared 8-bit register
    out(kStatus, {0x34});         // the power-off value at the wrong register
    out(kStatus, {0x00, 0x42});   // a 16-bit write whose high byte lands on RESET_REG
    out(kControl, {0x42});        // the reset value at the wrong register
    EXPECT_EQ(power_offs, 0);
    EXPECT_EQ(resets, 0);
    // Still armed afterwards.
    out(kControl, {0x34});
    EXPECT_EQ(power_offs, 1);
}

TEST_F(AcpiSleepFixture, OutsideTheRangeIsUnclaimed) {
    uint8_t v = 0x34;
    EXPECT_FALSE(bus.write(kBase + acpi_sleep::kLength, std::span<const uint8_t>(&v, 1)));
    EXPECT_FALSE(bus.write(kBase - 1, std::span<const uint8_t>(&v, 1)));
    dev.write(acpi_sleep::kLength, std::span<const uint8_t>(&v, 1));  // direct, past the end
    dev.write(~uint64_t{0}, std::span<const uint8_t>(&v, 1));
    EXPECT_EQ(power_offs, 0);
}

TEST_F(AcpiSleepFixture, EveryRegisterReadsZero) {
    // WAK_STS (bit 7) stays clear: the guest never sleeps, so it never wakes.
    EXPECT_EQ(in(kControl, 1), std::vector<uint8_t>{0});
    EXPECT_EQ(in(kStatus, 1), std::vector<uint8_t>{0});
    EXPECT_EQ(in(kReset, 1), std::vector<uint8_t>{0});
    EXPECT_EQ(in(kControl, 2), std::vector<uint8_t>(2, 0));
    out(kStatus, {0x80});
    EXPECT_EQ(in(kStatus, 1), std::vector<uint8_t>{0});
    EXPECT_EQ(power_offs + resets, 0);
}

}  // namespace
}  // namespace pvhv
