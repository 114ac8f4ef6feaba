// Unit tests of the pvclock arithmetic and of the guest time structures' version protocol.
#include <gtest/gtest.h>

#include <cstring>

#include "hv/time/pvclock.h"
#include "hv/time/time_pages.h"
#include "hv/xen_public.h"

namespace pvhv {
namespace {

// Exact ns for `ticks` at `hz`, in 128-bit arithmetic.
uint64_t exact_ns(uint64_t ticks, uint64_t hz) {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(ticks) * 1'000'000'000 / hz);
}

class PvclockFrequencies : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PvclockFrequencies, ScaleIsXensAndAccurate) {
    const uint64_t hz = GetParam();
    const TimeScale s = time_scale_for(hz);
    // Xen's invariant: the shifted rate lies in (1e9, 2e9], so mul_frac >= 2^31.
    EXPECT_GE(s.mul_frac, 1u << 31) << hz;
    const double shifted = s.shift >= 0 ? double(hz) * double(1ull << s.shift) : double(hz) / double(1ull << -s.shift);
    EXPECT_GT(shifted, 1e9) << hz;
    EXPECT_LE(shifted, 2e9 + 1) << hz;

    // One second, one hour and one day of ticks convert to within 1 ns per second (plus the
    // ticks the right shift drops) of the exact value.
    for (uint64_t seconds : {1ull, 3600ull, 86400ull}) {
        const uint64_t ticks = hz * seconds;
        const uint64_t got = scale_delta(ticks, s);
        const uint64_t want = exact_ns(ticks, hz);
        const uint64_t slack = seconds + (s.shift < 0 ? exact_ns(1ull << -s.shift, hz) + 1 : 1);
        EXPECT_LE(got > want ? got - want : want - got, slack) << hz << " Hz, " << seconds << " s";
    }
    // The guest's frequency estimate (Linux's pvclock_tsc_khz) is the kHz value, +-1.
    const int64_t khz = static_cast<int64_t>(scale_to_khz(s));
    EXPECT_NEAR(static_cast<double>(khz), static_cast<double>(hz / 1000), 1.0) << hz;
}

TEST_P(PvclockFrequencies, ConversionIsMonotonic) {
    const TimeScale s = time_scale_for(GetParam());
    uint64_t prev = 0;
    for (uint64_t t = 0; t < 100000; t += 7) {
        const uint64_t ns = scale_delta(t, s);
        EXPECT_GE(ns, prev);
        prev = ns;
    }
}

INSTANTIATE_TEST_SUITE_P(Rates, PvclockFrequencies,
                         ::testing::Values(1'000'000ull, 14'318'180ull, 999'999'999ull,
                                           1'000'000'000ull, 1'000'000'001ull, 2'000'000'000ull,
                                           2'000'000'001ull, 2'596'096'000ull, 3'700'000'000ull,
                                           5'000'000'000ull, 10'000'000'000ull));

TEST(Pvclock, KnownScales) {
    // 1 GHz: the shifted rate is 2e9, mul 2^31, shift 1 -- one tick per ns exactly.
    EXPECT_EQ(time_scale_for(1'000'000'000).mul_frac, 1u << 31);
    EXPECT_EQ(time_scale_for(1'000'000'000).shift, 1);
    EXPECT_EQ(scale_delta(123456789, time_scale_for(1'000'000'000)), 123456789u);
    // 2 GHz: no shift, mul 2^31 (half a ns per tick).
    EXPECT_EQ(time_scale_for(2'000'000'000).shift, 0);
    EXPECT_EQ(scale_delta(1000, time_scale_for(2'000'000'000)), 500u);
    // 4 GHz: shift -1.
    EXPECT_EQ(time_scale_for(4'000'000'000).shift, -1);
    EXPECT_EQ(time_scale_for(0).mul_frac, 0u);
    EXPECT_EQ(scale_to_khz(TimeScale{}), 0u);
}

TEST(Pvclock, HugeDeltasDoNotOverflow) {
    const TimeScale s = time_scale_for(3'000'000'000);
    const uint64_t ten_years = 3'000'000'000ull * 86400 * 3650;
    EXPECT_NEAR(static_cast<double>(scale_delta(ten_years, s)), 86400.0 * 3650 * 1e9, 1e9);
}

alignas(8) uint8_t page[sizeof(shared_info_t)];

TEST(TimePages, VcpuTimeVersionGoesOddThenEven) {
    std::memset(page, 0, sizeof page);
    std::span<uint8_t> vi(page, sizeof(vcpu_info_t));
    vcpu_time_info t{};
    t.tsc_timestamp = 0x1122334455667788;
    t.system_time = 42;
    t.tsc_to_system_mul = 0x80000000;
    t.tsc_shift = -1;
    t.flags = XEN_PVCLOCK_TSC_STABLE_BIT;
    ASSERT_TRUE(write_vcpu_time(vi, t));
    vcpu_info_t out;
    std::memcpy(&out, page, sizeof out);
    EXPECT_EQ(out.time.version, 2u);
    EXPECT_EQ(out.time.tsc_timestamp, t.tsc_timestamp);
    EXPECT_EQ(out.time.system_time, 42u);
    EXPECT_EQ(out.time.tsc_to_system_mul, 0x80000000u);
    EXPECT_EQ(out.time.tsc_shift, -1);
    EXPECT_EQ(out.time.flags, XEN_PVCLOCK_TSC_STABLE_BIT);
    // An odd version left by a torn writer (or the guest) still ends even and newer.
    out.time.version = 7;
    std::memcpy(page, &out, sizeof out);
    ASSERT_TRUE(write_vcpu_time(vi, t));
    std::memcpy(&out, page, sizeof out);
    EXPECT_EQ(out.time.version, 10u);
    // Too small or misaligned: nothing written.
    EXPECT_FALSE(write_vcpu_time(vi.first(16), t));
    EXPECT_FALSE(write_vcpu_time(std::span<uint8_t>(page + 4, sizeof(vcpu_info_t)), t));
}

TEST(TimePages, WallclockSplitsSecondsAndNanoseconds) {
    std::memset(page, 0, sizeof page);
    const int64_t wall = int64_t{0x1'2345'6789} * 1'000'000'000 + 987'654'321;
    ASSERT_TRUE(write_wallclock(std::span<uint8_t>(page, sizeof page), wall));
    shared_info_t si;
    std::memcpy(&si, page, sizeof si);
    EXPECT_EQ(si.wc_version, 2u);
    EXPECT_EQ(si.wc_sec, 0x23456789u);
    EXPECT_EQ(si.wc_sec_hi, 1u);
    EXPECT_EQ(si.wc_nsec, 987'654'321u);
    EXPECT_FALSE(write_wallclock(std::span<uint8_t>(page, sizeof page), -1));
}

}  // namespace
}  // namespace pvhv
