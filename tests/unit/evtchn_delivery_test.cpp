// Unit tests of 2-level event delivery on guest memory (shared_info / vcpu_info bits, kicks).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "evtchn_test_fakes.h"

namespace pvhv {
namespace {

using testing::FakeEvtchnGuest;
using testing::kEvtchnGuestRam;

std::vector<VcpuId> vcpus(std::initializer_list<uint32_t> ids) {
    std::vector<VcpuId> out;
    for (uint32_t i : ids) out.push_back(VcpuId{i});
    return out;
}

class EvtchnDelivery : public ::testing::Test {
protected:
    FakeEvtchnGuest g{DomId{3}, 40};
    EventDelivery2L& d = g.delivery;
};

TEST_F(EvtchnDelivery, SetPendingSetsPendingSelectorUpcallThenKicksOnce) {
    d.set_pending(EvtchnPort{5}, VcpuId{1});
    EXPECT_TRUE(g.pending(5));
    EXPECT_EQ(g.selector(VcpuId{1}), 1u);
    EXPECT_EQ(g.upcall(VcpuId{1}), 1u);
    EXPECT_EQ(g.sink.raised, vcpus({1}));
    EXPECT_EQ(g.selector(VcpuId{0}), 0u);  // only the notify vCPU

    d.set_pending(EvtchnPort{5}, VcpuId{1});  // already pending: no edge
    d.set_pending(EvtchnPort{6}, VcpuId{1});  // same word: selector already set
    EXPECT_TRUE(g.pending(6));
    EXPECT_EQ(g.sink.raised, vcpus({1}));
    EXPECT_TRUE(d.is_pending(EvtchnPort{6}));
    EXPECT_FALSE(d.is_pending(EvtchnPort{7}));
}

TEST_F(EvtchnDelivery, SelectorBitsFollowPendingWordsAcrossBoundaries) {
    d.set_pending(EvtchnPort{63}, VcpuId{0});
    d.set_pending(EvtchnPort{64}, VcpuId{0});
    d.set_pending(EvtchnPort{4095}, VcpuId{0});
    EXPECT_EQ(g.pending_word(0), uint64_t{1} << 63);
    EXPECT_EQ(g.pending_word(1), 1u);
    EXPECT_EQ(g.pending_word(63), uint64_t{1} << 63);
    EXPECT_EQ(g.selector(VcpuId{0}), (uint64_t{1} << 63) | 0b11);
    EXPECT_EQ(g.sink.raised, vcpus({0}));  // upcall_pending was already set after the first
    // Out-of-range ports never touch memory past the arrays.
    d.set_pending(EvtchnPort{kEvtchnPorts2L}, VcpuId{0});
    EXPECT_EQ(g.mask_word(0), 0u);
}

TEST_F(EvtchnDelivery, MaskedEventOnlySetsPendingAndUnmaskRaisesIt) {
    g.set_mask(70, true);
    d.set_pending(EvtchnPort{70}, VcpuId{2});
    EXPECT_TRUE(g.pending(70));
    EXPECT_EQ(g.selector(VcpuId{2}), 0u);
    EXPECT_EQ(g.upcall(VcpuId{2}), 0u);
    EXPECT_TRUE(g.sink.raised.empty());
    EXPECT_TRUE(d.is_masked(EvtchnPort{70}));

    // Pollers wake on the pending edge even though the port is masked (SCHEDOP_poll).
    EXPECT_EQ(g.sink.polled, std::vector<EvtchnPort>{EvtchnPort{70}});
    d.set_pending(EvtchnPort{70}, VcpuId{2});  // no new edge, no new wake-up
    EXPECT_EQ(g.sink.polled.size(), 1u);

    d.unmask(EvtchnPort{70}, VcpuId{2});
    EXPECT_FALSE(g.masked(70));
    EXPECT_EQ(g.selector(VcpuId{2}), 0b10u);  // port 70 is in word 1
    EXPECT_EQ(g.upcall(VcpuId{2}), 1u);
    EXPECT_EQ(g.sink.raised, vcpus({2}));

    g.ack(VcpuId{2});
    d.unmask(EvtchnPort{70}, VcpuId{2});  // not masked any more: Xen does nothing
    EXPECT_EQ(g.upcall(VcpuId{2}), 0u);
    EXPECT_EQ(g.sink.raised.size(), 1u);
}

TEST_F(EvtchnDelivery, UnmaskWithoutAPendingEventRaisesNothing) {
    g.set_mask(9, true);
    d.unmask(EvtchnPort{9}, VcpuId{0});
    EXPECT_FALSE(g.masked(9));
    EXPECT_EQ(g.selector(VcpuId{0}), 0u);
    EXPECT_TRUE(g.sink.raised.empty());
}

TEST_F(EvtchnDelivery, NoSecondKickUntilTheGuestClearsUpcallPending) {
    d.set_pending(EvtchnPort{1}, VcpuId{0});
    d.set_pending(EvtchnPort{200}, VcpuId{0});  // new word, but upcall_pending is still 1
    EXPECT_EQ(g.selector(VcpuId{0}), 0b1001u);
    EXPECT_EQ(g.sink.raised.size(), 1u);
    g.ack(VcpuId{0});
    d.set_pending(EvtchnPort{300}, VcpuId{0});
    EXPECT_EQ(g.sink.raised.size(), 2u);
}

TEST_F(EvtchnDelivery, ClearPendingClearsOnlyThatBit) {
    d.set_pending(EvtchnPort{10}, VcpuId{0});
    d.set_pending(EvtchnPort{11}, VcpuId{0});
    d.clear_pending(EvtchnPort{10});
    EXPECT_FALSE(g.pending(10));
    EXPECT_TRUE(g.pending(11));
    EXPECT_EQ(g.selector(VcpuId{0}), 1u);  // Xen leaves the selector to the guest
}

TEST_F(EvtchnDelivery, VcpusBeyond32NeedARegisteredVcpuInfo) {
    d.set_pending(EvtchnPort{40}, VcpuId{33});
    EXPECT_TRUE(g.pending(40));  // recorded in shared_info, but nowhere to flag the vCPU
    EXPECT_TRUE(g.sink.raised.empty());

    const Gpa where{0x20040};
    ASSERT_TRUE(g.pages.register_vcpu_info(VcpuId{34}, where));
    auto vi = *g.mem.read<vcpu_info_t>(where);
    EXPECT_EQ(vi.evtchn_upcall_mask, 1u);  // fresh vcpu_info starts masked, as Xen's dummy
    d.set_pending(EvtchnPort{41}, VcpuId{34});
    vi = *g.mem.read<vcpu_info_t>(where);
    EXPECT_EQ(vi.evtchn_pending_sel, 1u);
    EXPECT_EQ(vi.evtchn_upcall_pending, 1u);
    EXPECT_EQ(g.sink.raised, vcpus({34}));
}

TEST_F(EvtchnDelivery, RegisterVcpuInfoChecksTheLocation) {
    auto e = [&](uint32_t v, uint64_t gpa) {
        auto r = g.pages.register_vcpu_info(VcpuId{v}, Gpa{gpa});
        return r ? 0 : r.error().xen_errno;
    };
    EXPECT_EQ(e(40, 0x20000), XEN_ENOENT);
    EXPECT_EQ(e(1, 0x20fc8), XEN_EINVAL);  // crosses into the next page
    EXPECT_EQ(e(1, 0x20004), XEN_EINVAL);  // misaligned for the selector's atomics
    EXPECT_EQ(e(1, kEvtchnGuestRam), XEN_EINVAL);
    EXPECT_EQ(e(1, 0x20fc0), 0);  // the last place that fits in the page
    EXPECT_EQ(e(1, 0x30000), XEN_EINVAL);  // only once
}

TEST_F(EvtchnDelivery, RegisteringCopiesTheOldVcpuInfoAndMovedMarksEverything) {
    d.set_pending(EvtchnPort{130}, VcpuId{1});  // selector bit 2, upcall set in the slot
    ASSERT_TRUE(g.pages.register_vcpu_info(VcpuId{1}, Gpa{0x21000}));
    auto vi = *g.mem.read<vcpu_info_t>(Gpa{0x21000});
    EXPECT_EQ(vi.evtchn_pending_sel, 0b100u);
    EXPECT_EQ(vi.evtchn_upcall_pending, 1u);

    d.vcpu_info_moved(VcpuId{1});
    vi = *g.mem.read<vcpu_info_t>(Gpa{0x21000});
    EXPECT_EQ(vi.evtchn_pending_sel, ~uint64_t{0});
    EXPECT_EQ(g.sink.raised, vcpus({1, 1}));
    // From now on the slot in shared_info is not vCPU 1's any more.
    g.ack(VcpuId{1});
    d.set_pending(EvtchnPort{500}, VcpuId{1});
    EXPECT_EQ(g.selector(VcpuId{1}), 0u);
}

TEST(EvtchnDeliveryPages, WithoutSharedInfoEventsAreDroppedSafely) {
    FakeEvtchnGuest g{DomId{3}, 2, /*map_shared_info=*/false};
    g.delivery.set_pending(EvtchnPort{5}, VcpuId{0});
    g.delivery.unmask(EvtchnPort{5}, VcpuId{0});
    g.delivery.clear_pending(EvtchnPort{5});
    EXPECT_FALSE(g.delivery.is_pending(EvtchnPort{5}));
    EXPECT_TRUE(g.delivery.is_masked(EvtchnPort{5}));
    EXPECT_TRUE(g.sink.raised.empty());
    EXPECT_FALSE(g.pages.vcpu_info(VcpuId{0}));

    EXPECT_FALSE(g.pages.set_shared_info(Gpa{0x10010}));       // not page aligned
    EXPECT_FALSE(g.pages.set_shared_info(Gpa{kEvtchnGuestRam}));  // not RAM
    ASSERT_TRUE(g.pages.set_shared_info(Gpa{0x40000}));
    g.delivery.set_pending(EvtchnPort{5}, VcpuId{0});
    EXPECT_EQ(g.sink.raised.size(), 1u);
    EXPECT_EQ(*g.mem.read<uint64_t>(Gpa{0x40000 + offsetof(shared_info_t, evtchn_pending)}), 1u << 5);
}

// A port table wired to two guests' memory: the interdomain path end to end.
TEST(EvtchnDeliveryPorts, InterdomainSendLandsInThePeerGuestsMemory) {
    FakeEvtchnGuest a{DomId{1}, 1}, b{DomId{2}, 2};
    auto pb = b.table->alloc_unbound(DomId{1});
    ASSERT_TRUE(b.table->bind_vcpu(*pb, VcpuId{1}));
    auto pa = PortTable::bind_interdomain(*a.table, *b.table, *pb);
    ASSERT_TRUE(pa);
    EXPECT_TRUE(a.pending(pa->value));  // the new port is raised locally
    EXPECT_EQ(a.sink.raised, vcpus({0}));

    ASSERT_TRUE(a.table->send(*pa));
    EXPECT_TRUE(b.pending(pb->value));
    EXPECT_EQ(b.selector(VcpuId{1}), uint64_t{1} << (pb->value / 64));
    EXPECT_EQ(b.sink.raised, vcpus({1}));

    ASSERT_TRUE(b.table->close(*pb));
    EXPECT_FALSE(b.pending(pb->value));  // a freed port does not fire on its next binding
    EXPECT_EQ(a.table->status(*pa)->state, PortState::Unbound);
}

// The guest's side of the protocol runs concurrently (as Linux's xen_evtchn_do_upcall does on
// another vCPU): no event may be stranded pending with neither selector nor upcall set.
TEST(EvtchnDeliveryRace, ConcurrentGuestScanningLosesNoEvent) {
    FakeEvtchnGuest g{DomId{3}, 1};
    auto si = *g.pages.shared_info();
    auto vi = *g.pages.vcpu_info(VcpuId{0});
    auto at64 = [](std::span<uint8_t> s, size_t off) {
        return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(s.data() + off));
    };
    std::atomic_ref<uint8_t> upcall(vi[offsetof(vcpu_info_t, evtchn_upcall_pending)]);
    std::atomic<bool> done{false};
    std::atomic<uint64_t> handled{0};

