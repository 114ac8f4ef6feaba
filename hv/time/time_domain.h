// What the time hypercalls (vcpu_op timers and runstate, set_timer_op, SCHEDOP_poll) ask of a domain.
#pragma once

#include <cstdint>
#include <functional>

#include <xen/vcpu.h>

#include "hv/error.h"
#include "hv/types.h"
#include "hv/xen_public.h"

namespace pvhv {

// SCHEDOP_poll's arguments once sched_poll is copied in: the ports are read one at a time
// through `port_at(i)` (-EFAULT when the guest's array is not readable), in Xen's order.
struct PollRequest {
    uint32_t nr_ports = 0;
    uint64_t timeout_ns = 0;          // absolute system time; 0: none
    bool interrupts_enabled = false;  // the caller's RFLAGS.IF
    std::function<Result<EvtchnPort>(uint32_t index)> port_at;
};

// Implemented by the domain (hv/time/domain_time.h) and by fakes in unit tests; called on the
// issuing vCPU's thread. The handlers (hv/hypercall/time_op.cpp, sched_op.cpp) copy arguments
// and check what Xen's do_vcpu_op/do_sched_op check; these are the effects.
class TimeDomain {
public:
    virtual ~TimeDomain() = default;
    // Xen's NOW(): ns since the domain started, the time base of vcpu_time_info.
    virtual uint64_t system_time_ns() const = 0;
    // VIRQ_TIMER on `vcpu` once system time reaches `deadline_ns` (at once if it has).
    virtual void set_singleshot_timer(VcpuId vcpu, uint64_t deadline_ns) = 0;
    virtual void stop_singleshot_timer(VcpuId vcpu) = 0;
    // VIRQ_TIMER on `vcpu` every `period_ns`; 0 stops it.
    virtual void set_periodic_timer(VcpuId vcpu, uint64_t period_ns) = 0;
    virtual vcpu_runstate_info runstate(VcpuId vcpu) const = 0;
    // Xen's do_poll: returns 0 when a listed port is (or becomes) pending, at the timeout, or
    // on an event upcall to the vCPU; a negative Xen errno for bad arguments.
    virtual int64_t poll(VcpuId vcpu, const PollRequest& request) = 0;
};

}  // namespace pvhv
