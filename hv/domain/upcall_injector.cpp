// Upcall vectors and their delivery through KVM_SIGNAL_MSI.
#include "hv/domain/upcall_injector.h"

namespace pvhv {

UpcallInjector::UpcallInjector(kvm::Vm& vm, uint32_t nr_vcpus)
    : vm_(vm), nr_vcpus_(nr_vcpus), vectors_(std::make_unique<std::atomic<uint8_t>[]>(nr_vcpus)) {}

Result<void> UpcallInjector::set_vector(VcpuId vcpu, uint8_t vector) {
    if (vcpu.value >= nr_vcpus_) return fail(XEN_ENOENT, "no such vCPU");
    if (vector < 0x10) return fail(XEN_EINVAL, "upcall vector below 0x10");  // exception vectors
    vectors_[vcpu.value].store(vector);
    return {};
}

void UpcallInjector::raise(VcpuId vcpu) {
    if (vcpu.value >= nr_vcpus_) return;
    const uint8_t vector = vectors_[vcpu.value].load();
    if (vector == 0) return;
    // APIC id == vCPU id (the CPUID policy and the MADT say so).
    (void)vm_.signal_msi(vcpu.value, vector);
}

}  // namespace pvhv
