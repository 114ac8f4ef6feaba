// Shared fixture of the ACPI table tests: writes the tables into a guest and reads them back.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hv/boot/acpi.h"
#include "hv/boot/guest_layout.h"

namespace pvhv::testing {

// Reads tables back through GuestMemory with raw offsets from the ACPI specification, so the
// test does not share the writer's struct definitions.
class AcpiTablesFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        auto l = GuestLayout::for_memory(16 << 20);
        ASSERT_TRUE(l);
        auto m = create_guest_memory(*l);
        ASSERT_TRUE(m);
        mem_ = std::move(*m);
    }

    std::vector<uint8_t> bytes(uint64_t gpa, uint64_t len) {
        std::vector<uint8_t> b(len);
        EXPECT_TRUE(mem_.read(Gpa{gpa}, b));
        return b;
    }
    template <class T>
    static T at(const std::vector<uint8_t>& b, size_t off) {
        T v;
        EXPECT_LE(off + sizeof v, b.size());
        std::memcpy(&v, b.data() + off, sizeof v);
        return v;
    }
    // A whole table (length from its header), with its checksum verified.
    std::vector<uint8_t> table(Gpa gpa, const char* sig) { return table(gpa.value, sig); }
    std::vector<uint8_t> table(uint64_t gpa, const char* sig) {
        auto hdr = bytes(gpa, 36);
        EXPECT_EQ(std::string(reinterpret_cast<char*>(hdr.data()), 4), sig);
        const uint32_t len = at<uint32_t>(hdr, 4);
        EXPECT_GE(len, 36u);
        auto t = bytes(gpa, len);
        EXPECT_EQ(acpi_sum(t), 0) << sig << " checksum";
        return t;
    }

    AcpiTables write(const AcpiConfig& cfg) {
        auto r = write_acpi_tables(mem_, Gpa{layout::kAcpiBase}, layout::kAcpiSize, cfg);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : AcpiTables{};
    }

    GuestMemory mem_;
};

}  // namespace pvhv::testing
