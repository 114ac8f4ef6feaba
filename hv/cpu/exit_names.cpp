// Names of KVM_EXIT_* values.
#include "hv/cpu/exit_names.h"

#include <linux/kvm.h>

namespace pvhv {

std::string kvm_exit_name(uint32_t reason) {
    switch (reason) {
        case KVM_EXIT_UNKNOWN: return "unknown";
        case KVM_EXIT_IO: return "io";
        case KVM_EXIT_HYPERCALL: return "hypercall";
        case KVM_EXIT_DEBUG: return "debug";
        case KVM_EXIT_HLT: return "hlt";
        case KVM_EXIT_MMIO: return "mmio";
        case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window_open";
        case KVM_EXIT_SHUTDOWN: return "shutdown";
        case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
        case KVM_EXIT_INTR: return "intr";
        case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
        case KVM_EXIT_SYSTEM_EVENT: return "system_event";
        case KVM_EXIT_IOAPIC_EOI: return "ioapic_eoi";
        case KVM_EXIT_X86_RDMSR: return "rdmsr";
        case KVM_EXIT_X86_WRMSR: return "wrmsr";
        case KVM_EXIT_XEN: return "xen";
        default: return "exit_" + std::to_string(reason);
    }
}

}  // namespace pvhv
