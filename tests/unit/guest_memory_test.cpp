// Unit tests of the bounds-checked guest memory accessor.
#include <gtest/gtest.h>

#include <limits>

#include "hv/mem/guest_memory.h"

namespace pvhv {
namespace {

GuestMemory two_regions() {
    GuestMemory mem;
    EXPECT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0}, 4 * kPageSize, "low")));
    EXPECT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0x100000}, kPageSize, "high")));
    return mem;
}

TEST(GuestMemory, ReadWriteRoundTrip) {
    auto mem = two_regions();
    ASSERT_TRUE(mem.write<uint64_t>(Gpa{0x1000}, 0x1122334455667788ull));
    auto v = mem.read<uint64_t>(Gpa{0x1000});
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 0x1122334455667788ull);
}

TEST(GuestMemory, AccessAtLastByteAndPastEnd) {
    auto mem = two_regions();
    EXPECT_TRUE(mem.write<uint8_t>(Gpa{4 * kPageSize - 1}, 7));
    EXPECT_FALSE(mem.write<uint16_t>(Gpa{4 * kPageSize - 1}, 7));  // straddles the end
    EXPECT_FALSE(mem.read<uint8_t>(Gpa{4 * kPageSize}));            // the gap
    EXPECT_EQ(mem.read<uint8_t>(Gpa{4 * kPageSize}).error().xen_errno, XEN_EFAULT);
}

TEST(GuestMemory, OverflowingRangesAreRefused) {
    auto mem = two_regions();
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    EXPECT_FALSE(mem.span(Gpa{0x10}, max));
    EXPECT_FALSE(mem.span(Gpa{max}, 2));
    EXPECT_FALSE(mem.span(Gpa{max - 0xf}, 0x20));
    EXPECT_TRUE(mem.span(Gpa{0x100000}, kPageSize));
    EXPECT_FALSE(mem.span(Gpa{0x100000}, kPageSize + 1));
}

TEST(GuestMemory, OverlappingRegionsAreRefused) {
    auto mem = two_regions();
    EXPECT_FALSE(mem.add_region(*MemoryRegion::create(Gpa{0x3000}, 2 * kPageSize, "overlap")));
}

TEST(GuestMemory, CStringBounded) {
    auto mem = two_regions();
    const char msg[] = "hello";
    ASSERT_TRUE(mem.write(Gpa{0x2000}, std::span<const uint8_t>(
                                            reinterpret_cast<const uint8_t*>(msg), sizeof msg)));
    EXPECT_EQ(*mem.read_cstring(Gpa{0x2000}, 16), "hello");
    EXPECT_FALSE(mem.read_cstring(Gpa{0x2000}, 3));  // longer than the limit
    ASSERT_TRUE(mem.fill(Gpa{0x100000}, 'a', kPageSize));
    EXPECT_FALSE(mem.read_cstring(Gpa{0x100000}, 1 << 20));  // runs off the region
}

TEST(GuestMemory, SharedMappingOutlivesTheRegion) {
    std::shared_ptr<uint8_t> kept;
    {
        auto mem = two_regions();
        ASSERT_TRUE(mem.write<uint32_t>(Gpa{0x1000}, 0xabcd1234));
        kept = mem.regions().front().shared_mapping();
        EXPECT_EQ(kept.get(), mem.regions().front().host());
    }
    uint32_t v;
    std::memcpy(&v, kept.get() + 0x1000, sizeof v);  // still mapped
    EXPECT_EQ(v, 0xabcd1234u);
}

}  // namespace
}  // namespace pvhv
