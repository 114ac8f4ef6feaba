// Unit tests of the guest page walk used for hypercall buffers.
#include <gtest/gtest.h>

#include "hv/mem/guest_linear.h"

namespace pvhv {
namespace {

// 4-level tables at 0x1000.. mapping: 0xffff800000000000 -> 0x200000 (4K page, writable),
// 0xffff800000001000 -> 0x201000 read-only, 0x40000000 -> 2 MiB page at 0x400000.
class PageWalk : public ::testing::Test {
protected:
    PageWalk() {
        EXPECT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0}, 8 << 20, "ram")));
        const uint64_t P = 1, W = 2, PS = 0x80;
        // high-half 4K mapping
        put(0x1000 + 256 * 8, 0x2000 | P | W);  // PML4[256]
        put(0x2000, 0x3000 | P | W);            // PDPT[0]
        put(0x3000, 0x4000 | P | W);            // PD[0]
        put(0x4000, 0x200000 | P | W);          // PT[0]
        put(0x4008, 0x201000 | P);              // PT[1] read-only
        // low 2 MiB page at 1 GiB
        put(0x1000, 0x5000 | P | W);            // PML4[0]
        put(0x5000 + 1 * 8, 0x6000 | P | W);    // PDPT[1]
        put(0x6000, 0x400000 | P | W | PS);     // PD[0] 2 MiB
    }
    void put(uint64_t gpa, uint64_t v) { ASSERT_TRUE(mem.write(Gpa{gpa}, v)); }
    PagingMode long_mode() const {
        return {.cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0x500};
    }
    GuestMemory mem;
};

TEST_F(PageWalk, FourLevelAndLargePages) {
    EXPECT_EQ(translate_linear(mem, long_mode(), 0xffff800000000123ull, false)->value, 0x200123u);
    EXPECT_EQ(translate_linear(mem, long_mode(), 0x40012345ull, true)->value, 0x412345u);
    EXPECT_FALSE(translate_linear(mem, long_mode(), 0xffff800000002000ull, false));  // not present
}

TEST_F(PageWalk, WritesToReadOnlyPagesFault) {
    EXPECT_TRUE(translate_linear(mem, long_mode(), 0xffff800000001000ull, false));
    auto w = translate_linear(mem, long_mode(), 0xffff800000001000ull, true);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().xen_errno, XEN_EFAULT);
}

TEST_F(PageWalk, CopiesSplitAcrossPages) {
    GuestLinearAccess guest(mem, long_mode());
    const uint64_t v = 0x1122334455667788ull;
    // straddles the writable page and the read-only one: the write must fail
    EXPECT_FALSE(guest.write(0xffff800000000ffcull, v));
    ASSERT_TRUE(mem.write(Gpa{0x200ffc}, uint32_t{0x55667788}));
    ASSERT_TRUE(mem.write(Gpa{0x201000}, uint32_t{0x11223344}));
    EXPECT_EQ(*guest.read<uint64_t>(0xffff800000000ffcull), v);
    EXPECT_FALSE(guest.read<uint64_t>(~uint64_t{0} - 3));  // wraps
}

TEST_F(PageWalk, PagingOffIsIdentity) {
    GuestLinearAccess guest(mem, PagingMode{});
    ASSERT_TRUE(mem.write(Gpa{0x7000}, uint32_t{42}));
    EXPECT_EQ(*guest.read<uint32_t>(0x7000), 42u);
}

}  // namespace
}  // namespace pvhv
