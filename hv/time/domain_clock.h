// A domain's system time (Xen's NOW()): nanoseconds since the domain started, read from the TSC.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "hv/error.h"
#include "hv/time/pvclock.h"
#include "hv/types.h"
#include "hv/xen_public.h"

namespace pvhv {

// Xen's NOW() for one domain: its system time in ns. Timers, poll timeouts and the guest's
// pvclock all speak it.
class SystemClock {
public:
    virtual ~SystemClock() = default;
    virtual uint64_t now_ns() const = 0;
};

// One read of a guest's TSC (KVM_GET_MSRS of MSR_IA32_TSC) between two host TSC reads.
struct TscSample {
    uint64_t host_before = 0;
    uint64_t guest = 0;
    uint64_t host_after = 0;
};

// KVM runs a guest TSC at host TSC + offset when it does not scale it (pvhv never calls
// KVM_SET_TSC_KHZ, so the guest runs at the host's rate, which KVM_GET_TSC_KHZ reports). A
// sample bounds that offset to [lo, hi]: the guest value was read at some host TSC between
// host_before and host_after.
struct TscOffsetRange {
    int64_t lo = 0;
    int64_t hi = 0;
};
TscOffsetRange offset_range(const TscSample& s);
TscOffsetRange best_offset_range(std::span<const TscSample> samples);  // the narrowest

// The domain's time base: system time 0 is host TSC `host_tsc0`, and vCPU v's guest TSC is
// the host TSC plus its offset. So every vCPU's vcpu_time_info is fixed for the domain's life
// (tsc_timestamp = its guest TSC at host_tsc0, system_time 0), and pvhv computes NOW() from
// the host TSC with the same scale the guest uses: a timer deadline means the same instant on
// both sides. Immutable once built; now_ns() is safe from any thread.
class DomainClock final : public SystemClock {
public:
    using HostTscReader = uint64_t (*)();

    // `samples[v]` are vCPU v's samples (at least one each). When one offset fits every
    // vCPU's range (KVM gives vCPUs created together the same offset), all vCPUs share it and
    // the clock claims XEN_PVCLOCK_TSC_STABLE_BIT if `host_tsc_reliable`; otherwise each vCPU
    // keeps its own estimate and the bit stays clear (Linux then keeps its clock monotonic
    // across vCPUs itself). -EINVAL for a zero frequency or a vCPU without samples.
    static Result<DomainClock> calibrate(uint32_t tsc_khz,
                                         std::span<const std::vector<TscSample>> samples,
                                         uint64_t host_tsc0, int64_t wall_ns_at_zero,
                                         bool host_tsc_reliable, HostTscReader read_host_tsc);

    uint64_t now_ns() const override;
    // vCPU v's vcpu_time_info with version 0 (the writer owns the version protocol).
    vcpu_time_info time_info(VcpuId v) const;
    int64_t wall_ns_at_zero() const { return wall_ns_at_zero_; }  // CLOCK_REALTIME at NOW() == 0
    bool tsc_stable() const { return stable_; }
    TimeScale scale() const { return scale_; }
    int64_t offset(VcpuId v) const { return v.value < offsets_.size() ? offsets_[v.value] : 0; }

private:
    DomainClock() = default;
    TimeScale scale_;
    uint64_t host_tsc0_ = 0;
    std::vector<int64_t> offsets_;  // per vCPU: guest TSC - host TSC
    bool stable_ = false;
    int64_t wall_ns_at_zero_ = 0;
    HostTscReader read_host_tsc_ = nullptr;
};

// Measures a starting domain's clock: a few samples of each vCPU's TSC through
// `read_guest_tsc` (called on a thread that may issue that vCPU's ioctls: before the vCPU runs,
// or its own thread), then system time 0 = now, with the wall clock read at the same moment.
Result<DomainClock> measure_domain_clock(
    uint32_t tsc_khz, uint32_t nr_vcpus,
    const std::function<Result<uint64_t>(VcpuId)>& read_guest_tsc);

}  // namespace pvhv
