// Unit tests of the dom0 grant API: map/unmap/copy against a fake granting domain's memory.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "gnttab_fixture.h"

namespace pvhv {
namespace {

using GnttabMap = testing::GnttabFixture;
using GnttabCopy = testing::GnttabFixture;
using GnttabRace = testing::GnttabFixture;

constexpr uint32_t kFrame = 0x200;  // gfn of a RAM page (gpa 0x200000)
constexpr uint16_t kRW = GTF_permit_access;
constexpr uint16_t kRO = GTF_permit_access | GTF_readonly;

TEST_F(GnttabMap, WritableMappingSeesAndChangesGuestRam) {
    std::memcpy(ram(0x200000), "hello", 5);
    grant(8, kRW, 0, kFrame);
    {
        auto m = map_grant(*table, GrantRef{8}, false);
        ASSERT_TRUE(m) << m.error().message;
        EXPECT_EQ(flags(8), kRW | GTF_reading | GTF_writing);
        EXPECT_TRUE(m->valid());
        EXPECT_FALSE(m->readonly());
        EXPECT_EQ(m->granter(), kGuest);
        EXPECT_EQ(m->ref(), GrantRef{8});
        EXPECT_EQ(m->gfn(), Gfn{kFrame});
        ASSERT_EQ(m->bytes().size(), kPageSize);
        EXPECT_EQ(m->bytes().data(), ram(0x200000));
        EXPECT_EQ(std::memcmp(m->bytes().data(), "hello", 5), 0);
        m->writable_bytes()[0] = 'J';
        EXPECT_EQ(*ram(0x200000), 'J');
        ASSERT_EQ(table->active_refs().size(), 1u);
        EXPECT_EQ(table->active_refs()[0].writers, 1u);
    }
    EXPECT_EQ(flags(8), kRW);  // unmapped at scope exit
    EXPECT_TRUE(table->active_refs().empty());
}

TEST_F(GnttabMap, ReadOnlyMappingHasNoWritableView) {
    grant(9, kRO, 0, kFrame);
    auto m = map_grant(*table, GrantRef{9}, true);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_TRUE(m->readonly());
    EXPECT_TRUE(m->writable_bytes().empty());
    EXPECT_EQ(m->bytes().size(), kPageSize);
    EXPECT_EQ(flags(9), kRO | GTF_reading);
    m->reset();
    EXPECT_FALSE(m->valid());
    EXPECT_EQ(flags(9), kRO);
}

TEST_F(GnttabMap, WriteMappingOfReadOnlyGrantIsRefused) {
    grant(9, kRO, 0, kFrame);
    auto m = map_grant(*table, GrantRef{9}, false);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().xen_errno, XEN_EROFS);
    EXPECT_EQ(grant_status_code(m.error()), GNTST_general_error);
    EXPECT_EQ(flags(9), kRO);
    EXPECT_TRUE(table->active_refs().empty());
}

TEST_F(GnttabMap, BadRefs) {
    grant(511, kRW, 0, kFrame);
    EXPECT_TRUE(map_grant(*table, GrantRef{511}, true));
    for (uint32_t ref : {512u, 4u * 512, 0xffffffffu}) {
        auto m = map_grant(*table, GrantRef{ref}, true);
        ASSERT_FALSE(m);
        EXPECT_EQ(m.error().xen_errno, XEN_ENOENT) << ref;
        EXPECT_EQ(grant_status_code(m.error()), GNTST_bad_gntref);
    }
    // Once the guest grows its table the next frame's refs exist.
    ASSERT_TRUE(table->setup(2));
    grant(512, kRW, 0, kFrame);
    EXPECT_TRUE(map_grant(*table, GrantRef{512}, true));
}

TEST_F(GnttabMap, WrongDomidAndNotPermitted) {
    grant(10, kRW, 3, kFrame);  // granted to d3
    auto m = map_grant(*table, GrantRef{10}, true);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().xen_errno, XEN_EPERM);
    EXPECT_TRUE(map_grant(*table, GrantRef{10}, true, DomId{3}));  // d3 may

