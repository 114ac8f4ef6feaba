// Unit tests of XENMAPSPACE_grant_table placement: table records and KVM slots kept in step.
#include <gtest/gtest.h>

#include "gnttab_fixture.h"
#include "hv/gnttab/grant_physmap.h"
#include "physmap_fakes.h"

namespace pvhv {
namespace {

class GnttabPhysmap : public testing::GnttabFixture {
  protected:
    static constexpr Gfn kHole{0x10000};  // 256 MiB: above the fixture's 4 MiB of RAM
    static constexpr Gfn kHole2{0x10010};

    Result<void> place(uint64_t idx, Gfn gfn) { return place_grant_frame(*table, physmap, idx, gfn); }
    uint8_t* frame_host(uint32_t i) { return table->frames().host() + uint64_t{i} * kPageSize; }
    // The page the guest sees at gfn, or null for none.
    const uint8_t* shown_at(Gfn gfn) {
        const auto* s = slots.at(to_gpa(gfn));
        return s ? s->host : nullptr;
    }

    testing::RecordingSlots slots;
    // The fixture's RAM and special pages are fixed; 4 frames need at most 5 slots.
    Physmap physmap{PhysmapConfig{{{0, kRamEnd}, {kSpecial, 16 * kPageSize}}, 48, 2, 5}, slots};
};

TEST_F(GnttabPhysmap, PlacedFrameShowsAtItsGfnZeroed) {
    frame_host(0)[0] = 0x77;  // garbage the guest must never see
    ASSERT_TRUE(place(0, kHole));
    EXPECT_EQ(shown_at(kHole), frame_host(0));
    EXPECT_EQ(slots.at(to_gpa(kHole))->size, kPageSize);
    EXPECT_EQ(frame_host(0)[0], 0);
    EXPECT_EQ(table->frame_gfn(0), kHole);
    EXPECT_EQ(*table->setup(1), std::vector<uint64_t>{kHole.value});
    EXPECT_TRUE(physmap.is_placed(kHole));
}

TEST_F(GnttabPhysmap, MovingAFrameTakesItsContentsAndLeavesTheOldGfnEmpty) {
    ASSERT_TRUE(place(0, kHole));
    grant(3, GTF_permit_access, 0, 0x123);  // the guest's entry, through the frame
    ASSERT_TRUE(place(0, kHole2));
    EXPECT_EQ(shown_at(kHole), nullptr);
    EXPECT_FALSE(physmap.is_placed(kHole));
    EXPECT_EQ(shown_at(kHole2), frame_host(0));
    EXPECT_EQ(entry(3)->frame, 0x123u);  // not zeroed again
    EXPECT_EQ(slots.live.size(), 1u);
    EXPECT_EQ(slots.max_live, 2u);  // the new slot came before the old one went
}

TEST_F(GnttabPhysmap, AFrameOnTopOfAnotherUnplacesIt) {
    ASSERT_TRUE(place(0, kHole));
    ASSERT_TRUE(place(1, kHole2));
    ASSERT_TRUE(place(1, kHole));
    EXPECT_EQ(shown_at(kHole), frame_host(1));
    EXPECT_EQ(shown_at(kHole2), nullptr);
    EXPECT_EQ(slots.live.size(), 1u);
    EXPECT_FALSE(table->frame_gfn(0));
    EXPECT_EQ(*table->setup(2), (std::vector<uint64_t>{kGrantFrameNotPlaced, kHole.value}));
    ASSERT_TRUE(place(0, kHole2));  // frame 0 can come back elsewhere
    EXPECT_EQ(shown_at(kHole2), frame_host(0));
}

TEST_F(GnttabPhysmap, SameFrameSameGfnKeepsTheSlot) {
    ASSERT_TRUE(place(0, kHole));
    const size_t maps = slots.maps;
    ASSERT_TRUE(place(0, kHole));
    EXPECT_EQ(slots.maps, maps);
    EXPECT_EQ(shown_at(kHole), frame_host(0));
}

TEST_F(GnttabPhysmap, BadIndexOrGfnChangesNothing) {
    ASSERT_TRUE(place(0, kHole));
    EXPECT_EQ(place(4, kHole2).error().xen_errno, XEN_EINVAL);  // max_frames is 4
    EXPECT_EQ(place(XENMAPIDX_grant_table_status, kHole2).error().xen_errno, XEN_EINVAL);
    EXPECT_EQ(place(uint64_t{1} << 40, kHole2).error().xen_errno, XEN_EINVAL);
    for (Gfn bad : {Gfn{0x100}, Gfn{kSpecial >> kPageShift}, Gfn{uint64_t{1} << 36},
                    Gfn{~uint64_t{0}}}) {
        EXPECT_EQ(place(2, bad).error().xen_errno, XEN_EINVAL) << bad.value;
        EXPECT_EQ(place(0, bad).error().xen_errno, XEN_EINVAL) << bad.value;
    }
    EXPECT_EQ(table->nr_frames(), 1u);  // refused before the table grew
    EXPECT_EQ(table->frame_gfn(0), kHole);
    EXPECT_EQ(slots.live.size(), 1u);
    EXPECT_EQ(shown_at(kHole), frame_host(0));
}

TEST_F(GnttabPhysmap, KvmFailureLeavesTheFrameUnplacedEverywhere) {
    ASSERT_TRUE(place(0, kHole));
    slots.fail_map = true;
    EXPECT_FALSE(place(0, kHole2));
    EXPECT_FALSE(table->frame_gfn(0));
    EXPECT_TRUE(slots.live.empty());
    EXPECT_EQ(physmap.size(), 0u);
    slots.fail_map = false;
    ASSERT_TRUE(place(0, kHole2));
    EXPECT_EQ(shown_at(kHole2), frame_host(0));
}

TEST_F(GnttabPhysmap, EveryFrameMovedAroundNeedsAtMostMaxFramesPlusOneSlots) {
    for (uint32_t round = 0; round < 3; ++round)
        for (uint32_t i = 0; i < 4; ++i)
            ASSERT_TRUE(place(i, Gfn{kHole.value + round * 8 + i})) << round << " " << i;
    EXPECT_EQ(slots.live.size(), 4u);
    EXPECT_LE(slots.max_live, 5u);
    EXPECT_EQ(physmap.size(), 4u);
}

}  // namespace
}  // namespace pvhv
