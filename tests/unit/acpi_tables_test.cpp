// Unit tests of the ACPI tables: checksums, the RSDP -> XSDT -> FADT/MADT -> DSDT chain, MADT
// contents.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hv/boot/acpi.h"
#include "hv/boot/guest_layout.h"
#include "acpi_test_fixture.h"

namespace pvhv {
namespace {

using ::testing::HasSubstr;

using AcpiTest = testing::AcpiTablesFixture;

TEST_F(AcpiTest, ChainAndChecksums) {
    const auto t = write(AcpiConfig{.vcpus = 4});
    EXPECT_EQ(t.rsdp, Gpa{layout::kAcpiBase});
    EXPECT_LE(t.size, layout::kAcpiSize);

    auto rsdp = bytes(t.rsdp.value, 36);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(rsdp.data()), 8), "RSD PTR ");
    EXPECT_EQ(acpi_sum(std::span<const uint8_t>(rsdp).first(20)), 0);
    EXPECT_EQ(acpi_sum(rsdp), 0);
    EXPECT_EQ(rsdp[15], 2);                  // revision
    EXPECT_EQ(at<uint32_t>(rsdp, 20), 36u);  // length
    const uint64_t xsdt_gpa = at<uint64_t>(rsdp, 24);
    const uint32_t rsdt_gpa = at<uint32_t>(rsdp, 16);
    EXPECT_EQ(xsdt_gpa, t.xsdt.value);

    auto xsdt = table(xsdt_gpa, "XSDT");
    ASSERT_EQ(xsdt.size(), 36u + 2 * 8);
    const uint64_t fadt_gpa = at<uint64_t>(xsdt, 36);
    const uint64_t madt_gpa = at<uint64_t>(xsdt, 44);
    auto rsdt = table(rsdt_gpa, "RSDT");
    ASSERT_EQ(rsdt.size(), 36u + 2 * 4);
    EXPECT_EQ(at<uint32_t>(rsdt, 36), fadt_gpa);
    EXPECT_EQ(at<uint32_t>(rsdt, 40), madt_gpa);

    auto fadt = table(fadt_gpa, "FACP");
    EXPECT_EQ(fadt.size(), 276u);
    EXPECT_EQ(fadt[8], 6);  // revision
    const uint32_t flags = at<uint32_t>(fadt, 112);
    EXPECT_TRUE(flags & (1u << 20)) << "HW_REDUCED_ACPI";
    EXPECT_EQ(at<uint32_t>(fadt, 36), 0u);   // no FACS
    EXPECT_EQ(at<uint64_t>(fadt, 132), 0u);  // no X_FACS
    EXPECT_EQ(at<uint32_t>(fadt, 76), 0u);   // no PM timer
    EXPECT_EQ(at<uint16_t>(fadt, 46), 9u);   // SCI_INT (see acpi.h)
    const uint16_t boot = at<uint16_t>(fadt, 109);
    EXPECT_TRUE(boot & (1u << 2)) << "no VGA";
    EXPECT_TRUE(boot & (1u << 5)) << "no CMOS RTC";
    EXPECT_FALSE(boot & (1u << 1)) << "no 8042";
    const uint64_t dsdt_gpa = at<uint64_t>(fadt, 140);
    EXPECT_EQ(at<uint32_t>(fadt, 40), dsdt_gpa);
    EXPECT_EQ(dsdt_gpa, t.dsdt.value);
    table(dsdt_gpa, "DSDT");

    EXPECT_EQ(madt_gpa, t.madt.value);
    table(madt_gpa, "APIC");
}

struct MadtContents {
    uint32_t lapic_address = 0;
    std::vector<std::pair<uint8_t, uint32_t>> lapics;  // apic id, flags
    int ioapics = 0;
    uint8_t ioapic_id = 0;
    uint32_t ioapic_addr = 0, ioapic_gsi = ~0u;
    std::vector<std::tuple<uint8_t, uint32_t, uint16_t>> overrides;  // irq, gsi, flags
};