    grant(11, GTF_invalid, 0, kFrame);
    EXPECT_EQ(map_grant(*table, GrantRef{11}, true).error().xen_errno, XEN_EPERM);
    grant(12, GTF_accept_transfer, 0, kFrame);
    EXPECT_EQ(map_grant(*table, GrantRef{12}, true).error().xen_errno, XEN_EPERM);
    grant(13, GTF_transitive, 0, kFrame);  // v2 only
    EXPECT_EQ(map_grant(*table, GrantRef{13}, true).error().xen_errno, XEN_EPERM);
    grant(14, kRW | GTF_sub_page, 0, kFrame);
    EXPECT_EQ(map_grant(*table, GrantRef{14}, true).error().xen_errno, XEN_EPERM);
    EXPECT_EQ(flags(11), GTF_invalid);
    EXPECT_EQ(flags(14), kRW | GTF_sub_page);
}

TEST_F(GnttabMap, FramesOutsideRamAreRefusedAndLeaveNoFlags) {
    const uint32_t bad_frames[] = {
        0x80,                    // boot info (e820 reserved), inside the RAM region
        0x90,                    // ACPI tables
        0xa0,                    // legacy hole
        kRamEnd >> kPageShift,   // just past the end of RAM
        kSpecial >> kPageShift,  // a special page: backed memory, but not RAM
        (kSpecial >> kPageShift) + 15,
        0xffffffff,
    };
    for (uint32_t f : bad_frames) {
        grant(20, kRW, 0, f);
        auto m = map_grant(*table, GrantRef{20}, false);
        ASSERT_FALSE(m) << std::hex << f;
        EXPECT_EQ(m.error().xen_errno, XEN_EFAULT) << std::hex << f;
        EXPECT_EQ(grant_status_code(m.error()), GNTST_bad_page);
        EXPECT_EQ(flags(20), kRW) << std::hex << f;  // reading/writing undone
        EXPECT_TRUE(table->active_refs().empty());
    }
    grant(20, kRW, 0, (kRamEnd >> kPageShift) - 1);  // the last RAM page is fine
    EXPECT_TRUE(map_grant(*table, GrantRef{20}, false));
    grant(21, kRW, 0, 0x7f);  // the last page below the boot-info hole too
    EXPECT_TRUE(map_grant(*table, GrantRef{21}, false));
}

TEST_F(GnttabMap, TwoMappingsOfOneRefClearFlagsAtTheLastUnmap) {
    grant(8, kRW, 0, kFrame);
    auto a = map_grant(*table, GrantRef{8}, true);
    auto b = map_grant(*table, GrantRef{8}, true);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->bytes().data(), b->bytes().data());
    EXPECT_EQ(table->active_refs()[0].readers, 2u);
    a->reset();
    EXPECT_EQ(flags(8), kRW | GTF_reading);
    b->reset();
    EXPECT_EQ(flags(8), kRW);
}

TEST_F(GnttabMap, WritingClearsWhenTheLastWriterGoesReadingWhenTheLastPin) {
    grant(8, kRW, 0, kFrame);
    auto r = map_grant(*table, GrantRef{8}, true);
    ASSERT_TRUE(r);
    EXPECT_EQ(flags(8), kRW | GTF_reading);
    auto w1 = map_grant(*table, GrantRef{8}, false);  // upgrade: first write pin
    auto w2 = map_grant(*table, GrantRef{8}, false);
    ASSERT_TRUE(w1 && w2);
    EXPECT_EQ(flags(8), kRW | GTF_reading | GTF_writing);
    w1->reset();
    EXPECT_EQ(flags(8), kRW | GTF_reading | GTF_writing);
    w2->reset();
    EXPECT_EQ(flags(8), kRW | GTF_reading);
    r->reset();
    EXPECT_EQ(flags(8), kRW);
}

