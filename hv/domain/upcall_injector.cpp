// Upcall vectors and their delivery through KVM_SIGNAL_MSI.
#include "hv/domain/upcall_injector.h"

#include "hv/xen_public.h"

namespace pvhv {

namespace {
constexpr uint8_t kFirstVector = 0x10;  // below are exceptions (and illegal for the LAPIC)
}

UpcallInjector::UpcallInjector(kvm::Vm& vm, uint32_t nr_vcpus, VcpuWaiters& waiters)
    : vm_(vm),
      nr_vcpus_(nr_vcpus),
      waiters_(waiters),
      vectors_(std::make_unique<std::atomic<uint8_t>[]>(nr_vcpus)),
      owed_(std::make_unique<std::atomic<bool>[]>(nr_vcpus)) {}

Result<void> UpcallInjector::set_vector(VcpuId vcpu, uint8_t vector) {
    if (vcpu.value >= nr_vcpus_) return fail(XEN_ENOENT, "no such vCPU");
    if (vector < kFirstVector) return fail(XEN_EINVAL, "upcall vector below 0x10");
    vectors_[vcpu.value].store(vector);
    return {};
}

Result<void> UpcallInjector::set_callback_via(uint64_t via) {
    const auto type = static_cast<uint8_t>(via >> 56);
    if (type != HVM_PARAM_CALLBACK_TYPE_VECTOR) return {};
    const auto vector = static_cast<uint8_t>(via);
    if (vector < kFirstVector) return fail(XEN_EINVAL, "callback vector below 0x10");
    callback_vector_.store(vector);
    return {};
}

uint8_t UpcallInjector::vector_of(VcpuId vcpu) const {
    const uint8_t own = vectors_[vcpu.value].load();
    return own != 0 ? own : callback_vector_.load();
}

bool UpcallInjector::has_vector(VcpuId vcpu) const {
    return vcpu.value < nr_vcpus_ && vector_of(vcpu) != 0;
}

void UpcallInjector::raise(VcpuId vcpu) {
    if (vcpu.value >= nr_vcpus_) return;
    if (const uint8_t vector = vector_of(vcpu); vector != 0) {
        auto taken = vm_.signal_msi(vcpu.value, vector);  // APIC id == vCPU id (CPUID, MADT)
        owed_[vcpu.value].store(!taken || !*taken);
    }
    waiters_.kick(vcpu);
}

bool UpcallInjector::take_owed(VcpuId vcpu) {
    return vcpu.value < nr_vcpus_ && owed_[vcpu.value].load(std::memory_order_relaxed) &&
           owed_[vcpu.value].exchange(false);
}

void UpcallInjector::wake_pollers(EvtchnPort port) { waiters_.port_pending(port); }

}  // namespace pvhv
