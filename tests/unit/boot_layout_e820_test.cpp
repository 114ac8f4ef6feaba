// Unit tests of the guest-physical layout and the e820 map built from it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hv/boot/e820.h"
#include "hv/boot/guest_layout.h"

namespace pvhv {
namespace {

using ::testing::HasSubstr;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(GuestLayout, SmallGuestHasLowRamAndSpecialPages) {
    auto l = GuestLayout::for_memory(128 * kMiB);
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_EQ(l->low_ram_end, 128 * kMiB);
    EXPECT_EQ(l->high_ram_size, 0u);
    const auto regions = l->memory_regions();
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_EQ(regions[0].name, layout::kRegionLowRam);
    EXPECT_EQ(regions[0].base, Gpa{0});
    EXPECT_EQ(regions[0].size, 128 * kMiB);
    EXPECT_EQ(regions[1].name, layout::kRegionSpecial);
    EXPECT_EQ(regions[1].base, Gpa{0xFEFF0000});
    EXPECT_EQ(regions[1].size, 16 * kPageSize);
    EXPECT_EQ(GuestLayout::special_page(0), Gfn{0xFEFF0});
    EXPECT_EQ(GuestLayout::special_page(15), Gfn{0xFEFFF});
}

TEST(GuestLayout, LargeGuestSplitsAroundTheHole) {
    auto l = GuestLayout::for_memory(4 * kGiB);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->low_ram_end, 0xE0000000u);
    EXPECT_EQ(l->high_ram_size, 4 * kGiB - 0xE0000000u);
    const auto regions = l->memory_regions();
    ASSERT_EQ(regions.size(), 3u);
    EXPECT_EQ(regions[2].name, layout::kRegionHighRam);
    EXPECT_EQ(regions[2].base, Gpa{4 * kGiB});
    EXPECT_TRUE(l->is_usable_ram(4 * kGiB, l->high_ram_size));
    EXPECT_FALSE(l->is_usable_ram(0xE0000000u - 4, 8));  // straddles the hole
}

TEST(GuestLayout, UsableRamExcludesBootTablesAndHole) {
    auto l = GuestLayout::for_memory(64 * kMiB);
    ASSERT_TRUE(l);
    EXPECT_TRUE(l->is_usable_ram(0, layout::kBootInfoBase));
    EXPECT_FALSE(l->is_usable_ram(layout::kBootInfoBase, 1));
    EXPECT_FALSE(l->is_usable_ram(layout::kAcpiBase, 1));
    EXPECT_FALSE(l->is_usable_ram(0xB8000, 1));
    EXPECT_TRUE(l->is_usable_ram(kMiB, 63 * kMiB));
    EXPECT_FALSE(l->is_usable_ram(kMiB, 63 * kMiB + 1));
    EXPECT_FALSE(l->is_usable_ram(layout::kSpecialPagesBase, kPageSize));
    EXPECT_FALSE(l->is_usable_ram(kMiB, UINT64_MAX));
}

TEST(GuestLayout, RefusesBadSizes) {
    EXPECT_THAT(GuestLayout::for_memory(64 * kMiB + 1).error().message, HasSubstr("page size"));
    EXPECT_THAT(GuestLayout::for_memory(kMiB).error().message, HasSubstr("minimum"));
    EXPECT_THAT(GuestLayout::for_memory(uint64_t{1} << 41).error().message, HasSubstr("maximum"));
}

TEST(GuestLayout, CreatesTheRegions) {
    auto l = GuestLayout::for_memory(16 * kMiB);
    ASSERT_TRUE(l);
    auto mem = create_guest_memory(*l);
    ASSERT_TRUE(mem) << mem.error().message;
    ASSERT_EQ(mem->regions().size(), 2u);
    EXPECT_TRUE(mem->is_ram(Gpa{0}, 16 * kMiB));
    EXPECT_TRUE(mem->is_ram(Gpa{layout::kSpecialPagesBase}, layout::kSpecialPagesSize));
    EXPECT_FALSE(mem->is_ram(Gpa{16 * kMiB}, 1));
}

void expect_sane(const std::vector<E820Entry>& m) {
    ASSERT_TRUE(validate_e820(m)) << validate_e820(m).error().message;
    for (size_t i = 1; i < m.size(); ++i) EXPECT_LE(m[i - 1].addr + m[i - 1].size, m[i].addr);
}

uint64_t ram_bytes(const std::vector<E820Entry>& m) {
    uint64_t n = 0;
    for (const auto& e : m)
        if (e.type == E820Type::Ram) n += e.size;
    return n;
}

bool covered_as(const std::vector<E820Entry>& m, uint64_t addr, uint64_t len, E820Type t) {
    for (const auto& e : m)
        if (e.type == t && addr >= e.addr && addr + len <= e.addr + e.size) return true;
    return false;
}

bool any_ram_overlap(const std::vector<E820Entry>& m, uint64_t addr, uint64_t len) {
    for (const auto& e : m)
        if (e.type == E820Type::Ram && addr < e.addr + e.size && e.addr < addr + len) return true;
    return false;
}

TEST(E820, SmallGuestMapIsSane) {
    auto l = GuestLayout::for_memory(256 * kMiB);
    ASSERT_TRUE(l);
    const auto m = build_e820(*l);
    expect_sane(m);
    // Everything but [boot info, 1 MiB) is RAM.
    EXPECT_EQ(ram_bytes(m), 256 * kMiB - (kMiB - layout::kBootInfoBase));
    EXPECT_TRUE(
        covered_as(m, layout::kSpecialPagesBase, layout::kSpecialPagesSize, E820Type::Reserved));
    EXPECT_TRUE(covered_as(m, layout::kAcpiBase, layout::kAcpiSize, E820Type::Acpi));
    EXPECT_TRUE(covered_as(m, layout::kBootInfoBase, layout::kBootInfoSize, E820Type::Reserved));
    EXPECT_TRUE(covered_as(m, layout::kIoapicBase, kPageSize, E820Type::Reserved));
    EXPECT_TRUE(covered_as(m, layout::kLapicBase, kPageSize, E820Type::Reserved));
    EXPECT_FALSE(any_ram_overlap(m, 0xA0000, 0x60000));
    EXPECT_FALSE(any_ram_overlap(m, 256 * kMiB, layout::k4GiB - 256 * kMiB));
}

TEST(E820, LargeGuestMapIsSane) {
    auto l = GuestLayout::for_memory(6 * kGiB);
    ASSERT_TRUE(l);
    const auto m = build_e820(*l);
    expect_sane(m);
    EXPECT_EQ(ram_bytes(m), 6 * kGiB - (kMiB - layout::kBootInfoBase));
    EXPECT_TRUE(covered_as(m, 4 * kGiB, 6 * kGiB - 0xE0000000u, E820Type::Ram));
    EXPECT_FALSE(any_ram_overlap(m, 0xE0000000u, 4 * kGiB - 0xE0000000u));
    const auto hvm = to_hvm_memmap(m);
    ASSERT_EQ(hvm.size(), m.size());
    EXPECT_EQ(hvm.back().addr, 4 * kGiB);
    EXPECT_EQ(hvm.back().type, XEN_HVM_MEMMAP_TYPE_RAM);
    EXPECT_EQ(hvm.back().reserved, 0u);
}

TEST(E820, ValidateCatchesBadMaps) {
    EXPECT_FALSE(validate_e820({}));
    std::vector<E820Entry> m{{0, 0x1000, E820Type::Ram}, {0x800, 0x1000, E820Type::Reserved}};
    EXPECT_THAT(validate_e820(m).error().message, HasSubstr("overlaps"));
    m = {{0x2000, 0x1000, E820Type::Ram}, {0, 0x1000, E820Type::Ram}};
    EXPECT_THAT(validate_e820(m).error().message, HasSubstr("out of order"));
    m = {{0, 0, E820Type::Ram}};
    EXPECT_THAT(validate_e820(m).error().message, HasSubstr("empty"));
    m = {{UINT64_MAX - 10, 0x1000, E820Type::Ram}};
    EXPECT_THAT(validate_e820(m).error().message, HasSubstr("wraps"));
    m = {{0, 0x1000, static_cast<E820Type>(9)}};
    EXPECT_THAT(validate_e820(m).error().message, HasSubstr("unknown type"));
}

}  // namespace
}  // namespace pvhv
