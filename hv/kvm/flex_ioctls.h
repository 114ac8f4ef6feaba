// KVM ioctl numbers whose argument struct ends in a flexible array member.
#pragma once

#include <linux/kvm.h>

#include <cstddef>

namespace pvhv::kvm {

// linux/kvm.h declares the trailing arrays with __DECLARE_FLEX_ARRAY, which g++ lays out
// differently from C: kvm_cpuid2 is 12 bytes in C++ with `entries` at offset 12, but 8 with
// the array at offset 8 in C, which is what the kernel uses. So pvhv neither uses those
// structs' C++ sizeof (the ioctl numbers below carry the C size; KVM rejects others with
// EINVAL) nor their `entries` member: callers place the array at kFlexHeaderSize.
inline constexpr size_t kFlexHeaderSize = 8;  // {u32 nent|nmsrs; u32 padding}
inline constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);
inline constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);
inline constexpr unsigned long kGetMsrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, 8);
inline constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);

}  // namespace pvhv::kvm
