// Unit tests of the v1 entry protocol (set_grant_status_v1) and of GrantTable's frames and dump.
#include <gtest/gtest.h>

#include <atomic>

#include "gnttab_fixture.h"
#include "hv/gnttab/grant_entry.h"

namespace pvhv {
namespace {

// One entry in an 8-byte aligned word pair, as in a grant frame.
struct alignas(8) RawEntry {
    grant_entry_v1_t e{};
    LiveGrantEntry live() { return LiveGrantEntry(reinterpret_cast<uint8_t*>(&e)); }
};

TEST(GnttabEntry, HeaderIsFlagsThenDomid) {
    RawEntry r;
    r.e.flags = 0x1234;
    r.e.domid = 0xabcd;
    r.e.frame = 0x55aa;
    const GrantHeader h = GrantHeader::from_raw(r.live().load_header());
    EXPECT_EQ(h.flags, 0x1234);
    EXPECT_EQ(h.domid, 0xabcd);
    EXPECT_EQ(h.raw(), r.live().load_header());
    EXPECT_EQ(r.live().load_frame(), 0x55aau);
}

TEST(GnttabEntry, SetStatusChecksTypeDomidAndReadonly) {
    RawEntry r;
    r.e = {GTF_permit_access, 0, 0x100};
    ASSERT_TRUE(set_grant_status_v1(r.live(), false, true, true, kDom0));
    EXPECT_EQ(r.e.flags, GTF_permit_access | GTF_reading);

    r.e = {GTF_permit_access, 3, 0x100};  // granted to d3, not to us
    EXPECT_EQ(set_grant_status_v1(r.live(), false, true, true, kDom0).error().xen_errno, XEN_EPERM);
    EXPECT_EQ(r.e.flags, GTF_permit_access);

    for (uint16_t type : {GTF_invalid, GTF_accept_transfer, GTF_transitive}) {
        r.e = {type, 0, 0x100};
        EXPECT_EQ(set_grant_status_v1(r.live(), false, true, false, kDom0).error().xen_errno,
                  XEN_EPERM);
        EXPECT_EQ(r.e.flags, type);
    }

    r.e = {GTF_permit_access | GTF_readonly, 0, 0x100};
    EXPECT_EQ(set_grant_status_v1(r.live(), false, false, true, kDom0).error().xen_errno,
              XEN_EROFS);
    EXPECT_EQ(r.e.flags, GTF_permit_access | GTF_readonly);
    ASSERT_TRUE(set_grant_status_v1(r.live(), false, true, true, kDom0));
    EXPECT_EQ(r.e.flags, GTF_permit_access | GTF_readonly | GTF_reading);

    r.e = {GTF_permit_access, 0, 0x100};
    ASSERT_TRUE(set_grant_status_v1(r.live(), false, false, true, kDom0));
    EXPECT_EQ(r.e.flags, GTF_permit_access | GTF_reading | GTF_writing);
    EXPECT_EQ(r.e.domid, 0);
    EXPECT_EQ(r.e.frame, 0x100u);
}

TEST(GnttabEntry, SubPageRefusedForMappingsOnly) {
    RawEntry r;
    r.e = {GTF_permit_access | GTF_sub_page, 0, 0x100};
    EXPECT_EQ(set_grant_status_v1(r.live(), false, true, true, kDom0).error().xen_errno, XEN_EPERM);
    EXPECT_TRUE(set_grant_status_v1(r.live(), false, true, false, kDom0));
}

TEST(GnttabEntry, PinnedRefSkipsTypeCheckButNotReadonly) {
    // Xen checks type and domid only for the first pin; a write pin still needs !GTF_readonly.
    RawEntry r;
    r.e = {GTF_invalid | GTF_reading, 9, 0x100};  // revoked while pinned
    EXPECT_TRUE(set_grant_status_v1(r.live(), true, true, true, kDom0));
    r.e = {GTF_permit_access | GTF_readonly | GTF_reading, 0, 0x100};
    EXPECT_EQ(set_grant_status_v1(r.live(), true, false, true, kDom0).error().xen_errno, XEN_EROFS);
}

TEST(GnttabEntry, GuestRevokingBeforeCmpxchgMakesItFail) {
    RawEntry r;
    r.e = {GTF_permit_access, 0, 0x100};
    unsigned calls = 0;
    GrantRaceHook hook = [&](unsigned attempt) {
        ++calls;
        if (attempt == 0) std::atomic_ref<uint16_t>(r.e.flags).store(GTF_invalid);  // revoke
    };
    auto res = set_grant_status_v1(r.live(), false, true, true, kDom0, &hook);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().xen_errno, XEN_EPERM);
    EXPECT_EQ(calls, 1u);  // the retry re-checked the new value and stopped before a cmpxchg
    EXPECT_EQ(r.e.flags, GTF_invalid);  // nothing of ours was left behind
}

TEST(GnttabEntry, GuestSettingReadonlyBeforeCmpxchgFailsAWritePin) {
    RawEntry r;
    r.e = {GTF_permit_access, 0, 0x100};
    GrantRaceHook hook = [&](unsigned attempt) {
        if (attempt == 0) std::atomic_ref<uint16_t>(r.e.flags).fetch_or(GTF_readonly);
    };
    EXPECT_EQ(set_grant_status_v1(r.live(), false, false, true, kDom0, &hook).error().xen_errno,
              XEN_EROFS);
    EXPECT_EQ(r.e.flags, GTF_permit_access | GTF_readonly);
}

TEST(GnttabEntry, GuestChangingDomidBeforeCmpxchgFails) {
    RawEntry r;
    r.e = {GTF_permit_access, 0, 0x100};
    GrantRaceHook hook = [&](unsigned) { std::atomic_ref<uint16_t>(r.e.domid).store(5); };
    EXPECT_EQ(set_grant_status_v1(r.live(), false, true, true, kDom0, &hook).error().xen_errno,
              XEN_EPERM);
    EXPECT_EQ(r.e.flags, GTF_permit_access);
}

TEST(GnttabEntry, BenignChangeIsRetried) {
    RawEntry r;
    r.e = {GTF_permit_access, 0, 0x100};
    unsigned calls = 0;
    GrantRaceHook hook = [&](unsigned attempt) {
        ++calls;
        if (attempt < 2) std::atomic_ref<uint16_t>(r.e.flags).fetch_xor(GTF_PWT);  // cache bit
    };
    ASSERT_TRUE(set_grant_status_v1(r.live(), false, false, true, kDom0, &hook));
    EXPECT_EQ(calls, 3u);
    EXPECT_EQ(r.e.flags, GTF_permit_access | GTF_reading | GTF_writing);  // PWT flipped twice
}

TEST(GnttabEntry, UnstableEntryGivesUpAfterFiveAttempts) {
    RawEntry r;
    r.e = {GTF_permit_access, 0, 0x100};
    unsigned calls = 0;
    GrantRaceHook hook = [&](unsigned) {
        ++calls;
        std::atomic_ref<uint16_t>(r.e.flags).fetch_xor(GTF_PCD);
    };
    EXPECT_EQ(set_grant_status_v1(r.live(), false, true, true, kDom0, &hook).error().xen_errno,
              XEN_EAGAIN);
    EXPECT_EQ(calls, kGrantCmpxchgAttempts);
    EXPECT_EQ(r.e.flags & (GTF_reading | GTF_writing), 0);
}

TEST(GnttabEntry, ClearFlagsKeepsOtherBitsAndDomid) {
    RawEntry r;
    r.e = {GTF_permit_access | GTF_readonly | GTF_reading | GTF_writing, 0x1234, 0x100};
    r.live().clear_flags(GTF_writing);
    EXPECT_EQ(r.e.flags, GTF_permit_access | GTF_readonly | GTF_reading);
    EXPECT_EQ(r.e.domid, 0x1234);
}

using GnttabTable = testing::GnttabFixture;

TEST_F(GnttabTable, StartsWithOneFrameAndGrowsBySetup) {
    EXPECT_EQ(table->owner(), kGuest);
    EXPECT_EQ(table->version(), 1u);
    EXPECT_EQ(table->nr_frames(), 1u);
    EXPECT_EQ(table->max_frames(), 4u);
    EXPECT_EQ(table->nr_entries(), 512u);

    auto frames = table->setup(3);
    ASSERT_TRUE(frames);
    EXPECT_EQ(*frames, (std::vector<uint64_t>(3, kGrantFrameNotPlaced)));
    EXPECT_EQ(table->nr_frames(), 3u);
    ASSERT_TRUE(table->setup(1));  // never shrinks
    EXPECT_EQ(table->nr_frames(), 3u);
    EXPECT_EQ(table->setup(5).error().xen_errno, XEN_EINVAL);
    EXPECT_EQ(table->nr_frames(), 3u);
    EXPECT_TRUE(table->frame_bytes(2));
    EXPECT_FALSE(table->frame_bytes(3));
}

TEST_F(GnttabTable, PlaceFrameGrowsRecordsAndMoves) {
    auto p = table->place_frame(2, Gfn{0x5000});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->index, 2u);
    EXPECT_EQ(p->memfd_offset, 2 * kPageSize);
    EXPECT_EQ(p->host.data(), table->frames().host() + 2 * kPageSize);
    EXPECT_EQ(p->host.size(), kPageSize);
    EXPECT_FALSE(p->previous_gfn);
    EXPECT_EQ(table->nr_frames(), 3u);  // grown to idx + 1, as Xen

