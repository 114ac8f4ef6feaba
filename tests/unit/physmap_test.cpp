// Unit tests of the run-time physmap: which gfns are holes, one slot per placed page, slot reuse.
#include <gtest/gtest.h>

#include <map>

#include "hv/cpu/cpuid_policy.h"
#include "hv/kvm/vm.h"
#include "physmap_fakes.h"

namespace pvhv {
namespace {

using testing::RecordingSlots;

constexpr uint64_t kMiB = 1 << 20;

// A 32 MiB guest's fixed ranges plus KVM's private pages, 48 address bits, slots 3..5.
PhysmapConfig config_for_32mib(uint32_t nr_slots = 3) {
    auto layout = GuestLayout::for_memory(32 * kMiB);
    EXPECT_TRUE(layout);
    PhysmapConfig c{layout->fixed_ranges(), 48, 3, nr_slots};
    c.fixed.push_back({kvm::kPrivatePagesBase, kvm::kPrivatePagesSize});
    return c;
}

class PhysmapTest : public ::testing::Test {
  protected:
    std::span<uint8_t> page(int i) { return {pages_[i], kPageSize}; }
    RecordingSlots slots;
    Physmap map{config_for_32mib(), slots};

  private:
    alignas(4096) uint8_t pages_[4][kPageSize]{};
};

TEST(GuestLayout, FixedRangesCoverRegionsAndApics) {
    auto l = GuestLayout::for_memory(5ull << 30);  // RAM above 4 GiB as well
    ASSERT_TRUE(l);
    auto f = l->fixed_ranges();
    auto covered = [&](uint64_t a) {
        for (const auto& r : f)
            if (r.contains(a, 1)) return true;
        return false;
    };
    EXPECT_TRUE(covered(0));
    EXPECT_TRUE(covered(layout::kBootInfoBase));      // inside the low RAM region
    EXPECT_TRUE(covered(layout::kLowRamLimit - 1));
    EXPECT_FALSE(covered(layout::kLowRamLimit));      // the MMIO hole starts here
    EXPECT_TRUE(covered(layout::kIoapicBase));
    EXPECT_TRUE(covered(layout::kLapicBase + 0xfff));
    EXPECT_FALSE(covered(layout::kLapicBase + 0x1000));
    EXPECT_TRUE(covered(layout::kSpecialPagesBase + 0xffff));
    EXPECT_TRUE(covered(layout::k4GiB + l->high_ram_size - 1));
    EXPECT_FALSE(covered(layout::k4GiB + l->high_ram_size));
}

TEST(CpuidPolicy, GuestPhysAddrBits) {
    kvm_cpuid_entry2 e{};
    e.function = 0x80000008;
    e.eax = 0x3028;  // 40 physical bits, 48 linear
    EXPECT_EQ(guest_phys_addr_bits({e}), 40u);
    EXPECT_EQ(guest_phys_addr_bits({}), 36u);
}

TEST_F(PhysmapTest, HolesAreAcceptedEverythingFixedIsNot) {
    EXPECT_TRUE(map.check(Gfn{(32 * kMiB) >> kPageShift}));    // right after RAM
    EXPECT_TRUE(map.check(Gfn{0x80000}));                      // 2 GiB
    EXPECT_TRUE(map.check(Gfn{0x100000}));                     // 4 GiB: no high RAM here
    EXPECT_TRUE(map.check(Gfn{(uint64_t{1} << 36) - 1}));      // the last gfn of 48 bits
    EXPECT_EQ(map.check(Gfn{uint64_t{1} << 36}).error().xen_errno, XEN_EINVAL);
    EXPECT_EQ(map.check(Gfn{~uint64_t{0}}).error().xen_errno, XEN_EINVAL);
    for (uint64_t gpa : {uint64_t{0}, uint64_t{0x9f000}, 32 * kMiB - kPageSize,
                         layout::kIoapicBase, layout::kLapicBase, layout::kSpecialPagesBase,
                         layout::kSpecialPagesBase + 15 * kPageSize, kvm::kPrivatePagesBase,
                         kvm::kPrivatePagesBase + 3 * kPageSize})
        EXPECT_EQ(map.check(to_gfn(Gpa{gpa})).error().xen_errno, XEN_EINVAL) << std::hex << gpa;
    EXPECT_TRUE(map.check(to_gfn(Gpa{kvm::kPrivatePagesBase + 4 * kPageSize})));
    EXPECT_TRUE(map.check(to_gfn(Gpa{layout::kLapicBase + kPageSize})));
}

TEST_F(PhysmapTest, PlaceMapsOneSlotPerPageAndRemoveFreesIt) {
    ASSERT_TRUE(map.place(Gfn{0x2000}, page(0)));
    ASSERT_TRUE(map.place(Gfn{0x2001}, page(1)));
    EXPECT_EQ(map.size(), 2u);
    EXPECT_TRUE(map.is_placed(Gfn{0x2000}));
    ASSERT_EQ(slots.live.size(), 2u);
    EXPECT_EQ(slots.live.at(3).gpa, Gpa{0x2000000});
    EXPECT_EQ(slots.live.at(3).host, page(0).data());
    EXPECT_EQ(slots.live.at(3).size, kPageSize);
    EXPECT_EQ(slots.live.at(4).gpa, Gpa{0x2001000});

    EXPECT_EQ(map.remove(Gfn{0x2000}), true);
    EXPECT_EQ(map.remove(Gfn{0x2000}), false);
    EXPECT_FALSE(slots.live.contains(3));
    EXPECT_FALSE(map.is_placed(Gfn{0x2000}));
    ASSERT_TRUE(map.place(Gfn{0x3000}, page(2)));  // slot 3 is free again
    EXPECT_EQ(slots.live.at(3).gpa, Gpa{0x3000000});
    EXPECT_NE(map.describe().find("gfn 0x3000 slot 3"), std::string::npos) << map.describe();
}

TEST_F(PhysmapTest, PlacingOverAPlacedPageReplacesItsSlotFirst) {
    ASSERT_TRUE(map.place(Gfn{0x2000}, page(0)));
    // The fake refuses overlapping slots as KVM does: the old slot must go first.
    ASSERT_TRUE(map.place(Gfn{0x2000}, page(1)));
    EXPECT_EQ(map.size(), 1u);
    ASSERT_EQ(slots.live.size(), 1u);
    EXPECT_EQ(slots.live.begin()->second.host, page(1).data());
}

TEST_F(PhysmapTest, RefusalsAndFailuresLeaveNothingBehind) {
    EXPECT_EQ(map.place(Gfn{0x100}, page(0)).error().xen_errno, XEN_EINVAL);  // RAM
    EXPECT_EQ(map.place(Gfn{0x2000}, {page(0).data(), 16}).error().xen_errno, XEN_EINVAL);
    EXPECT_TRUE(slots.live.empty());

    ASSERT_TRUE(map.place(Gfn{0x2000}, page(0)));
    slots.fail_map = true;
    EXPECT_FALSE(map.place(Gfn{0x2000}, page(1)));  // the replaced page is gone either way
    EXPECT_FALSE(map.is_placed(Gfn{0x2000}));
    EXPECT_TRUE(slots.live.empty());
    slots.fail_map = false;

    // Out of slots: three are configured.
    ASSERT_TRUE(map.place(Gfn{0x2000}, page(0)));
    ASSERT_TRUE(map.place(Gfn{0x2001}, page(1)));
    ASSERT_TRUE(map.place(Gfn{0x2002}, page(2)));
    EXPECT_EQ(map.place(Gfn{0x2003}, page(3)).error().xen_errno, XEN_ENOMEM);
    EXPECT_TRUE(map.place(Gfn{0x2002}, page(3)));  // replacing needs no extra slot

    slots.fail_unmap = true;
    EXPECT_FALSE(map.remove(Gfn{0x2001}));
    EXPECT_TRUE(map.is_placed(Gfn{0x2001}));  // still mapped in KVM, so still recorded
}

}  // namespace
}  // namespace pvhv
