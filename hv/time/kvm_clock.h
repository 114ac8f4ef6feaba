// The domain's system time as KVM keeps it: kvmclock, read with KVM_GET_CLOCK and published by KVM.
#pragma once

#include <atomic>
#include <cstdint>

#include "hv/kvm/vm.h"
#include "hv/time/system_clock.h"
#include "hv/types.h"

namespace pvhv {

// Xen's vcpu_time_info and KVM's pvclock_vcpu_time_info are one structure (kvmclock adopted
// Xen's: version, tsc_timestamp, system_time, tsc_to_system_mul, tsc_shift, flags, with the
// same seqlock and the same TSC_STABLE/GUEST_STOPPED bits). So pvhv lets KVM maintain it:
// writing `gpa | 1` to a vCPU's MSR_KVM_SYSTEM_TIME_NEW (host-initiated, KVM_SET_MSRS) makes
// KVM publish that vCPU's pvclock at `gpa` -- the `time` field of its vcpu_info -- whenever the
// guest's TSC-to-time relation changes (vCPU migration, an unstable host TSC that KVM rebases
// at every entry, TSC scaling), as KVM's own Xen support does. NOW() on the host side is
// KVM_GET_CLOCK, the same kvmclock nanoseconds since the VM was created.
inline constexpr uint32_t kMsrKvmSystemTimeNew = 0x4b564d01;
inline uint64_t kvmclock_msr_value(Gpa time_info) { return time_info.value | 1; }  // bit 0: enable

class KvmClock final : public SystemClock {
public:
    explicit KvmClock(const kvm::Vm& vm) : vm_(vm) {}
    // KVM_GET_CLOCK; should it ever fail, the last value read (time never goes back).
    uint64_t now_ns() const override;
    // CLOCK_REALTIME at system time 0 (shared_info's wc_sec/wc_nsec), in ns since the epoch:
    // from the pair KVM_GET_CLOCK reads together when it can, else from an adjacent read.
    int64_t wall_ns_at_zero() const;

private:
    const kvm::Vm& vm_;
    mutable std::atomic<uint64_t> last_{0};
};

}  // namespace pvhv