    p = table->place_frame(2, Gfn{0x6000});  // the guest moves it
    ASSERT_TRUE(p);
    EXPECT_EQ(p->previous_gfn, Gfn{0x5000});
    p = table->place_frame(0, Gfn{0x6000});  // another frame on top of it
    ASSERT_TRUE(p);
    EXPECT_EQ(p->displaced, 2u);
    EXPECT_FALSE(table->frame_gfn(2));
    EXPECT_EQ(*table->setup(3),
              (std::vector<uint64_t>{0x6000, kGrantFrameNotPlaced, kGrantFrameNotPlaced}));

    EXPECT_EQ(table->unplace_gfn(Gfn{0x6000}), 0u);
    EXPECT_FALSE(table->unplace_gfn(Gfn{0x6000}));
    EXPECT_FALSE(table->frame_gfn(0));

    EXPECT_EQ(table->place_frame(4, Gfn{0x7000}).error().xen_errno, XEN_EINVAL);
    EXPECT_EQ(table->place_frame(XENMAPIDX_grant_table_status | 0, Gfn{0x7000}).error().xen_errno,
              XEN_EINVAL);
    EXPECT_EQ(table->nr_frames(), 3u);
}

TEST_F(GnttabTable, FirstPlacementZeroesTheFrameLaterMovesKeepIt) {
    auto bytes = table->frames().host();
    bytes[kPageSize + 5] = 0xee;  // frame 1 before the guest ever saw it
    auto p = table->place_frame(1, Gfn{0x5000});
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->first);
    EXPECT_EQ(bytes[kPageSize + 5], 0);
    bytes[kPageSize + 5] = 0x11;  // the guest writes an entry
    p = table->place_frame(1, Gfn{0x6000});
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->first);
    EXPECT_EQ(bytes[kPageSize + 5], 0x11);  // the frame moved with its contents
    ASSERT_EQ(table->unplace_gfn(Gfn{0x6000}), 1u);
    p = table->place_frame(1, Gfn{0x5000});
    EXPECT_FALSE(p->first);
    EXPECT_EQ(bytes[kPageSize + 5], 0x11);
}

