// The CPUID a vCPU sees: KVM's supported set, with APIC ids, the hypervisor bit and Xen's leaves.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace pvhv {

inline constexpr uint32_t kXenCpuidBase = 0x40000000;
// Xen's hypercall-page MSR (leaf base+2 EBX); guests write gpa|page_index to it. Xen uses
// 0x40000000, or 0x40000200 when Viridian (Hyper-V) leaves come first. pvhv uses the latter
// always: KVM treats 0x40000000 as a Hyper-V MSR, while 0x40000200 is unknown to KVM and so
// reaches pvd as a user-space MSR exit without an MSR filter.
inline constexpr uint32_t kXenHypercallMsr = 0x40000200;

struct CpuidPolicyInput {
    uint32_t vcpu_id = 0;
    uint32_t nr_vcpus = 1;
    uint16_t domid = 0;
    bool xen_leaves = true;      // advertise 0x40000000.. "XenVMMXenVMM"
    uint32_t tsc_khz = 0;        // guest TSC frequency for the Xen time leaf, 0 if unknown
    uint32_t xen_version = 0;    // major << 16 | minor
};

// Builds the per-vCPU CPUID table from KVM's supported entries. In the hypervisor range
// (0x40000000-0x4fffffff) the guest sees either Xen's leaves (xen_leaves) or KVM's own
// signature and the paravirt features KVM implements in the kernel (kvmclock...), never both:
// Linux picks the hypervisor whose leaves sit highest, so two would be ambiguous.
std::vector<kvm_cpuid_entry2> make_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                         const CpuidPolicyInput& in);

// The guest's physical address width (MAXPHYADDR): CPUID 0x80000008 EAX[7:0] of `cpuid`, or
// 36 when that leaf is absent (the SDM's default with PAE).
uint32_t guest_phys_addr_bits(const std::vector<kvm_cpuid_entry2>& cpuid);

}  // namespace pvhv
