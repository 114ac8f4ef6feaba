// /dev/kvm access: open, capability queries, supported CPUID.
#include "hv/kvm/system.h"

#include "hv/kvm/flex_ioctls.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace pvhv::kvm {

Result<System> System::open() {
    const char* path = std::getenv("PVHV_KVM_DEVICE");
    if (!path) path = "/dev/kvm";
    UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return fail_errno(std::string("open ") + path);
    const int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        return fail(XEN_ENOSYS, "KVM API version " + std::to_string(version) + ", need 12");
    return System(std::move(fd));
}

int System::check_extension(long cap) const {
    const int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

Result<int> System::vcpu_mmap_size() const {
    const int r = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (r <= 0) return fail_errno("KVM_GET_VCPU_MMAP_SIZE");
    return r;
}

Result<std::vector<kvm_cpuid_entry2>> System::supported_cpuid() const {
    // kvm_cpuid2 ends in a flexible array; size a buffer for the maximum KVM reports.
    constexpr uint32_t kMaxEntries = 256;
    std::vector<uint8_t> buf(kFlexHeaderSize + kMaxEntries * sizeof(kvm_cpuid_entry2));
    std::memcpy(buf.data(), &kMaxEntries, sizeof kMaxEntries);  // nent
    if (::ioctl(fd_.get(), kGetSupportedCpuid, buf.data()) != 0)
        return fail_errno("KVM_GET_SUPPORTED_CPUID");
    uint32_t nent = 0;
    std::memcpy(&nent, buf.data(), sizeof nent);
    std::vector<kvm_cpuid_entry2> entries(std::min(nent, kMaxEntries));
    std::memcpy(entries.data(), buf.data() + kFlexHeaderSize, entries.size() * sizeof(kvm_cpuid_entry2));
    return entries;
}

}  // namespace pvhv::kvm