TEST_F(GnttabTable, CreateValidatesItsInputs) {
    auto frames = GrantTable::allocate_frames(kGuest, 2);
    ASSERT_TRUE(frames);
    auto ram = std::make_unique<LayoutGrantableRam>(mem, std::vector<PhysRange>{{0, kRamEnd}});
    EXPECT_EQ(GrantTable::create({kGuest, 3}, std::move(*frames), std::move(ram)).error().xen_errno,
              XEN_EINVAL);
    EXPECT_FALSE(GrantTable::allocate_frames(kGuest, 0));
    EXPECT_FALSE(GrantTable::allocate_frames(kGuest, kGrantMaxFramesLimit + 1));
}

TEST_F(GnttabTable, DescribeListsEntriesInUseAndActiveRefs) {
    ASSERT_TRUE(table->place_frame(0, Gfn{0xfeff5}));
    grant(8, GTF_permit_access, 0, 0x200);
    grant(9, GTF_permit_access | GTF_readonly, 0, 0x201);
    auto m = map_grant(*table, GrantRef{8}, false);
    ASSERT_TRUE(m) << m.error().message;
    const std::string d = table->describe();
    EXPECT_NE(d.find("d7 grant table v1: 1 of 4 frames, 512 entries"), std::string::npos) << d;
    EXPECT_NE(d.find("frame 0: gfn 0xfeff5"), std::string::npos) << d;
    EXPECT_NE(d.find("ref 0x0008 flags 0x0019 (permit reading writing) domid 0 frame 0x200"),
              std::string::npos)
        << d;
    EXPECT_NE(d.find("ref 0x0009 flags 0x0005 (permit readonly) domid 0 frame 0x201"),
              std::string::npos)
        << d;
    EXPECT_NE(d.find("ref 0x0008 grantee d0 gfn 0x200 readers 0 writers 1"), std::string::npos)
        << d;

    const std::string short_dump = table->describe(1);
    EXPECT_NE(short_dump.find("... 1 more"), std::string::npos) << short_dump;
    m->reset();
    EXPECT_NE(table->describe().find("active:\n    none"), std::string::npos);
}

}  // namespace
}  // namespace pvhv
