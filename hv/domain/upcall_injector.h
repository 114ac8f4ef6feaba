// Delivers event-channel upcalls to vCPUs as MSIs on the in-kernel LAPIC (HVMOP_set_evtchn_upcall_vector).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "hv/error.h"
#include "hv/evtchn/event_delivery.h"
#include "hv/kvm/vm.h"

namespace pvhv {

// The per-vCPU upcall vector Linux registers with HVMOP_set_evtchn_upcall_vector. raise()
// sends that vector to the vCPU's APIC as a fixed, edge MSI (KVM_SIGNAL_MSI): the LAPIC
// queues it and KVM kicks the vCPU, so a back-end thread never goes through the vCPU thread.
// A vCPU without a vector gets nothing (the guest polls, as the test guests do).
class UpcallInjector final : public UpcallSink {
public:
    UpcallInjector(kvm::Vm& vm, uint32_t nr_vcpus);
    Result<void> set_vector(VcpuId vcpu, uint8_t vector);  // vector >= 0x10, as Xen
    void raise(VcpuId vcpu) override;

private:
    kvm::Vm& vm_;
    const uint32_t nr_vcpus_;
    std::unique_ptr<std::atomic<uint8_t>[]> vectors_;  // per vCPU; 0 = none; lock-free
};

}  // namespace pvhv