TEST_F(GnttabMap, MovedMappingUnmapsOnce) {
    grant(8, kRW, 0, kFrame);
    auto m = map_grant(*table, GrantRef{8}, false);
    ASSERT_TRUE(m);
    GrantMapping moved = std::move(*m);
    EXPECT_FALSE(m->valid());
    EXPECT_TRUE(moved.valid());
    GrantMapping other;
    other = std::move(moved);
    EXPECT_EQ(table->active_refs().size(), 1u);
    EXPECT_EQ(table->active_refs()[0].writers, 1u);
    other.reset();
    other.reset();  // idempotent
    EXPECT_EQ(flags(8), kRW);
}

TEST_F(GnttabMap, SecondPinUsesTheActiveEntryNotTheGuestsNewOne) {
    // As Xen: once pinned, later pins share the frame and grantee fixed at the first pin.
    grant(8, kRW, 0, kFrame);
    auto a = map_grant(*table, GrantRef{8}, true);
    ASSERT_TRUE(a);
    entry(8)->frame = kFrame + 1;  // the guest rewrites the entry while it is mapped
    auto b = map_grant(*table, GrantRef{8}, true);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->gfn(), Gfn{kFrame});
    EXPECT_EQ(b->bytes().data(), a->bytes().data());
    // Another domain cannot share a pinned ref, even if the guest now names it.
    entry(8)->domid = 3;
    EXPECT_EQ(map_grant(*table, GrantRef{8}, true, DomId{3}).error().xen_errno, XEN_EBUSY);
}

TEST_F(GnttabMap, RevocationWhileMappedDoesNotInvalidateTheMapping) {
    std::memcpy(ram(0x200000), "data", 4);
    grant(8, kRW, 0, kFrame);
    auto m = map_grant(*table, GrantRef{8}, false);
    ASSERT_TRUE(m);
    // The guest (wrongly) revokes the in-use grant and reuses the entry for something else.
    std::atomic_ref<uint16_t>(entry(8)->flags).fetch_and(static_cast<uint16_t>(~GTF_permit_access));
    entry(8)->frame = 0xffffffff;
    // The mapping is still guest RAM: reading and writing it is safe for pvd.
    EXPECT_EQ(std::memcmp(m->bytes().data(), "data", 4), 0);
    m->writable_bytes()[kPageSize - 1] = 0x5a;
    EXPECT_EQ(*ram(0x200fff), 0x5a);
    // A new mapping while pinned follows Xen (the active entry stands) ...
    auto again = map_grant(*table, GrantRef{8}, true);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->gfn(), Gfn{kFrame});
    again->reset();
    // ... and the last unmap clears reading/writing without resurrecting the grant.
    m->reset();
    EXPECT_EQ(flags(8), GTF_invalid);
    EXPECT_TRUE(table->active_refs().empty());
    // Now unpinned, the revoked entry is checked again and refused.
    EXPECT_EQ(map_grant(*table, GrantRef{8}, true).error().xen_errno, XEN_EPERM);
}

TEST_F(GnttabMap, MappingKeepsTheTableAlive) {
    grant(8, kRW, 0, kFrame);
    auto m = map_grant(*table, GrantRef{8}, false);
    ASSERT_TRUE(m);
    std::weak_ptr<GrantTable> weak = table;
    table.reset();  // the domain drops its reference first
    EXPECT_FALSE(weak.expired());
    m->writable_bytes()[0] = 1;  // the frame is still guest RAM
    m->reset();                  // unpins in the still-live table, which then goes
    EXPECT_TRUE(weak.expired());
}

TEST_F(GnttabMap, MappingOutlivesTheDomainsMemoryAndClosedTablesPinNothing) {
    grant(8, kRW, 0, kFrame);
    grant(9, kRW, 0, kFrame + 1);
    auto m = map_grant(*table, GrantRef{8}, false);
    ASSERT_TRUE(m);
    ram(to_gpa(Gfn{kFrame}).value)[0] = 0x5a;
    // The domain is destroyed: its table is closed and its GuestMemory goes away.
    table->close();
    { GuestMemory gone = std::move(mem); }
    EXPECT_EQ(m->bytes()[0], 0x5a);  // still mapped: the table holds the RAM mapping
    m->writable_bytes()[1] = 1;
    EXPECT_TRUE(table->closed());
    auto again = map_grant(*table, GrantRef{9}, true);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().xen_errno, XEN_ESRCH);
    EXPECT_EQ(grant_status_code(again.error()), GNTST_bad_domain);
    uint8_t buf[4];
    EXPECT_EQ(copy_grant(GrantedBytes{*table, GrantRef{9}, 0}, std::span<uint8_t>(buf), 4)
                  .error()
                  .xen_errno,
              XEN_ESRCH);
    EXPECT_EQ(flags(9), kRW);  // refused before the entry was touched
    EXPECT_NE(table->describe().find("(closed"), std::string::npos);
    m->reset();  // unpins (and clears the flags) in the closed table
    EXPECT_EQ(flags(8), kRW);
}

