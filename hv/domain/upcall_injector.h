// Delivers event-channel upcalls to vCPUs as MSIs on the in-kernel LAPIC, and wakes sleeping vCPUs.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "hv/error.h"
#include "hv/evtchn/event_delivery.h"
#include "hv/kvm/vm.h"
#include "hv/sched/vcpu_waiters.h"

namespace pvhv {

// The upcall vector of each vCPU: the one Linux registers with HVMOP_set_evtchn_upcall_vector,
// else the domain-wide HVM_PARAM_CALLBACK_IRQ vector. raise() sends it to the vCPU's APIC as a
// fixed, edge MSI (KVM_SIGNAL_MSI): the LAPIC queues it and KVM kicks the vCPU, so a back-end
// thread never goes through the vCPU thread. A vCPU without a vector gets no interrupt (the
// guest polls, as the test guests do). Either way raise() ends the vCPU's SCHEDOP_block or
// SCHEDOP_poll (Xen's vcpu_kick), and wake_pollers() wakes vCPUs polling that port.
//
// KVM drops a fixed interrupt to a LAPIC the guest has not software-enabled yet, where Xen's
// vLAPIC keeps it in IRR. Linux sets its upcall vector (which injects, as Xen does) before it
// enables its LAPIC, and with evtchn_upcall_pending left set no later event raises an edge: so
// an upcall no LAPIC took is owed, and the vCPU's own thread retries it before the vCPU next
// runs (take_owed()).
//
// Differs from Xen for the callback vector: Xen injects it outside the LAPIC, so the guest
// does not EOI it; here it is a LAPIC interrupt like the per-vCPU vector, and the guest must
// EOI it (abi/README.md, "Time").
class UpcallInjector final : public UpcallSink {
public:
    UpcallInjector(kvm::Vm& vm, uint32_t nr_vcpus, VcpuWaiters& waiters);
    Result<void> set_vector(VcpuId vcpu, uint8_t vector);  // vector >= 0x10, as Xen
    // HVM_PARAM_CALLBACK_IRQ: the vector type (val[63:56] == 2) sets the domain-wide vector
    // (>= 0x10, else -EINVAL); the GSI and PCI INTx types are accepted and ignored, as Xen
    // does for a PVH domain (no emulated PIC/IOAPIC there), leaving any vector in place.
    Result<void> set_callback_via(uint64_t via);
    bool has_vector(VcpuId vcpu) const;
    void raise(VcpuId vcpu) override;
    // Whether an upcall for `vcpu` was not taken by its LAPIC since the last call (and clears
    // that): the caller re-raises it if the guest still has evtchn_upcall_pending set.
    bool take_owed(VcpuId vcpu);
    void wake_pollers(EvtchnPort port) override;

private:
    uint8_t vector_of(VcpuId vcpu) const;

    kvm::Vm& vm_;
    const uint32_t nr_vcpus_;
    VcpuWaiters& waiters_;
    std::unique_ptr<std::atomic<uint8_t>[]> vectors_;  // per vCPU; 0 = none; lock-free
    std::atomic<uint8_t> callback_vector_{0};          // HVM_PARAM_CALLBACK_IRQ; 0 = none
    std::unique_ptr<std::atomic<bool>[]> owed_;         // per vCPU: an MSI no LAPIC took
};

}  // namespace pvhv
