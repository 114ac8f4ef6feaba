// Names of __HYPERVISOR_* numbers (Xen's public xen.h).
#include "hv/xen_public.h"
#include "hv/hypercall/hypercall_names.h"


#include <array>

namespace pvhv {

std::string hypercall_name(uint64_t nr) {
    static const std::array<const char*, 42> kNames = {
        "set_trap_table", "mmu_update", "set_gdt", "stack_switch", "set_callbacks",
        "fpu_taskswitch", "sched_op_compat", "platform_op", "set_debugreg", "get_debugreg",
        "update_descriptor", "ni_11", "memory_op", "multicall", "update_va_mapping",
        "set_timer_op", "event_channel_op_compat", "xen_version", "console_io",
        "physdev_op_compat", "grant_table_op", "vm_assist", "update_va_mapping_otherdomain",
        "iret", "vcpu_op", "set_segment_base", "mmuext_op", "xsm_op", "nmi_op", "sched_op",
        "callback_op", "xenoprof_op", "event_channel_op", "physdev_op", "hvm_op", "sysctl",
        "domctl", "kexec_op", "tmem_op", "argo_op", "xenpmu_op", "dm_op"};
    static_assert(__HYPERVISOR_dm_op == 41);
    if (nr < kNames.size()) return kNames[nr];
    return "hypercall_" + std::to_string(nr);
}

}  // namespace pvhv