TEST_F(GnttabCopy, GrantToLocalAndBack) {
    std::memcpy(ram(0x200000 + 100), "abcdef", 6);
    grant(8, kRO, 0, kFrame);
    uint8_t buf[6] = {};
    ASSERT_TRUE(copy_grant(GrantedBytes{*table, GrantRef{8}, 100}, std::span<uint8_t>(buf), 6));
    EXPECT_EQ(std::memcmp(buf, "abcdef", 6), 0);
    EXPECT_EQ(flags(8), kRO);  // the copy's pin is gone again

    // Writing into a read-only grant is refused.
    const uint8_t src[3] = {'x', 'y', 'z'};
    auto r = copy_grant(std::span<const uint8_t>(src), GrantedBytes{*table, GrantRef{8}, 0}, 3);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().xen_errno, XEN_EROFS);

    grant(9, kRW, 0, kFrame + 1);
    ASSERT_TRUE(copy_grant(std::span<const uint8_t>(src),
                           GrantedBytes{*table, GrantRef{9}, kPageSize - 3}, 3));
    EXPECT_EQ(std::memcmp(ram(0x201000 + kPageSize - 3), "xyz", 3), 0);
    EXPECT_EQ(flags(9), kRW);
}

TEST_F(GnttabCopy, BoundsAreCheckedBeforeAnythingIsPinned) {
    grant(8, kRW, 0, kFrame);
    uint8_t buf[kPageSize + 1] = {};
    struct Case {
        uint32_t offset, len;
    };
    for (Case c : {Case{0, kPageSize + 1}, Case{1, kPageSize}, Case{kPageSize, 1},
                   Case{0xffffffff, 2}, Case{2, 0xffffffff}}) {
        auto r =
            copy_grant(GrantedBytes{*table, GrantRef{8}, c.offset}, std::span<uint8_t>(buf), c.len);
        ASSERT_FALSE(r) << c.offset << "+" << c.len;
        EXPECT_EQ(r.error().xen_errno, XEN_EINVAL);
        EXPECT_EQ(grant_status_code(r.error()), GNTST_bad_copy_arg);
    }
    EXPECT_EQ(flags(8), kRW);
    EXPECT_TRUE(
        copy_grant(GrantedBytes{*table, GrantRef{8}, kPageSize}, std::span<uint8_t>(buf), 0));
    EXPECT_TRUE(
        copy_grant(GrantedBytes{*table, GrantRef{8}, 0}, std::span<uint8_t>(buf), kPageSize));
    // Local buffers must hold len bytes.
    uint8_t small[4] = {};
    EXPECT_EQ(copy_grant(GrantedBytes{*table, GrantRef{8}, 0}, std::span<uint8_t>(small), 5)
                  .error()
                  .xen_errno,
              XEN_EINVAL);
    EXPECT_EQ(copy_grant(std::span<const uint8_t>(small), GrantedBytes{*table, GrantRef{8}, 0}, 5)
                  .error()
                  .xen_errno,
              XEN_EINVAL);
    // Local to local is not a grant copy.
    EXPECT_EQ(
        copy_grant(std::span<const uint8_t>(small), std::span<uint8_t>(small), 1).error().xen_errno,
        XEN_EINVAL);
    EXPECT_EQ(flags(8), kRW);
}

