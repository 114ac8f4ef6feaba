// Unit tests of DomainTime on a fake guest: pvclock placement, the wall clock, timer -> VIRQ_TIMER,
// and Xen's SCHEDOP_poll / SCHEDOP_block semantics with wake-ups from other threads.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "hv/time/wallclock.h"

#include "time_test_fakes.h"

namespace pvhv {
namespace {

using testing::eventually;
using testing::TimeGuest;

class DomainTimeTest : public ::testing::Test {
protected:
    DomainTimeTest() {
        g.clock.now = 1'000'000;
        g.time.start(1'700'000'000'123'456'789);
    }
    void advance_ns(uint64_t ns) { g.clock.now += ns; }
    int64_t poll(VcpuId v, std::vector<uint32_t> ports, uint64_t timeout = 0, bool ie = false) {
        PollRequest r;
        r.nr_ports = static_cast<uint32_t>(ports.size());
        r.timeout_ns = timeout;
        r.interrupts_enabled = ie;
        r.port_at = [ports](uint32_t i) -> Result<EvtchnPort> { return EvtchnPort{ports.at(i)}; };
        return g.time.poll(v, r);
    }
    std::vector<std::pair<uint32_t, uint64_t>> placed() {
        std::lock_guard lk(g.mu);
        return g.pvclocks;
    }

