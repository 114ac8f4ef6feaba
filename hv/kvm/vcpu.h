// RAII handle on a KVM vCPU: its fd, the shared kvm_run page, register and CPUID ioctls.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

#include "hv/error.h"
#include "hv/kvm/system.h"
#include "hv/kvm/vm.h"
#include "hv/types.h"
#include "hv/unique_fd.h"

namespace pvhv::kvm {

class Vcpu {
public:
    static Result<Vcpu> create(const System& sys, const Vm& vm, VcpuId id);
    Vcpu(Vcpu&&) noexcept;
    Vcpu& operator=(Vcpu&&) = delete;
    Vcpu(const Vcpu&) = delete;
    ~Vcpu();

    VcpuId id() const { return id_; }
    kvm_run& run_page() { return *run_; }

    // One KVM_RUN. Returns false (no error) when interrupted by a signal.
    Result<bool> run();

    Result<kvm_regs> get_regs() const;
    Result<void> set_regs(const kvm_regs& r);
    Result<kvm_sregs> get_sregs() const;
    Result<void> set_sregs(const kvm_sregs& s);
    Result<void> set_cpuid(const std::vector<kvm_cpuid_entry2>& entries);
    Result<void> set_mp_state(uint32_t state);
    Result<uint32_t> get_mp_state();
    Result<void> set_msr(uint32_t index, uint64_t value);
    // KVM_GET_MSRS of one MSR, as a host-initiated read.
    Result<uint64_t> get_msr(uint32_t index);

private:
    Vcpu(VcpuId id, UniqueFd fd, kvm_run* run, size_t run_size);
    VcpuId id_;
    UniqueFd fd_;
    kvm_run* run_ = nullptr;
    size_t run_size_ = 0;
};

}  // namespace pvhv::kvm
