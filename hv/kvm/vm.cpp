// KVM VM ioctls: memory slots, irqchip, PIT, MSR exits, IRQ lines.
#include "hv/kvm/vm.h"

#include <sys/ioctl.h>

#include <vector>

namespace pvhv::kvm {

namespace {
// KVM needs three pages for the real-mode TSS and one for the EPT identity map on Intel.
// They go where QEMU puts them, in the top-of-4GiB hole the e820 map never calls RAM and
// clear of the special pages (hv/boot/guest_layout.h).
constexpr uint64_t kIdentityMapAddr = 0xfffbc000;
constexpr uint64_t kTssAddr = 0xfffbd000;
}  // namespace

Result<Vm> Vm::create(const System& sys) {
    UniqueFd fd(::ioctl(sys.fd(), KVM_CREATE_VM, 0));
    if (!fd.valid()) return fail_errno("KVM_CREATE_VM");
    if (::ioctl(fd.get(), KVM_SET_TSS_ADDR, kTssAddr) != 0) return fail_errno("KVM_SET_TSS_ADDR");
    uint64_t identity = kIdentityMapAddr;
    if (::ioctl(fd.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity) != 0)
        return fail_errno("KVM_SET_IDENTITY_MAP_ADDR");
    return Vm(std::move(fd));
}

Result<void> Vm::map_memory(const GuestMemory& mem) {
    uint32_t slot = 0;
    for (const auto& r : mem.regions()) {
        kvm_userspace_memory_region region{};
        region.slot = slot++;
        region.guest_phys_addr = r.base().value;
        region.memory_size = r.size();
        region.userspace_addr = reinterpret_cast<uint64_t>(r.host());
        if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0)
            return fail_errno("KVM_SET_USER_MEMORY_REGION " + r.name());
    }
    return {};
}

Result<void> Vm::create_irqchip_and_pit() {
    if (::ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) != 0) return fail_errno("KVM_CREATE_IRQCHIP");
    kvm_pit_config pit{};
    pit.flags = KVM_PIT_SPEAKER_DUMMY;
    if (::ioctl(fd_.get(), KVM_CREATE_PIT2, &pit) != 0) return fail_errno("KVM_CREATE_PIT2");
    return {};
}

Result<void> Vm::enable_unknown_msr_exits() {
    // No MSR filter (KVM_X86_SET_MSR_FILTER): under the nested test host a filter corrupted
    // the L1 kernel (DESIGN §4); an index KVM does not know exits without one.
    kvm_enable_cap cap{};
    cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
    cap.args[0] = KVM_MSR_EXIT_REASON_UNKNOWN;
    if (::ioctl(fd_.get(), KVM_ENABLE_CAP, &cap) != 0)
        return fail_errno("KVM_ENABLE_CAP(X86_USER_SPACE_MSR)");
    return {};
}

Result<bool> Vm::signal_msi(uint32_t apic_id, uint8_t vector) {
    kvm_msi msi{};
    msi.address_lo = 0xfee00000u | ((apic_id & 0xff) << 12);  // xAPIC format, physical mode
    msi.address_hi = 0;
    msi.data = vector;  // fixed delivery, edge
    const int delivered = ::ioctl(fd_.get(), KVM_SIGNAL_MSI, &msi);
    if (delivered < 0) return fail_errno("KVM_SIGNAL_MSI");
    return delivered > 0;
}

Result<void> Vm::set_irq_line(uint32_t gsi, bool level) {
    kvm_irq_level irq{};
    irq.irq = gsi;
    irq.level = level ? 1 : 0;
    if (::ioctl(fd_.get(), KVM_IRQ_LINE, &irq) != 0) return fail_errno("KVM_IRQ_LINE");
    return {};
}

Result<kvm_clock_data> Vm::get_clock() const {
    kvm_clock_data c{};
    if (::ioctl(fd_.get(), KVM_GET_CLOCK, &c) != 0) return fail_errno("KVM_GET_CLOCK");
    return c;
}

uint32_t Vm::tsc_khz() const {
    const int khz = ::ioctl(fd_.get(), KVM_GET_TSC_KHZ, 0);
    return khz > 0 ? static_cast<uint32_t>(khz) : 0;
}

}  // namespace pvhv::kvm