    TimeGuest g;
};

TEST_F(DomainTimeTest, PlacesThePvclockInTheCurrentVcpuInfoAndWritesTheWallclock) {
    g.time.publish_shared_info();
    const shared_info_t si = *g.mem.read<shared_info_t>(testing::kTimeSharedInfo);
    EXPECT_EQ(si.wc_version % 2, 0u);
    EXPECT_NE(si.wc_version, 0u);
    EXPECT_EQ(uint64_t{si.wc_sec_hi} << 32 | si.wc_sec, 1'700'000'000u);
    EXPECT_EQ(si.wc_nsec, 123'456'789u);
    const uint64_t time = offsetof(vcpu_info_t, time);
    EXPECT_EQ(placed(), (std::vector<std::pair<uint32_t, uint64_t>>{
                            {0, g.slot(VcpuId{0}).value + time}, {1, g.slot(VcpuId{1}).value + time}}));

    // A registered vcpu_info takes the pvclock along.
    ASSERT_TRUE(g.pages.register_vcpu_info(VcpuId{1}, Gpa{0x20040}));
    g.time.publish_vcpu_info(VcpuId{1});
    EXPECT_EQ(placed().back(), (std::pair<uint32_t, uint64_t>{1, 0x20040 + time}));
    EXPECT_EQ(g.time.system_time_ns(), 1'000'000u);
}

TEST(DomainTimeWallclock, VersionProtocolAndSplit) {
    alignas(8) static uint8_t page[sizeof(shared_info_t)];
    std::memset(page, 0, sizeof page);
    const int64_t wall = int64_t{0x1'2345'6789} * 1'000'000'000 + 987'654'321;
    ASSERT_TRUE(write_wallclock(std::span<uint8_t>(page, sizeof page), wall));
    shared_info_t si;
    std::memcpy(&si, page, sizeof si);
    EXPECT_EQ(si.wc_version, 2u);
    EXPECT_EQ(si.wc_sec, 0x23456789u);
    EXPECT_EQ(si.wc_sec_hi, 1u);
    EXPECT_EQ(si.wc_nsec, 987'654'321u);
    si.wc_version = 7;  // odd (a guest's or a torn writer's): the next write still ends even and newer
    std::memcpy(page, &si, sizeof si);
    ASSERT_TRUE(write_wallclock(std::span<uint8_t>(page, sizeof page), wall));
    std::memcpy(&si, page, sizeof si);
    EXPECT_EQ(si.wc_version, 10u);
    EXPECT_FALSE(write_wallclock(std::span<uint8_t>(page, sizeof page), -1));
    EXPECT_FALSE(write_wallclock(std::span<uint8_t>(page + 4, sizeof page - 4), wall));
}

TEST_F(DomainTimeTest, SingleshotRaisesVirqTimerOnThatVcpu) {
    auto port = g.table->bind_virq(VIRQ_TIMER, VcpuId{1});
    ASSERT_TRUE(port);
    g.time.set_singleshot_timer(VcpuId{1}, g.clock.now + 1'000'000);
    // The clock is frozen: the timer cannot have fired. Then time passes and it does.
    EXPECT_FALSE(g.delivery.is_pending(*port));
    advance_ns(1'000'000);
    ASSERT_TRUE(eventually([&] { return g.delivery.is_pending(*port); }));
    EXPECT_EQ(g.vcpu_info_at(g.slot(VcpuId{1})).evtchn_upcall_pending, 1);
    EXPECT_EQ(g.vcpu_info_at(g.slot(VcpuId{0})).evtchn_upcall_pending, 0);
    EXPECT_EQ(g.sink.raised.load(), 1);
}

TEST_F(DomainTimeTest, PollReturnsAtOnceWhenAPortIsPending) {
    auto p = g.table->bind_ipi(VcpuId{0});
    ASSERT_TRUE(p);
    ASSERT_TRUE(g.table->send(*p));
    EXPECT_EQ(poll(VcpuId{0}, {p->value}), 0);
}

TEST_F(DomainTimeTest, PollChecksArgumentsInXensOrder) {
    auto p = g.table->bind_ipi(VcpuId{0});
    ASSERT_TRUE(p);
    EXPECT_EQ(poll(VcpuId{0}, std::vector<uint32_t>(129, p->value)), -XEN_EINVAL);
    EXPECT_EQ(poll(VcpuId{0}, {p->value, 4000}), -XEN_EINVAL);  // past the allocated buckets
    EXPECT_EQ(poll(VcpuId{0}, {p->value, 64}), -XEN_EINVAL);    // valid_evtchns is 64 here
    PollRequest r;
    r.nr_ports = 2;
    r.port_at = [&](uint32_t i) -> Result<EvtchnPort> {
        if (i == 1) return fail(XEN_EFAULT, "unmapped");
        return *p;
    };
    EXPECT_EQ(g.time.poll(VcpuId{0}, r), -XEN_EFAULT);
    // A pending port ends the scan before a bad one, as in Xen.
    ASSERT_TRUE(g.table->send(*p));
    EXPECT_EQ(g.time.poll(VcpuId{0}, r), 0);
    EXPECT_EQ(poll(VcpuId{0}, {p->value, 4000}), 0);
}

TEST_F(DomainTimeTest, PollTimesOutInTheGuestsTime) {
    auto p = g.table->bind_ipi(VcpuId{0});
    ASSERT_TRUE(p);
    EXPECT_EQ(poll(VcpuId{0}, {p->value}, 500), 0);  // long past: at once
    EXPECT_EQ(poll(VcpuId{0}, {p->value}, g.clock.now), 0);
    // A timeout ahead of a frozen clock: poll returns only once the clock passes it.
    std::atomic<bool> returned{false};
    const uint64_t timeout = g.clock.now + 1000;
    std::thread poller([&] {
        EXPECT_EQ(poll(VcpuId{0}, {p->value}, timeout), 0);
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(returned.load());  // frozen clock: the timeout cannot have passed
    advance_ns(1000);
    poller.join();
    EXPECT_TRUE(returned.load());
    EXPECT_FALSE(g.delivery.is_pending(*p));
}

TEST_F(DomainTimeTest, PollIsWokenByAMaskedPortFromAnotherThread) {
    // Linux's pv spinlock: the polled port is masked, so no upcall, only the poller wake-up.
    auto p = g.table->bind_ipi(VcpuId{1});
    ASSERT_TRUE(p);
    g.set_mask(*p, true);
    std::thread sender([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_TRUE(g.table->send(*p));
    });
    EXPECT_EQ(poll(VcpuId{1}, {p->value}), 0);  // no timeout: only the port can end it
    sender.join();
    EXPECT_TRUE(g.delivery.is_pending(*p));
    EXPECT_EQ(g.sink.raised.load(), 0);
}

TEST_F(DomainTimeTest, PollIsWokenByTheTimerThread) {
    auto timer = g.table->bind_virq(VIRQ_TIMER, VcpuId{0});
    ASSERT_TRUE(timer);
    g.set_mask(*timer, true);
    g.time.set_singleshot_timer(VcpuId{0}, g.clock.now + 5000);
    std::thread clock([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        advance_ns(5000);
    });
    EXPECT_EQ(poll(VcpuId{0}, {timer->value}), 0);
    clock.join();
    EXPECT_TRUE(g.delivery.is_pending(*timer));
}

TEST_F(DomainTimeTest, PollEndsOnAnUpcallForTheVcpuAndOnStop) {
    auto polled = g.table->bind_ipi(VcpuId{0});
    auto other = g.table->bind_ipi(VcpuId{0});
    ASSERT_TRUE(polled && other);
    std::thread sender([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_TRUE(g.table->send(*other));  // unmasked, for vCPU 0: an upcall (Xen's vcpu_kick)
    });
    EXPECT_EQ(poll(VcpuId{0}, {polled->value}), 0);
    sender.join();
    EXPECT_FALSE(g.delivery.is_pending(*polled));

    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        g.waiters.stop_all();
    });
    EXPECT_EQ(poll(VcpuId{1}, {polled->value}), 0);  // ends although nothing happened
    stopper.join();
    EXPECT_EQ(poll(VcpuId{1}, {}), 0);  // once stopped, a poll returns at once
}

TEST_F(DomainTimeTest, PollWithInterruptsOnReturnsForADeliverableUpcall) {
    auto p = g.table->bind_ipi(VcpuId{0});
    auto q = g.table->bind_ipi(VcpuId{0});
    ASSERT_TRUE(p && q);
    ASSERT_TRUE(g.table->send(*q));  // upcall_pending on vCPU 0
    g.vector = true;
    EXPECT_EQ(poll(VcpuId{0}, {p->value, 4000}, 0, true), 0);  // before the bad port is read
    g.vector = false;
    EXPECT_EQ(poll(VcpuId{0}, {p->value, 4000}, 0, true), -XEN_EINVAL);
}

TEST_F(DomainTimeTest, BlockWithInterruptsOnHaltsInKvmAndEnablesEvents) {
    auto vi = *g.mem.read<vcpu_info_t>(g.slot(VcpuId{0}));
    vi.evtchn_upcall_mask = 1;
    ASSERT_TRUE(g.mem.write(g.slot(VcpuId{0}), vi));
    EXPECT_EQ(g.time.block(VcpuId{0}, true), DomainTime::Block::HaltInKvm);
    EXPECT_EQ(g.vcpu_info_at(g.slot(VcpuId{0})).evtchn_upcall_mask, 0);
}

TEST_F(DomainTimeTest, BlockWithInterruptsOffWaitsForAnUpcall) {
    auto p = g.table->bind_ipi(VcpuId{1});
    ASSERT_TRUE(p);
    std::thread sender([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_TRUE(g.table->send(*p));
    });
    EXPECT_EQ(g.time.block(VcpuId{1}, false), DomainTime::Block::Done);
    sender.join();
    EXPECT_EQ(g.vcpu_info_at(g.slot(VcpuId{1})).evtchn_upcall_pending, 1);
    // Already pending: returns at once.
    EXPECT_EQ(g.time.block(VcpuId{1}, false), DomainTime::Block::Done);
    // Nothing pending, then the domain stops.
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        g.waiters.stop_all();
    });
    EXPECT_EQ(g.time.block(VcpuId{0}, false), DomainTime::Block::Done);
    stopper.join();
}

TEST_F(DomainTimeTest, RunstateIsRunningSinceZero) {
    const vcpu_runstate_info r = g.time.runstate(VcpuId{1});
    EXPECT_EQ(r.state, RUNSTATE_running);
    EXPECT_EQ(r.state_entry_time, 0u);
    for (uint64_t t : r.time) EXPECT_EQ(t, 0u);
}

}  // namespace
}  // namespace pvhv
