// The 2-level event-channel ABI on guest memory: pending/mask bits, selector, upcall flag, kick.
#pragma once

#include <cstdint>
#include <span>

#include "hv/error.h"
#include "hv/evtchn/port_delivery.h"
#include "hv/types.h"

namespace pvhv {

// The "kick": tells vCPU `vcpu` that its evtchn_upcall_pending went from 0 to 1. The domain
// implements it with the per-vCPU upcall vector through the in-kernel LAPIC (or an irqfd).
// Called with PortTable locks held, possibly on another domain's thread: must not block and
// must not call back into event channels.
class UpcallSink {
public:
    virtual ~UpcallSink() = default;
    virtual void raise(VcpuId vcpu) = 0;
    // `port` just became pending, masked or not (Xen's evtchn_check_pollers): a vCPU in
    // SCHEDOP_poll on it must wake, although polled ports are usually masked and so never
    // raise(). Same constraints as raise().
    virtual void wake_pollers(EvtchnPort port) { (void)port; }
};

// Where the guest's shared_info and vcpu_info live right now. Spans come from
// GuestMemory::span() (or any mapping that stays valid while the domain lives); the guest
// writes them concurrently, so EventDelivery2L only touches them with atomic operations.
class EventPageLocator {
public:
    virtual ~EventPageLocator() = default;
    // The shared_info page, at least sizeof(shared_info_t) bytes; an error while there is none.
    virtual Result<std::span<uint8_t>> shared_info() const = 0;
    // vCPU `v`'s vcpu_info, sizeof(vcpu_info_t) bytes: the one registered with
    // VCPUOP_register_vcpu_info, else shared_info.vcpu_info[v] for v < XEN_LEGACY_MAX_VCPUS;
    // an error if neither exists.
    virtual Result<std::span<uint8_t>> vcpu_info(VcpuId v) const = 0;
};

// Xen's event_2l.c for a 64-bit guest: 4096 ports, 64-bit words. Every step is an atomic
// read-modify-write on guest memory in Xen's order, so a guest clearing bits concurrently on
// another vCPU never loses an event. A page the locator cannot supply (not mapped yet, wrong
// size or alignment) drops the step, as there is nowhere to record it.
class EventDelivery2L final : public PortDelivery {
public:
    EventDelivery2L(const EventPageLocator& pages, UpcallSink& sink) : pages_(pages), sink_(sink) {}

    // Set pending; if it was clear and the port is unmasked: set the selector bit, then
    // evtchn_upcall_pending, then raise() the vCPU -- each step only if the previous one
    // changed a bit from 0 to 1. A newly pending port then wakes pollers.
    void set_pending(EvtchnPort port, VcpuId notify) override;
    void clear_pending(EvtchnPort port) override;
    // Clear the mask bit; if it was set and the port is pending, selector + upcall + raise.
    void unmask(EvtchnPort port, VcpuId notify) override;
    bool is_pending(EvtchnPort port) const override;
    bool is_masked(EvtchnPort port) const override;

    // After vcpu_info moved (VCPUOP_register_vcpu_info): Xen marks every selector bit and
    // upcall_pending and injects, so nothing pending at the old location is lost.
    void vcpu_info_moved(VcpuId vcpu);
    // raise() again if the vCPU's evtchn_upcall_pending is set (a new upcall vector was just
    // configured, as Xen re-asserts the callback when HVM_PARAM_CALLBACK_IRQ changes).
    void reraise_pending(VcpuId vcpu);

private:
    void mark_upcall(VcpuId vcpu, std::span<uint8_t> vcpu_info);

    const EventPageLocator& pages_;
    UpcallSink& sink_;
};

}  // namespace pvhv
