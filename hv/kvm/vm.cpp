// KVM VM ioctls: memory slots, irqchip, PIT, MSR exits, IRQ lines.
#include "hv/kvm/vm.h"

#include <sys/ioctl.h>

#include <vector>

namespace pvhv::kvm {

namespace {
constexpr uint64_t kIdentityMapAddr = kPrivatePagesBase;
constexpr uint64_t kTssAddr = kPrivatePagesBase + 4096;  // three pages
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
    for (const auto& r : mem.regions())
        if (auto s = set_memory_slot(slot++, r.base(), {r.host(), r.size()}, r.name()); !s) return s;
    return {};
}

Result<void> Vm::set_memory_slot(uint32_t slot, Gpa gpa, std::span<uint8_t> host,
                                 const std::string& what) {
    kvm_userspace_memory_region region{};
    region.slot = slot;
    region.guest_phys_addr = gpa.value;
    region.memory_size = host.size();
    region.userspace_addr = reinterpret_cast<uint64_t>(host.data());
    if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0)
        return fail_errno("KVM_SET_USER_MEMORY_REGION " + what);
    return {};
}

Result<void> Vm::delete_memory_slot(uint32_t slot) {
    kvm_userspace_memory_region region{};  // memory_size 0 deletes the slot
    region.slot = slot;
    if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0)
        return fail_errno("KVM_SET_USER_MEMORY_REGION (delete slot " + std::to_string(slot) + ")");
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