TEST_F(GnttabCopy, ChecksTheEntryLikeAMap) {
    uint8_t buf[8] = {};
    grant(8, kRW, 3, kFrame);
    EXPECT_EQ(copy_grant(GrantedBytes{*table, GrantRef{8}, 0}, std::span<uint8_t>(buf), 8)
                  .error()
                  .xen_errno,
              XEN_EPERM);
    EXPECT_EQ(copy_grant(GrantedBytes{*table, GrantRef{600}, 0}, std::span<uint8_t>(buf), 8)
                  .error()
                  .xen_errno,
              XEN_ENOENT);
    grant(9, kRW, 0, kSpecial >> kPageShift);
    EXPECT_EQ(copy_grant(GrantedBytes{*table, GrantRef{9}, 0}, std::span<uint8_t>(buf), 8)
                  .error()
                  .xen_errno,
              XEN_EFAULT);
    EXPECT_EQ(flags(9), kRW);
    // Unlike a map, a copy does not care about GTF_sub_page (Xen's mapflag).
    grant(10, kRW | GTF_sub_page, 0, kFrame);
    EXPECT_TRUE(copy_grant(GrantedBytes{*table, GrantRef{10}, 0}, std::span<uint8_t>(buf), 8));
}

TEST_F(GnttabCopy, BetweenTwoGrantsAndWithinOneFrame) {
    std::memcpy(ram(0x200000), "0123456789", 10);
    grant(8, kRO, 0, kFrame);
    grant(9, kRW, 0, kFrame + 1);
    ASSERT_TRUE(
        copy_grant(GrantedBytes{*table, GrantRef{8}, 2}, GrantedBytes{*table, GrantRef{9}, 4}, 5));
    EXPECT_EQ(std::memcmp(ram(0x201004), "23456", 5), 0);
    // Overlapping copy inside one writable grant (read and write pins on the same ref).
    grant(10, kRW, 0, kFrame);
    ASSERT_TRUE(copy_grant(GrantedBytes{*table, GrantRef{10}, 0},
                           GrantedBytes{*table, GrantRef{10}, 1}, 9));
    EXPECT_EQ(std::memcmp(ram(0x200000), "0012345678", 10), 0);
    EXPECT_EQ(flags(8), kRO);
    EXPECT_EQ(flags(9), kRW);
    EXPECT_EQ(flags(10), kRW);
    // A failing destination releases the source pin.
    grant(11, kRO, 0, kFrame + 2);
    EXPECT_FALSE(
        copy_grant(GrantedBytes{*table, GrantRef{8}, 0}, GrantedBytes{*table, GrantRef{11}, 0}, 1));
    EXPECT_EQ(flags(8), kRO);
    EXPECT_TRUE(table->active_refs().empty());
}

TEST_F(GnttabCopy, CopyWhileMappedKeepsTheMappingsFlags) {
    grant(8, kRW, 0, kFrame);
    auto m = map_grant(*table, GrantRef{8}, false);
    ASSERT_TRUE(m);
    uint8_t buf[4] = {};
    ASSERT_TRUE(copy_grant(GrantedBytes{*table, GrantRef{8}, 0}, std::span<uint8_t>(buf), 4));
    ASSERT_TRUE(copy_grant(std::span<const uint8_t>(buf), GrantedBytes{*table, GrantRef{8}, 8}, 4));
    EXPECT_EQ(flags(8), kRW | GTF_reading | GTF_writing);  // the mapping's pin remains
    m->reset();
    EXPECT_EQ(flags(8), kRW);
}

TEST_F(GnttabRace, GuestRevokesBetweenCheckAndCmpxchg) {
    grant(8, kRW, 0, kFrame);
    // The hook runs under the table lock: it touches the guest entry only, never the table.
    uint16_t* f = &entry(8)->flags;
    table->set_race_hook_for_testing([f](unsigned attempt) {
        if (attempt == 0) std::atomic_ref<uint16_t>(*f).store(GTF_invalid);
    });
    auto m = map_grant(*table, GrantRef{8}, false);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().xen_errno, XEN_EPERM);
    EXPECT_EQ(flags(8), GTF_invalid);
    EXPECT_TRUE(table->active_refs().empty());
}

