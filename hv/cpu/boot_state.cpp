// PVH entry register state (docs/misc/pvh.pandoc in Xen's tree describes the contract).
#include "hv/cpu/boot_state.h"

namespace pvhv {

namespace {

kvm_segment flat_segment(uint16_t selector, uint8_t type) {
    kvm_segment s{};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.dpl = 0;
    s.db = 1;  // 32-bit
    s.s = 1;   // code/data
    s.l = 0;
    s.g = 1;   // 4 KiB granularity
    return s;
}

}  // namespace

Result<void> set_pvh_entry_state(kvm::Vcpu& vcpu, uint32_t entry, uint32_t start_info) {
    auto sregs = vcpu.get_sregs();
    if (!sregs) return std::unexpected(sregs.error());
    sregs->cs = flat_segment(0x10, 0xb);  // execute/read, accessed
    sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = flat_segment(0x18, 0x3);
    sregs->tr = flat_segment(0x20, 0xb);  // busy 32-bit TSS: VMX wants a usable TR
    sregs->tr.s = 0;
    sregs->tr.limit = 0x67;
    sregs->tr.g = 0;
    sregs->cr0 = 0x11;  // PE | ET
    sregs->cr4 = 0;
    sregs->efer = 0;
    if (auto r = vcpu.set_sregs(*sregs); !r) return r;

    kvm_regs regs{};
    regs.rip = entry;
    regs.rbx = start_info;
    regs.rflags = 0x2;
    return vcpu.set_regs(regs);
}

}  // namespace pvhv
