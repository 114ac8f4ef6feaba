// A domain's time: its clock, the pvclock it publishes, vCPU timers, and blocking in poll/block.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "hv/error.h"
#include "hv/evtchn/event_delivery.h"
#include "hv/sched/vcpu_waiters.h"
#include "hv/time/domain_clock.h"
#include "hv/time/time_domain.h"
#include "hv/time/vcpu_timers.h"

namespace pvhv {

// What DomainTime needs from the domain's event channels (the domain implements it).
class TimeEvents {
public:
    virtual ~TimeEvents() = default;
    virtual void send_timer_virq(VcpuId vcpu) = 0;      // PortTable::send_virq(VIRQ_TIMER, vcpu)
    virtual uint32_t valid_ports() const = 0;           // Xen's d->valid_evtchns
    virtual bool port_pending(EvtchnPort port) const = 0;
    virtual bool has_upcall_vector(VcpuId vcpu) const = 0;  // per-vCPU or callback vector set
};

// Owned by the domain, built with it, started with it (before its vCPUs run), stopped before
// its port table and guest memory go away. Guest time structures are found through the
// EventPageLocator on every write, like event delivery does.
class DomainTime final : public TimeDomain, private SystemClock {
public:
    DomainTime(uint32_t nr_vcpus, const EventPageLocator& pages, VcpuWaiters& waiters,
               TimeEvents& events);
    DomainTime(const DomainTime&) = delete;
    DomainTime& operator=(const DomainTime&) = delete;
    ~DomainTime() override;

    // Measures the clock from the vCPUs' TSCs (see measure_domain_clock), then starts the
    // timer thread. -EINVAL if the guest TSC frequency is unknown.
    Result<void> start(uint32_t tsc_khz, const std::function<Result<uint64_t>(VcpuId)>& read_guest_tsc);
    void start(DomainClock clock);  // with a clock built elsewhere (tests)
    void stop();                    // no timer fires once this returns; idempotent

    // The shared_info page was (re)mapped: its wall clock (wall time at system time 0) and the
    // time in every vcpu_info slot it holds. Then a vCPU's registered vcpu_info.
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
    uint64_t system_time_ns() const override { return now_ns(); }
    void set_singleshot_timer(VcpuId vcpu, uint64_t deadline_ns) override;
    void stop_singleshot_timer(VcpuId vcpu) override;
    void set_periodic_timer(VcpuId vcpu, uint64_t period_ns) override;
    vcpu_time_info time_info(VcpuId vcpu) const override;
    vcpu_runstate_info runstate(VcpuId vcpu) const override;
    int64_t poll(VcpuId vcpu, const PollRequest& request) override;

    const std::optional<DomainClock>& clock() const { return clock_; }

private:
    uint64_t now_ns() const override { return clock_ ? clock_->now_ns() : 0; }
    bool upcall_pending(VcpuId vcpu) const;
    bool any_pending(std::span<const EvtchnPort> ports) const;
    std::optional<std::chrono::steady_clock::time_point> host_deadline(uint64_t timeout_ns) const;

    const uint32_t nr_vcpus_;
    const EventPageLocator& pages_;
    VcpuWaiters& waiters_;
    TimeEvents& events_;
    std::optional<DomainClock> clock_;  // set once by start(), before any vCPU runs
    VcpuTimers timers_;
};

}  // namespace pvhv
