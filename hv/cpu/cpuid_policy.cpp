// CPUID policy: per-vCPU APIC ids, the hypervisor-present bit, Xen's leaves.
#include "hv/cpu/cpuid_policy.h"

#include <asm/kvm_para.h>

#include "hv/xen_public.h"
#include "pvhv/hypercall_transport.h"

namespace pvhv {

namespace {

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx,
                      uint32_t index = 0, uint32_t flags = 0) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = flags;
    e.eax = eax;
    e.ebx = ebx;
    e.ecx = ecx;
    e.edx = edx;
    return e;
}

// KVM paravirt features whose implementation is entirely in the kernel, so a guest may use
// them with no help from pvd: kvmclock (the guest's TSC frequency and a stable clock; without
// it a reduced-hardware ACPI guest has no way to calibrate the TSC), no-op port 0x80 delays,
// PV EOI. Features that need the VMM (async page faults, map-GPA-range exits, migration
// control, MSI extended destination ids) are not offered.
constexpr uint32_t kKvmFeaturesInKernel =
    (1u << KVM_FEATURE_CLOCKSOURCE) | (1u << KVM_FEATURE_NOP_IO_DELAY) |
    (1u << KVM_FEATURE_CLOCKSOURCE2) | (1u << KVM_FEATURE_PV_EOI) |
    (1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);

}  // namespace

std::vector<kvm_cpuid_entry2> make_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                         const CpuidPolicyInput& in) {
    std::vector<kvm_cpuid_entry2> out;
    for (kvm_cpuid_entry2 e : supported) {
        if (e.function >= 0x40000000 && e.function <= 0x4fffffff) {
            // A guest without the Xen leaves sees KVM's own signature and in-kernel features.
            if (in.xen_leaves || (e.function != KVM_CPUID_SIGNATURE && e.function != KVM_CPUID_FEATURES))
                continue;
            if (e.function == KVM_CPUID_SIGNATURE) e.eax = KVM_CPUID_FEATURES;
            if (e.function == KVM_CPUID_FEATURES) e.eax &= kKvmFeaturesInKernel, e.edx = 0;
        }
        switch (e.function) {
            case 1:
                e.ebx = (e.ebx & 0x00ffffff) | (in.vcpu_id << 24);  // initial APIC id
                e.ecx |= 1u << 31;                                   // running under a hypervisor
                break;
            case 0xb:
            case 0x1f:
                e.edx = in.vcpu_id;  // x2APIC id
                break;
            default: break;
        }
        out.push_back(e);
    }
    if (!in.xen_leaves) return out;

    const uint32_t b = kXenCpuidBase;
    out.push_back(leaf(b, b + 4, XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX,
                       XEN_CPUID_SIGNATURE_EDX));
    out.push_back(leaf(b + 1, in.xen_version, 0, 0, 0));
    out.push_back(leaf(b + 2, /*hypercall pages*/ 1, kXenHypercallMsr, 0, 0));
    // Time leaf: TSC is never emulated (mode 2); sub-leaves 1 and 2 stay zero for now.
    constexpr uint32_t kSignificantIndex = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    out.push_back(leaf(b + 3, 0, /*tsc_mode*/ 2, in.tsc_khz, 0, 0, kSignificantIndex));
    out.push_back(leaf(b + 3, 0, 0, 0, 0, 1, kSignificantIndex));
    out.push_back(leaf(b + 3, in.tsc_khz, 0, 0, 0, 2, kSignificantIndex));
    // HVM leaf: vCPU id and domid present; per-vCPU upcall vectors (HVMOP_set_evtchn_upcall_vector).
    const uint32_t hvm_flags =
        XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT | XEN_HVM_CPUID_UPCALL_VECTOR;
    out.push_back(leaf(b + 4, hvm_flags, in.vcpu_id, in.domid, 0, 0, kSignificantIndex));
    // pvhv's leaves (abi/README.md): the pio transport, for kernels built with our patch.
    constexpr uint32_t sig = PVHV_CPUID_SIGNATURE_REG;
    out.push_back(leaf(PVHV_CPUID_BASE, PVHV_CPUID_FEATURES_LEAF, sig, sig, sig));
    out.push_back(leaf(PVHV_CPUID_FEATURES_LEAF, PVHV_CPUID_PIO_HYPERCALL, 0, 0, 0));
    return out;
}

uint32_t guest_phys_addr_bits(const std::vector<kvm_cpuid_entry2>& cpuid) {
    for (const auto& e : cpuid)
        if (e.function == 0x80000008 && (e.eax & 0xff) != 0) return e.eax & 0xff;
    return 36;
}

}  // namespace pvhv
