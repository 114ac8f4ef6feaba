// A domain's time: pvclock placement, the wall clock, vCPU timers, and blocking in poll/block.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "hv/evtchn/guest_event_pages.h"
#include "hv/sched/vcpu_waiters.h"
#include "hv/time/system_clock.h"
#include "hv/time/time_domain.h"
#include "hv/time/vcpu_timers.h"

namespace pvhv {

// What DomainTime needs from its domain (the domain implements it; tests fake it).
class TimeHost {
public:
    virtual ~TimeHost() = default;
    virtual void send_timer_virq(VcpuId vcpu) = 0;      // PortTable::send_virq(VIRQ_TIMER, vcpu)
    virtual uint32_t valid_ports() const = 0;           // Xen's d->valid_evtchns
    virtual bool port_pending(EvtchnPort port) const = 0;
    virtual bool has_upcall_vector(VcpuId vcpu) const = 0;  // per-vCPU or callback vector set
    // From now on vCPU `vcpu`'s pvclock (a vcpu_time_info) is kept at guest-physical `gpa`
    // (KVM's kvmclock, hv/time/kvm_clock.h); takes effect before the vCPU next runs.
    virtual void place_pvclock(VcpuId vcpu, Gpa gpa) = 0;
};

// Owned by the domain, started before its vCPUs run, stopped before its port table and guest
// memory go away. `clock` is NOW() (the domain's KvmClock).
class DomainTime final : public TimeDomain {
public:
    DomainTime(uint32_t nr_vcpus, const GuestEventPages& pages, VcpuWaiters& waiters,
               TimeHost& host, const SystemClock& clock);
    DomainTime(const DomainTime&) = delete;
    DomainTime& operator=(const DomainTime&) = delete;
    ~DomainTime() override;

    // `wall_ns_at_zero`: CLOCK_REALTIME at system time 0, for shared_info's wall clock.
    void start(int64_t wall_ns_at_zero);
    void stop();  // no timer fires once this returns; idempotent

    // The shared_info page was (re)mapped: its wall clock, and the pvclock of every vCPU whose
    // vcpu_info is a slot in it. A vCPU's vcpu_info was registered: its pvclock moves along
    // (Xen updates only the current vcpu_info, so the old slot goes stale, as there).
    void publish_shared_info();
    void publish_vcpu_info(VcpuId vcpu);

    // SCHEDOP_block, as Xen's vcpu_block_enable_events: clears evtchn_upcall_mask, then with
    // interrupts enabled the vCPU halts in KVM (any interrupt wakes it, as HLT would: Xen
    // wakes a blocked vCPU on any interrupt too); with interrupts disabled KVM would never
    // wake it, so it sleeps here until an event upcall for it (or returns at once if one is
    // pending) or the domain stops.
    enum class Block { Done, HaltInKvm };
    Block block(VcpuId vcpu, bool interrupts_enabled);

    // TimeDomain
    uint64_t system_time_ns() const override { return clock_.now_ns(); }
    void set_singleshot_timer(VcpuId vcpu, uint64_t deadline_ns) override;
    void stop_singleshot_timer(VcpuId vcpu) override;
    void set_periodic_timer(VcpuId vcpu, uint64_t period_ns) override;
    vcpu_runstate_info runstate(VcpuId vcpu) const override;
    int64_t poll(VcpuId vcpu, const PollRequest& request) override;

private:
    bool upcall_pending(VcpuId vcpu) const;
    bool any_pending(std::span<const EvtchnPort> ports) const;
    std::optional<std::chrono::steady_clock::time_point> host_deadline(uint64_t timeout_ns) const;

    const uint32_t nr_vcpus_;
    const GuestEventPages& pages_;
    VcpuWaiters& waiters_;
    TimeHost& host_;
    const SystemClock& clock_;
    std::atomic<int64_t> wall_ns_at_zero_{-1};  // set by start(); -1: not started
    VcpuTimers timers_;
};

}  // namespace pvhv
