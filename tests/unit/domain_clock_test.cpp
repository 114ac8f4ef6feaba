// Unit tests of the domain time base: TSC offsets from samples, NOW(), the published pvclock.
#include <gtest/gtest.h>

#include "hv/time/domain_clock.h"
#include "hv/time/host_tsc.h"
#include "time_test_fakes.h"

namespace pvhv {
namespace {

using testing::fake_host_tsc;
using testing::fake_host_tsc_value;

TEST(TscOffset, SampleBoundsTheOffset) {
    // Guest read somewhere between host 1000 and 1100; guest TSC = host - 400.
    const TscOffsetRange r = offset_range({1000, 650, 1100});
    EXPECT_EQ(r.lo, -450);
    EXPECT_EQ(r.hi, -350);
    // Negative offsets (a guest TSC that started at 0 on a long-running host) wrap correctly.
    const TscOffsetRange w = offset_range({~uint64_t{0} - 10, 5, ~uint64_t{0} - 9});
    EXPECT_EQ(w.lo, 15);
    EXPECT_EQ(w.hi, 16);
    const TscSample samples[] = {{1000, 650, 1100}, {2000, 1605, 2010}, {3000, 2630, 3050}};
    const TscOffsetRange best = best_offset_range(samples);
    EXPECT_EQ(best.lo, -405);
    EXPECT_EQ(best.hi, -395);
}

TEST(DomainClock, SharedOffsetGivesOneTimeBaseAndTheStableBit) {
    fake_host_tsc_value = 5'000'000;
    // Two vCPUs with overlapping ranges around offset -4'000'000 (as KVM gives vCPUs created
    // together the same offset).
    std::vector<std::vector<TscSample>> s{{{4'999'000, 999'500, 5'000'000}},
                                          {{4'999'500, 999'800, 4'999'900}}};
    auto c = DomainClock::calibrate(2'000'000, s, 5'000'000, 42, true, &fake_host_tsc);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->tsc_stable());
    EXPECT_EQ(c->offset(VcpuId{0}), c->offset(VcpuId{1}));
    EXPECT_GE(c->offset(VcpuId{0}), -4'000'100);
    EXPECT_LE(c->offset(VcpuId{0}), -3'999'700);
    const vcpu_time_info t0 = c->time_info(VcpuId{0});
    EXPECT_EQ(t0.system_time, 0u);
    EXPECT_EQ(t0.flags, XEN_PVCLOCK_TSC_STABLE_BIT);
    EXPECT_EQ(t0.tsc_timestamp, 5'000'000u + static_cast<uint64_t>(c->offset(VcpuId{0})));
    EXPECT_EQ(scale_to_khz(TimeScale{t0.tsc_to_system_mul, t0.tsc_shift}), 2'000'000u);
    EXPECT_EQ(c->wall_ns_at_zero(), 42);

    // NOW() follows the host TSC at 2 GHz: 2000 ticks later it is 1000 ns.
    EXPECT_EQ(c->now_ns(), 0u);
    fake_host_tsc_value = 5'002'000;
    EXPECT_EQ(c->now_ns(), 1000u);
    // And it is what the guest computes from its own TSC and vcpu_time_info.
    const uint64_t guest_tsc = fake_host_tsc_value.load() + static_cast<uint64_t>(c->offset(VcpuId{1}));
    const vcpu_time_info t1 = c->time_info(VcpuId{1});
    EXPECT_EQ(t1.system_time + scale_delta(guest_tsc - t1.tsc_timestamp, {t1.tsc_to_system_mul, t1.tsc_shift}),
              c->now_ns());
    // A host TSC before system time 0 (another host CPU's skew) reads as 0, never as wrapped.
    fake_host_tsc_value = 4'000'000;
    EXPECT_EQ(c->now_ns(), 0u);
}

TEST(DomainClock, DisjointOffsetsStayPerVcpuAndUnstable) {
    std::vector<std::vector<TscSample>> s{{{1000, 1000, 1010}}, {{1000, 5000, 1010}}};
    auto c = DomainClock::calibrate(1'000'000, s, 2000, 0, true, &fake_host_tsc);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->tsc_stable());
    EXPECT_EQ(c->time_info(VcpuId{1}).flags, 0);
    EXPECT_EQ(c->time_info(VcpuId{1}).tsc_timestamp - c->time_info(VcpuId{0}).tsc_timestamp, 4000u);
    // An unreliable host TSC never gets the bit either.
    std::vector<std::vector<TscSample>> one{{{1000, 1000, 1010}}};
    EXPECT_FALSE(DomainClock::calibrate(1'000'000, one, 2000, 0, false, &fake_host_tsc)->tsc_stable());
}

TEST(DomainClock, RefusesWhatItCannotUse) {
    std::vector<std::vector<TscSample>> s{{{1000, 1000, 1010}}};
    EXPECT_EQ(DomainClock::calibrate(0, s, 0, 0, true, &fake_host_tsc).error().xen_errno, XEN_EINVAL);
    std::vector<std::vector<TscSample>> none{{}};
    EXPECT_FALSE(DomainClock::calibrate(1000, none, 0, 0, true, &fake_host_tsc));
    EXPECT_FALSE(DomainClock::calibrate(1000, {}, 0, 0, true, &fake_host_tsc));
}

TEST(DomainClock, MeasuresAgainstTheRealHostTsc) {
    // A "guest" whose TSC is the host's minus a constant: the measured offset is that constant
    // within the sampling window, and NOW() starts near 0.
    const int64_t offset = -123'456'789;
    auto c = measure_domain_clock(2'000'000, 2, [&](VcpuId) -> Result<uint64_t> {
        return read_host_tsc() + static_cast<uint64_t>(offset);
    });
    ASSERT_TRUE(c);
    EXPECT_NEAR(static_cast<double>(c->offset(VcpuId{1})), static_cast<double>(offset), 1e7);
    EXPECT_EQ(c->offset(VcpuId{0}), c->offset(VcpuId{1}));
    auto failing = measure_domain_clock(2'000'000, 1, [](VcpuId) -> Result<uint64_t> {
        return fail(XEN_EIO, "KVM_GET_MSRS");
    });
    EXPECT_FALSE(failing);
}

TEST(HostTsc, TrustsOnlyTheTscClocksource) {
    EXPECT_TRUE(host_tsc_reliable("tsc\n"));
    EXPECT_FALSE(host_tsc_reliable("kvm-clock\n"));
    EXPECT_FALSE(host_tsc_reliable("hpet"));
    EXPECT_FALSE(host_tsc_reliable(""));
}

}  // namespace
}  // namespace pvhv