    auto scan = [&] {
        upcall.store(0);
        uint64_t sel = at64(vi, offsetof(vcpu_info_t, evtchn_pending_sel)).exchange(0);
        while (sel) {
            const unsigned w = __builtin_ctzll(sel);
            sel &= sel - 1;
            auto pend = at64(si, offsetof(shared_info_t, evtchn_pending) + 8 * w);
            const uint64_t mask = at64(si, offsetof(shared_info_t, evtchn_mask) + 8 * w).load();
            uint64_t bits = pend.load() & ~mask;
            while (bits) {
                const uint64_t b = bits & -bits;
                bits &= bits - 1;
                if (pend.fetch_and(~b) & b) handled.fetch_add(1);
            }
        }
    };
    std::thread guest([&] {
        while (!done.load()) {
            if (upcall.load()) scan();
        }
        while (upcall.load()) scan();
    });
    constexpr int kRounds = 200000;
    for (int i = 0; i < kRounds; ++i) {
        const EvtchnPort p{1 + static_cast<uint32_t>(i * 37) % (kEvtchnPorts2L - 1)};
        g.delivery.set_pending(p, VcpuId{0});
    }
    done.store(true);
    guest.join();
    for (uint32_t w = 0; w < 64; ++w) EXPECT_EQ(g.pending_word(w), 0u) << "word " << w;
    EXPECT_GE(handled.load(), 1u);
    EXPECT_GE(g.sink.raised.size(), 1u);
}

}  // namespace
}  // namespace pvhv
