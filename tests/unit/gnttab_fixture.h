// Shared setup for the grant table tests: a granting domain's RAM, special pages and table.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "hv/gnttab/grant_access.h"
#include "hv/gnttab/grant_table.h"

namespace pvhv::testing {

// Domain 7 with RAM [0, 0x80000) and [0x100000, 0x400000) (a boot-info hole in between, as
// in the real layout), 16 special pages at 0xfeff0000, and a 4-frame grant table.
class GnttabFixture : public ::testing::Test {
  protected:
    static constexpr DomId kGuest{7};
    static constexpr uint64_t kRamEnd = 0x400000;
    static constexpr uint64_t kSpecial = 0xfeff0000;

    GnttabFixture() {
        EXPECT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0}, kRamEnd, "ram")));
        EXPECT_TRUE(
            mem.add_region(*MemoryRegion::create(Gpa{kSpecial}, 16 * kPageSize, "special")));
        auto frames = GrantTable::allocate_frames(kGuest, 4);
        EXPECT_TRUE(frames);
        auto ram = std::make_unique<LayoutGrantableRam>(
            mem, std::vector<PhysRange>{{0, 0x80000}, {0x100000, kRamEnd - 0x100000}});
        auto t = GrantTable::create({kGuest, 4}, std::move(*frames), std::move(ram));
        EXPECT_TRUE(t) << t.error().message;
        table = std::move(*t);
    }

    // The guest's side of grant_table.h: domid and frame first, then the flags.
    grant_entry_v1_t* entry(uint32_t ref) {
        auto f = table->frame_bytes(ref / kGrantEntriesPerFrameV1);
        EXPECT_TRUE(f);
        return reinterpret_cast<grant_entry_v1_t*>(f->data()) + ref % kGrantEntriesPerFrameV1;
    }
    void grant(uint32_t ref, uint16_t flags, uint16_t domid, uint32_t frame) {
        grant_entry_v1_t* e = entry(ref);
        e->domid = domid;
        e->frame = frame;
        std::atomic_ref<uint16_t>(e->flags).store(flags, std::memory_order_release);
    }
    uint16_t flags(uint32_t ref) { return std::atomic_ref<uint16_t>(entry(ref)->flags).load(); }
    uint8_t* ram(uint64_t gpa) { return mem.span(Gpa{gpa}, 1)->data(); }

    GuestMemory mem;  // declared first: outlives the table and every mapping
    std::shared_ptr<GrantTable> table;
};

}  // namespace pvhv::testing