TEST_F(AcpiTest, MadtListsEveryVcpuAndTheIoapic) {
    for (uint32_t n : {1u, 2u, 8u, kAcpiMaxVcpus}) {
        const auto t = write(AcpiConfig{.vcpus = n});
        auto madt = table(t.madt.value, "APIC");
        MadtContents c;
        c.lapic_address = at<uint32_t>(madt, 36);
        EXPECT_EQ(at<uint32_t>(madt, 40), 1u);  // PCAT_COMPAT
        for (size_t off = 44; off < madt.size();) {
            ASSERT_LE(off + 2, madt.size());
            const uint8_t type = madt[off], len = madt[off + 1];
            ASSERT_GE(len, 2);
            ASSERT_LE(off + len, madt.size());
            if (type == 0) {
                ASSERT_EQ(len, 8);
                EXPECT_EQ(madt[off + 2], madt[off + 3]);  // processor UID == APIC id
                c.lapics.emplace_back(madt[off + 3], at<uint32_t>(madt, off + 4));
            } else if (type == 1) {
                ASSERT_EQ(len, 12);
                ++c.ioapics;
                c.ioapic_id = madt[off + 2];
                c.ioapic_addr = at<uint32_t>(madt, off + 4);
                c.ioapic_gsi = at<uint32_t>(madt, off + 8);
            } else if (type == 2) {
                ASSERT_EQ(len, 10);
                EXPECT_EQ(madt[off + 2], 0);  // ISA bus
                c.overrides.emplace_back(madt[off + 3], at<uint32_t>(madt, off + 4),
                                         at<uint16_t>(madt, off + 8));
            } else {
                ADD_FAILURE() << "unexpected MADT entry type " << int(type);
            }
            off += len;
        }
        EXPECT_EQ(c.lapic_address, 0xFEE00000u);
        ASSERT_EQ(c.lapics.size(), n);
        for (uint32_t i = 0; i < n; ++i) {
            EXPECT_EQ(c.lapics[i].first, i);
            EXPECT_EQ(c.lapics[i].second, 1u) << "enabled";
        }
        EXPECT_EQ(c.ioapics, 1);
        EXPECT_EQ(c.ioapic_id, n);
        EXPECT_EQ(c.ioapic_addr, 0xFEC00000u);
        EXPECT_EQ(c.ioapic_gsi, 0u);
        ASSERT_EQ(c.overrides.size(), 2u);
        EXPECT_EQ(c.overrides[0], std::make_tuple(uint8_t{0}, 2u, uint16_t{0}));
        EXPECT_EQ(c.overrides[1], std::make_tuple(uint8_t{9}, 9u, uint16_t{0xD}));
    }
}

TEST_F(AcpiTest, DisabledEntriesForHotplugAndNoIoapic) {
    const auto t = write(AcpiConfig{.vcpus = 2, .max_vcpus = 4, .ioapic = false, .sleep_port = 0});
    auto madt = table(t.madt.value, "APIC");
    ASSERT_EQ(madt.size(), 44u + 4 * 8);
    EXPECT_EQ(at<uint32_t>(madt, 44 + 4), 1u);
    EXPECT_EQ(at<uint32_t>(madt, 44 + 8 + 4), 1u);
    EXPECT_EQ(at<uint32_t>(madt, 44 + 16 + 4), 0u);
    EXPECT_EQ(at<uint32_t>(madt, 44 + 24 + 4), 0u);
    // COM1 needs the IOAPIC for its GSI: no AML without it.
    EXPECT_EQ(table(t.dsdt.value, "DSDT").size(), 36u);
}

TEST_F(AcpiTest, DsdtDescribesCom1) {
    const auto t = write(AcpiConfig{.vcpus = 1, .sleep_port = 0});  // \_S5: acpi_sleep_tables_test
    auto dsdt = table(t.dsdt.value, "DSDT");
    ASSERT_GT(dsdt.size(), 36u);
    const std::string aml(dsdt.begin() + 36, dsdt.end());
    EXPECT_EQ(aml[0], 0x10);  // ScopeOp
    EXPECT_EQ(static_cast<uint8_t>(aml[1]) + 1u, aml.size()) << "PkgLength covers the AML";
    EXPECT_NE(aml.find("COM1"), std::string::npos);
    EXPECT_NE(aml.find(std::string("\x41\xD0\x05\x01", 4)), std::string::npos);  // PNP0501
    EXPECT_NE(aml.find(std::string("\x22\x10\x00", 3)), std::string::npos);      // IRQ 4

    const auto t2 = write(AcpiConfig{.vcpus = 1, .com1 = false, .sleep_port = 0});
    EXPECT_EQ(table(t2.dsdt.value, "DSDT").size(), 36u);
}

TEST_F(AcpiTest, RefusesBadConfigAndSmallArea) {
    auto r = write_acpi_tables(mem_, Gpa{layout::kAcpiBase}, layout::kAcpiSize, {.vcpus = 0});
    EXPECT_THAT(r.error().message, HasSubstr("vcpus"));
    r = write_acpi_tables(mem_, Gpa{layout::kAcpiBase}, layout::kAcpiSize,
                          {.vcpus = kAcpiMaxVcpus + 1});
    EXPECT_THAT(r.error().message, HasSubstr("vcpus"));
    r = write_acpi_tables(mem_, Gpa{layout::kAcpiBase}, layout::kAcpiSize,
                          {.vcpus = 4, .max_vcpus = 2});
    EXPECT_FALSE(r);
    r = write_acpi_tables(mem_, Gpa{layout::kAcpiBase}, 256, {.vcpus = 1});
    EXPECT_EQ(r.error().xen_errno, XEN_ENOSPC);
    r = write_acpi_tables(mem_, Gpa{layout::kAcpiBase + 4}, layout::kAcpiSize, {.vcpus = 1});
    EXPECT_THAT(r.error().message, HasSubstr("aligned"));
    r = write_acpi_tables(mem_, Gpa{32 << 20}, layout::kAcpiSize, {.vcpus = 1});  // not RAM
    EXPECT_EQ(r.error().xen_errno, XEN_EFAULT);
}

}  // namespace
}  // namespace pvhv
