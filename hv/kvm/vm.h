// RAII handle on a KVM VM: memory slots, in-kernel irqchip/PIT, interrupt lines, MSR policy.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "hv/error.h"
#include "hv/kvm/system.h"
#include "hv/mem/guest_memory.h"
#include "hv/unique_fd.h"

namespace pvhv::kvm {

class Vm {
public:
    static Result<Vm> create(const System& sys);

    // Registers every region of `mem` as a KVM memory slot (slot = index).
    Result<void> map_memory(const GuestMemory& mem);
    // LAPIC in every vCPU, IOAPIC + PIC, and the PIT (for TSC calibration by Linux).
    Result<void> create_irqchip_and_pit();
    // Makes guest RDMSR/WRMSR of MSRs KVM does not know exit to user space instead of
    // raising #GP in the kernel (the Xen hypercall MSR is one of those).
    Result<void> enable_unknown_msr_exits();
    // Sends `vector` to the LAPIC with id `apic_id` as a fixed, edge-triggered MSI. False when
    // no LAPIC took it (KVM drops fixed interrupts to a software-disabled LAPIC).
    Result<bool> signal_msi(uint32_t apic_id, uint8_t vector);
    // Drives an interrupt line of the in-kernel PIC/IOAPIC to `level`.
    Result<void> set_irq_line(uint32_t gsi, bool level);

    // The guest TSC frequency KVM uses, 0 when it cannot tell.
    uint32_t tsc_khz() const;
    // KVM_GET_CLOCK: the VM's kvmclock (ns since creation), with the host wall clock when KVM
    // can read both at once (KVM_CLOCK_REALTIME). Any thread.
    Result<kvm_clock_data> get_clock() const;

    int fd() const { return fd_.get(); }

private:
    explicit Vm(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace pvhv::kvm
