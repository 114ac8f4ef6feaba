// RAII handle on /dev/kvm: API version check, capabilities, supported CPUID.
#pragma once

#include <linux/kvm.h>

#include <vector>

#include "hv/error.h"
#include "hv/unique_fd.h"

namespace pvhv::kvm {

class System {
public:
    // Opens /dev/kvm (or $PVHV_KVM_DEVICE); fails with a readable reason when it cannot.
    static Result<System> open();

    int check_extension(long cap) const;  // 0 when absent
    Result<int> vcpu_mmap_size() const;
    Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
    int fd() const { return fd_.get(); }

private:
    explicit System(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace pvhv::kvm
