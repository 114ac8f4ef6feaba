// Unit tests of the ACPI sleep/reset description: FADT sleep and reset registers, \_S5 in the DSDT.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hv/boot/acpi.h"
#include "hv/boot/guest_layout.h"
#include "acpi_test_fixture.h"

namespace pvhv {
namespace {

// Raw offsets from ACPICA's struct acpi_table_fadt (Linux 6.1 include/acpi/actbl.h), so the
// test does not share the writer's struct definitions.
constexpr size_t kFadtFlags = 112, kFadtResetReg = 116, kFadtResetValue = 128;
constexpr size_t kFadtSleepControl = 244, kFadtSleepStatus = 256;
constexpr uint32_t kResetRegSup = 1u << 10;

// Name (\_S5, Package () { 5, 0, 0, 0 }) as iasl compiles it.
const std::string kS5Aml("\x08_S5_\x12\x07\x04\x0a\x05\x00\x00\x00", 13);

class AcpiSleepTablesTest : public testing::AcpiTablesFixture {
  protected:
    // A generic address structure: space, bit width, bit offset, access size, address.
    struct GasView {
        uint8_t space, width, offset, access;
        uint64_t address;
        bool operator==(const GasView&) const = default;
    };
    static GasView gas(const std::vector<uint8_t>& b, size_t off) {
        return {b.at(off), b.at(off + 1), b.at(off + 2), b.at(off + 3), at<uint64_t>(b, off + 4)};
    }
    static std::string aml(const std::vector<uint8_t>& dsdt) {
        return std::string(dsdt.begin() + 36, dsdt.end());
    }
};

TEST_F(AcpiSleepTablesTest, FadtPointsAtTheSleepDeviceByDefault) {
    const auto t = write(AcpiConfig{.vcpus = 2});
    const auto fadt = table(t.fadt, "FACP");
    ASSERT_EQ(fadt.size(), 276u);
    const uint32_t flags = at<uint32_t>(fadt, kFadtFlags);
    EXPECT_TRUE(flags & (1u << 20)) << "still HW_REDUCED_ACPI";
    EXPECT_TRUE(flags & kResetRegSup);
    // System I/O, 8 bits at bit 0, byte access.
    EXPECT_EQ(gas(fadt, kFadtSleepControl), (GasView{1, 8, 0, 1, 0x600}));
    EXPECT_EQ(gas(fadt, kFadtSleepStatus), (GasView{1, 8, 0, 1, 0x601}));
    EXPECT_EQ(gas(fadt, kFadtResetReg), (GasView{1, 8, 0, 1, 0x602}));
    EXPECT_EQ(fadt[kFadtResetValue], 0x42);
    // The neighbours are untouched: ARM boot flags, minor revision, hypervisor vendor id.
    EXPECT_EQ(at<uint16_t>(fadt, 129), 0u);
    EXPECT_EQ(fadt[131], 0);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(fadt.data()) + 268, 4), "PVHV");
}

TEST_F(AcpiSleepTablesTest, DsdtHasS5BeforeCom1) {
    const auto t = write(AcpiConfig{.vcpus = 1});
    const auto code = aml(table(t.dsdt, "DSDT"));
    ASSERT_EQ(code.size(), kS5Aml.size() + 51);
    EXPECT_EQ(code.substr(0, kS5Aml.size()), kS5Aml);
    EXPECT_EQ(code[kS5Aml.size()], 0x10) << "then Scope (\\_SB) with COM1";
    EXPECT_NE(code.find("COM1"), std::string::npos);

    // Without COM1 (or the IOAPIC it needs) \_S5 stays.
    const auto t2 = write(AcpiConfig{.vcpus = 1, .ioapic = false});
    EXPECT_EQ(aml(table(t2.dsdt, "DSDT")), kS5Aml);
}

TEST_F(AcpiSleepTablesTest, OtherPortMovesAllThreeRegisters) {
    const auto t = write(AcpiConfig{.vcpus = 1, .sleep_port = 0xb000});
    const auto fadt = table(t.fadt, "FACP");
    EXPECT_EQ(gas(fadt, kFadtSleepControl).address, 0xb000u);
    EXPECT_EQ(gas(fadt, kFadtSleepStatus).address, 0xb001u);
    EXPECT_EQ(gas(fadt, kFadtResetReg).address, 0xb002u);
}

TEST_F(AcpiSleepTablesTest, PortZeroDescribesNothing) {
    const auto t = write(AcpiConfig{.vcpus = 1, .sleep_port = 0});
    const auto fadt = table(t.fadt, "FACP");
    EXPECT_FALSE(at<uint32_t>(fadt, kFadtFlags) & kResetRegSup);
    for (size_t off : {kFadtResetReg, kFadtSleepControl, kFadtSleepStatus})
        EXPECT_EQ(gas(fadt, off), (GasView{0, 0, 0, 0, 0})) << off;
    EXPECT_EQ(fadt[kFadtResetValue], 0);
    const auto code = aml(table(t.dsdt, "DSDT"));
    EXPECT_EQ(code.find("_S5_"), std::string::npos);
    EXPECT_EQ(code[0], 0x10) << "only COM1 left";
}

TEST_F(AcpiSleepTablesTest, RefusesAPortWithoutRoomForThreeRegisters) {
    EXPECT_TRUE(validate_acpi_config({.vcpus = 1, .sleep_port = 0xfffd}));
    auto r = validate_acpi_config({.vcpus = 1, .sleep_port = 0xfffe});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("sleep_port"), std::string::npos);
}

}  // namespace
}  // namespace pvhv
