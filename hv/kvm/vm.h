// RAII handle on a KVM VM: memory slots, in-kernel irqchip/PIT, interrupt lines, MSR policy.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "hv/error.h"
#include "hv/kvm/system.h"
#include "hv/mem/guest_memory.h"
#include "hv/mem/physmap.h"
#include "hv/unique_fd.h"

namespace pvhv::kvm {

// KVM's real-mode TSS (3 pages) and EPT identity map (1 page), which KVM backs with private
// memory slots on Intel. They sit where QEMU puts them, in the top-of-4GiB hole the e820 map
// never calls RAM, clear of the special pages (hv/boot/guest_layout.h).
inline constexpr uint64_t kPrivatePagesBase = 0xfffbc000;
inline constexpr uint64_t kPrivatePagesSize = 4 * 4096;

class Vm {
public:
    static Result<Vm> create(const System& sys);

    // Registers every region of `mem` as a KVM memory slot (slot = index).
    Result<void> map_memory(const GuestMemory& mem);
    // `host` (pvd memory, whole pages) becomes guest memory at `gpa` as slot `slot`. KVM
    // refuses a slot that overlaps another; changing slots while vCPUs run is allowed (KVM
    // serialises it against them).
    Result<void> set_memory_slot(uint32_t slot, Gpa gpa, std::span<uint8_t> host,
                                 const std::string& what);
    Result<void> delete_memory_slot(uint32_t slot);
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

// A Physmap's view of a VM's slots. `vm` must outlive it.
class VmSlots final : public SlotControl {
public:
    explicit VmSlots(Vm& vm) : vm_(vm) {}
    Result<void> map_slot(uint32_t slot, Gpa gpa, std::span<uint8_t> host) override {
        return vm_.set_memory_slot(slot, gpa, host, "placed page");
    }
    Result<void> unmap_slot(uint32_t slot) override { return vm_.delete_memory_slot(slot); }

private:
    Vm& vm_;
};

}  // namespace pvhv::kvm