TEST_F(GnttabRace, GuestDowngradesToReadOnlyBetweenCheckAndCmpxchg) {
    grant(8, kRW, 0, kFrame);
    auto r = map_grant(*table, GrantRef{8}, true);
    ASSERT_TRUE(r);
    // The upgrade to a write pin races with the guest setting GTF_readonly.
    uint16_t* f = &entry(8)->flags;
    table->set_race_hook_for_testing([f](unsigned attempt) {
        if (attempt == 0) std::atomic_ref<uint16_t>(*f).fetch_or(GTF_readonly);
    });
    auto w = map_grant(*table, GrantRef{8}, false);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().xen_errno, XEN_EROFS);
    EXPECT_EQ(flags(8), kRO | GTF_reading);  // the read pin stays, no writing bit
    table->set_race_hook_for_testing({});
    r->reset();
    EXPECT_EQ(flags(8), kRO);
}

TEST_F(GnttabRace, UnstableEntryFailsWithoutPinning) {
    grant(8, kRW, 0, kFrame);
    uint16_t* f = &entry(8)->flags;
    table->set_race_hook_for_testing(
        [f](unsigned) { std::atomic_ref<uint16_t>(*f).fetch_xor(GTF_PAT); });
    auto m = map_grant(*table, GrantRef{8}, true);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().xen_errno, XEN_EAGAIN);
    EXPECT_EQ(flags(8) & (GTF_reading | GTF_writing), 0);
    EXPECT_TRUE(table->active_refs().empty());
}

// A real second thread plays a guest that keeps toggling GTF_readonly and GTF_permit_access
// with atomic RMWs (as a guest's cmpxchg would) while dom0 maps and unmaps. Whatever wins,
// dom0 never crashes, every successful write pin saw a writable grant, and at the end no
// pin and no reading/writing bit is left.
TEST_F(GnttabRace, GuestTogglingFlagsWhileDom0MapsAndUnmaps) {
    grant(8, kRW, 0, kFrame);
    std::atomic<bool> stop{false};
    uint16_t* live = &entry(8)->flags;
    std::thread guest([live, &stop] {
        std::atomic_ref<uint16_t> f(*live);
        for (unsigned i = 0; !stop.load(std::memory_order_relaxed); ++i) {
            f.fetch_xor(i % 3 == 0 ? GTF_permit_access : GTF_readonly);
            // A short hold between flips. Without it, a guest on its own core flipping in a
            // tight loop can fail every one of dom0's five cmpxchg tries for all attempts
            // (-EAGAIN, as Xen would answer too), and "dom0 made progress" below was flaky.
            for (int spin = 0; spin < 64 && !stop.load(std::memory_order_relaxed); ++spin) {
            }
        }
    });
    unsigned ok = 0, refused = 0;
    // At least 20000 attempts, and on until one mapping succeeded (bounded: 2 s).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (int i = 0; i < 20000 || (ok == 0 && std::chrono::steady_clock::now() < deadline); ++i) {
        const bool ro = i % 2 == 0;
        auto m = map_grant(*table, GrantRef{8}, ro);
        if (!m) {
            EXPECT_TRUE(m.error().xen_errno == XEN_EPERM || m.error().xen_errno == XEN_EROFS ||
                        m.error().xen_errno == XEN_EAGAIN)
                << m.error().message;
            ++refused;
            continue;
        }
        ++ok;
        EXPECT_TRUE(flags(8) & GTF_reading);
        if (!ro) {
            EXPECT_TRUE(flags(8) & GTF_writing);
        }
        volatile uint8_t touch = m->bytes()[kPageSize - 1];  // the bytes are readable
        (void)touch;
    }
    stop = true;
    guest.join();
    EXPECT_GT(ok, 0u);  // dom0 made progress despite the guest
    (void)refused;
    EXPECT_EQ(flags(8) & (GTF_reading | GTF_writing), 0);
    EXPECT_TRUE(table->active_refs().empty());
}

}  // namespace
}  // namespace pvhv
