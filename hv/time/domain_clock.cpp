// The domain time base: TSC offsets from samples, NOW() from the host TSC, the pvclock values.
#include "hv/time/domain_clock.h"

#include <algorithm>
#include <ctime>

#include "hv/time/host_tsc.h"

namespace pvhv {

namespace {
constexpr int kSamplesPerVcpu = 3;  // the narrowest window wins; ioctl latency varies
}

TscOffsetRange offset_range(const TscSample& s) {
    return {static_cast<int64_t>(s.guest - s.host_after), static_cast<int64_t>(s.guest - s.host_before)};
}

TscOffsetRange best_offset_range(std::span<const TscSample> samples) {
    TscOffsetRange best{};
    bool have = false;
    for (const TscSample& s : samples) {
        const TscOffsetRange r = offset_range(s);
        if (!have || r.hi - r.lo < best.hi - best.lo) best = r;
        have = true;
    }
    return best;
}

Result<DomainClock> DomainClock::calibrate(uint32_t tsc_khz,
                                           std::span<const std::vector<TscSample>> samples,
                                           uint64_t host_tsc0, int64_t wall_ns_at_zero,
                                           bool host_tsc_reliable, HostTscReader read_host_tsc) {
    if (tsc_khz == 0) return fail(XEN_EINVAL, "guest TSC frequency unknown");
    if (samples.empty()) return fail(XEN_EINVAL, "no vCPU to sample");
    std::vector<TscOffsetRange> ranges;
    for (const auto& s : samples) {
        if (s.empty()) return fail(XEN_EINVAL, "a vCPU without TSC samples");
        ranges.push_back(best_offset_range(s));
    }
    int64_t lo = ranges[0].lo, hi = ranges[0].hi;
    for (const auto& r : ranges) {
        lo = std::max(lo, r.lo);
        hi = std::min(hi, r.hi);
    }
    DomainClock c;
    c.scale_ = time_scale_for(uint64_t{tsc_khz} * 1000);
    c.host_tsc0_ = host_tsc0;
    c.wall_ns_at_zero_ = wall_ns_at_zero;
    c.read_host_tsc_ = read_host_tsc;
    const bool shared = lo <= hi;
    for (const auto& r : ranges)
        c.offsets_.push_back(shared ? lo + (hi - lo) / 2 : r.lo + (r.hi - r.lo) / 2);
    c.stable_ = shared && host_tsc_reliable;
    return c;
}

uint64_t DomainClock::now_ns() const {
    const auto elapsed = static_cast<int64_t>(read_host_tsc_() - host_tsc0_);
    return elapsed <= 0 ? 0 : scale_delta(static_cast<uint64_t>(elapsed), scale_);
}

vcpu_time_info DomainClock::time_info(VcpuId v) const {
    vcpu_time_info t{};
    t.tsc_timestamp = host_tsc0_ + static_cast<uint64_t>(offset(v));
    t.system_time = 0;
    t.tsc_to_system_mul = scale_.mul_frac;
    t.tsc_shift = scale_.shift;
    t.flags = stable_ ? XEN_PVCLOCK_TSC_STABLE_BIT : 0;
    return t;
}

Result<DomainClock> measure_domain_clock(
    uint32_t tsc_khz, uint32_t nr_vcpus,
    const std::function<Result<uint64_t>(VcpuId)>& read_guest_tsc) {
    std::vector<std::vector<TscSample>> samples(nr_vcpus);
    for (uint32_t v = 0; v < nr_vcpus; ++v) {
        for (int i = 0; i < kSamplesPerVcpu; ++i) {
            TscSample s;
            s.host_before = read_host_tsc();
            auto guest = read_guest_tsc(VcpuId{v});
            s.host_after = read_host_tsc();
            if (!guest) return std::unexpected(guest.error());
            s.guest = *guest;
            samples[v].push_back(s);
        }
    }
    // System time 0 and the wall clock at that instant, read back to back.
    const uint64_t before = read_host_tsc();
    timespec wall{};
    ::clock_gettime(CLOCK_REALTIME, &wall);
    const uint64_t after = read_host_tsc();
    const int64_t wall_ns = int64_t{wall.tv_sec} * 1'000'000'000 + wall.tv_nsec;
    return DomainClock::calibrate(tsc_khz, samples, before + (after - before) / 2, wall_ns,
                                  host_tsc_reliable(), &read_host_tsc);
}

}  // namespace pvhv
