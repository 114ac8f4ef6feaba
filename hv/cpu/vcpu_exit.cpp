// Decoding of kvm_run into VcpuExit.
#include "hv/cpu/vcpu_exit.h"

namespace pvhv {

VcpuExit decode_exit(kvm_run& run) {
    switch (run.exit_reason) {
        case KVM_EXIT_IO: {
            if (run.io.count != 1 || (run.io.size != 1 && run.io.size != 2 && run.io.size != 4))
                return UnhandledExit{run.exit_reason};
            auto* base = reinterpret_cast<uint8_t*>(&run) + run.io.data_offset;
            return IoExit{run.io.port, run.io.direction == KVM_EXIT_IO_OUT,
                          std::span<uint8_t>(base, run.io.size)};
        }
        case KVM_EXIT_MMIO:
            if (run.mmio.len == 0 || run.mmio.len > sizeof run.mmio.data)
                return UnhandledExit{run.exit_reason};
            return MmioExit{run.mmio.phys_addr, run.mmio.is_write != 0,
                            std::span<uint8_t>(run.mmio.data, run.mmio.len)};
        case KVM_EXIT_X86_RDMSR:
        case KVM_EXIT_X86_WRMSR:
            return MsrExit{run.msr.index, run.exit_reason == KVM_EXIT_X86_WRMSR,
                           reinterpret_cast<uint64_t*>(&run.msr.data),
                           &run.msr.error};
        case KVM_EXIT_HLT: return HltExit{};
        case KVM_EXIT_SHUTDOWN: return ShutdownExit{};
        case KVM_EXIT_SYSTEM_EVENT: return SystemEventExit{run.system_event.type};
        case KVM_EXIT_FAIL_ENTRY:
            return FailEntryExit{run.fail_entry.hardware_entry_failure_reason};
        case KVM_EXIT_INTERNAL_ERROR: return InternalErrorExit{run.internal.suberror};
        case KVM_EXIT_INTR: return InterruptedExit{};
        default: return UnhandledExit{run.exit_reason};
    }
}

}  // namespace pvhv
