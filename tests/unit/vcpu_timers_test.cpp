// Unit tests of the vCPU timer thread on a manual clock: what fires, for whom, and in what order.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "hv/time/vcpu_timers.h"
#include "time_test_fakes.h"

namespace pvhv {
namespace {

using testing::eventually;
using testing::ManualClock;

class VcpuTimersTest : public ::testing::Test {
protected:
    VcpuTimersTest() { timers.start(); }
    std::vector<uint32_t> fired() {
        std::lock_guard lk(mu);
        return log;
    }
    size_t count() { return fired().size(); }
    void advance_to(uint64_t t) {
        clock.now = t;
        timers.poke();
    }

    ManualClock clock;
    std::mutex mu;
    std::vector<uint32_t> log;
    VcpuTimers timers{clock, 3, [this](VcpuId v) {
                          std::lock_guard lk(mu);
                          log.push_back(v.value);
                      }};
};

TEST_F(VcpuTimersTest, SingleshotFiresOnceWhenTheClockGetsThere) {
    clock.now = 1000;
    timers.set_singleshot(VcpuId{1}, 5000);
    EXPECT_EQ(timers.singleshot(VcpuId{1}), 5000u);
    advance_to(4999);
    // Nothing can fire before the clock reaches the deadline; prove the thread has looked by
    // letting another vCPU's timer fire at 4999 first.
    timers.set_singleshot(VcpuId{2}, 4999);
    ASSERT_TRUE(eventually([&] { return count() == 1; }));
    EXPECT_EQ(fired(), std::vector<uint32_t>{2});
    advance_to(5000);
    ASSERT_TRUE(eventually([&] { return count() == 2; }));
    EXPECT_EQ(fired(), (std::vector<uint32_t>{2, 1}));
    EXPECT_FALSE(timers.singleshot(VcpuId{1}));  // single shot: gone once fired
    advance_to(1'000'000);
    timers.set_singleshot(VcpuId{0}, 0);  // in the past: at once
    ASSERT_TRUE(eventually([&] { return count() == 3; }));
    EXPECT_EQ(fired().back(), 0u);
}

TEST_F(VcpuTimersTest, ResetAndStopReplaceTheDeadline) {
    timers.set_singleshot(VcpuId{0}, 100);
    timers.set_singleshot(VcpuId{0}, 300);  // replaces 100
    timers.set_singleshot(VcpuId{1}, 200);
    timers.stop_singleshot(VcpuId{1});
    advance_to(250);
    timers.set_singleshot(VcpuId{2}, 250);  // a witness that the thread evaluated time 250
    ASSERT_TRUE(eventually([&] { return count() == 1; }));
    EXPECT_EQ(fired(), std::vector<uint32_t>{2});
    advance_to(300);
    ASSERT_TRUE(eventually([&] { return count() == 2; }));
    EXPECT_EQ(fired(), (std::vector<uint32_t>{2, 0}));
}

TEST_F(VcpuTimersTest, PeriodicTicksOncePerPeriodAndStops) {
    clock.now = 10'000'000;
    timers.set_periodic(VcpuId{1}, 1'000'000);  // a period has passed since 0: ticks at once
    ASSERT_TRUE(eventually([&] { return count() == 1; }));
    advance_to(10'500'000);
    timers.set_singleshot(VcpuId{0}, 10'500'000);  // witness: no periodic tick at +0.5 period
    ASSERT_TRUE(eventually([&] { return count() == 2; }));
    EXPECT_EQ(fired(), (std::vector<uint32_t>{1, 0}));
    advance_to(15'000'000);  // five periods missed: one tick, as Xen's periodic timer
    ASSERT_TRUE(eventually([&] { return count() == 3; }));
    timers.set_singleshot(VcpuId{0}, 15'000'000);
    ASSERT_TRUE(eventually([&] { return count() == 4; }));
    EXPECT_EQ(fired(), (std::vector<uint32_t>{1, 0, 1, 0}));
    timers.set_periodic(VcpuId{1}, 0);
    advance_to(20'000'000);
    timers.set_singleshot(VcpuId{2}, 20'000'000);
    ASSERT_TRUE(eventually([&] { return count() == 5; }));
    EXPECT_EQ(fired().back(), 2u);
}

TEST_F(VcpuTimersTest, NothingFiresAfterStop) {
    timers.set_singleshot(VcpuId{0}, 100);
    timers.stop();  // joins the thread
    clock.now = 1000;
    timers.poke();
    timers.set_singleshot(VcpuId{1}, 0);
    EXPECT_EQ(count(), 0u);
    timers.stop();  // idempotent
    timers.start();  // and a stopped service stays stopped
    EXPECT_EQ(count(), 0u);
}

TEST(VcpuTimersRealClock, ShortRealWaitFires) {
    // The real thing: a steady clock, a deadline 2 ms ahead, the thread sleeps and fires.
    struct Steady : SystemClock {
        uint64_t now_ns() const override {
            return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        }
    } clock;
    std::atomic<int> fired{0};
    VcpuTimers t(clock, 1, [&](VcpuId) { fired.fetch_add(1); });
    t.start();
    const uint64_t deadline = clock.now_ns() + 2'000'000;
    t.set_singleshot(VcpuId{0}, deadline);
    ASSERT_TRUE(eventually([&] { return fired.load() == 1; }));
    EXPECT_GE(clock.now_ns(), deadline);  // order, not duration: it fired after the deadline
}

}  // namespace
}  // namespace pvhv
