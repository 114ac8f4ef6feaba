// KVM vCPU ioctls and the mmap'd kvm_run page.
#include "hv/kvm/vcpu.h"

#include "hv/kvm/flex_ioctls.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pvhv::kvm {

Result<Vcpu> Vcpu::create(const System& sys, const Vm& vm, VcpuId id) {
    UniqueFd fd(::ioctl(vm.fd(), KVM_CREATE_VCPU, id.value));
    if (!fd.valid()) return fail_errno("KVM_CREATE_VCPU");
    auto size = sys.vcpu_mmap_size();
    if (!size) return std::unexpected(size.error());
    void* p = ::mmap(nullptr, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) return fail_errno("mmap kvm_run");
    return Vcpu(id, std::move(fd), static_cast<kvm_run*>(p), static_cast<size_t>(*size));
}

Vcpu::Vcpu(VcpuId id, UniqueFd fd, kvm_run* run, size_t run_size)
    : id_(id), fd_(std::move(fd)), run_(run), run_size_(run_size) {}

Vcpu::Vcpu(Vcpu&& o) noexcept
    : id_(o.id_),
      fd_(std::move(o.fd_)),
      run_(std::exchange(o.run_, nullptr)),
      run_size_(o.run_size_) {}

Vcpu::~Vcpu() {
    if (run_) ::munmap(run_, run_size_);
}

Result<bool> Vcpu::run() {
    if (::ioctl(fd_.get(), KVM_RUN, 0) == 0) return true;
    if (errno == EINTR || errno == EAGAIN) return false;
    return fail_errno("KVM_RUN");
}

Result<kvm_regs> Vcpu::get_regs() const {
    kvm_regs r{};
    if (::ioctl(fd_.get(), KVM_GET_REGS, &r) != 0) return fail_errno("KVM_GET_REGS");
    return r;
}

Result<void> Vcpu::set_regs(const kvm_regs& r) {
    if (::ioctl(fd_.get(), KVM_SET_REGS, &r) != 0) return fail_errno("KVM_SET_REGS");
    return {};
}

Result<kvm_sregs> Vcpu::get_sregs() const {
    kvm_sregs s{};
    if (::ioctl(fd_.get(), KVM_GET_SREGS, &s) != 0) return fail_errno("KVM_GET_SREGS");
    return s;
}

Result<void> Vcpu::set_sregs(const kvm_sregs& s) {
    if (::ioctl(fd_.get(), KVM_SET_SREGS, &s) != 0) return fail_errno("KVM_SET_SREGS");
    return {};
}

Result<void> Vcpu::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
    std::vector<uint8_t> buf(kFlexHeaderSize + entries.size() * sizeof(kvm_cpuid_entry2));
    const uint32_t nent = static_cast<uint32_t>(entries.size());
    std::memcpy(buf.data(), &nent, sizeof nent);
    std::memcpy(buf.data() + kFlexHeaderSize, entries.data(), entries.size() * sizeof(kvm_cpuid_entry2));
    if (::ioctl(fd_.get(), kSetCpuid2, buf.data()) != 0) return fail_errno("KVM_SET_CPUID2");
    return {};
}

Result<uint32_t> Vcpu::get_mp_state() {
    kvm_mp_state mp{};
    if (::ioctl(fd_.get(), KVM_GET_MP_STATE, &mp) != 0) return fail_errno("KVM_GET_MP_STATE");
    return mp.mp_state;
}

Result<void> Vcpu::set_mp_state(uint32_t state) {
    kvm_mp_state mp{state};
    if (::ioctl(fd_.get(), KVM_SET_MP_STATE, &mp) != 0) return fail_errno("KVM_SET_MP_STATE");
    return {};
}

// KVM_GET_MSRS / KVM_SET_MSRS of one entry (the kvm_msrs header is spelled by hand, see
// flex_ioctls.h). The ioctl returns how many entries it processed.
static bool one_msr_ioctl(int fd, unsigned long request, kvm_msr_entry& entry) {
    uint8_t buf[kFlexHeaderSize + sizeof(kvm_msr_entry)] = {};
    const uint32_t nmsrs = 1;
    std::memcpy(buf, &nmsrs, sizeof nmsrs);
    std::memcpy(buf + kFlexHeaderSize, &entry, sizeof entry);
    if (::ioctl(fd, request, buf) != 1) return false;
    std::memcpy(&entry, buf + kFlexHeaderSize, sizeof entry);
    return true;
}

Result<void> Vcpu::set_msr(uint32_t index, uint64_t value) {
    kvm_msr_entry entry{};
    entry.index = index;
    entry.data = value;
    if (!one_msr_ioctl(fd_.get(), kSetMsrs, entry)) return fail_errno("KVM_SET_MSRS");
    return {};
}

Result<uint64_t> Vcpu::get_msr(uint32_t index) {
    kvm_msr_entry entry{};
    entry.index = index;
    if (!one_msr_ioctl(fd_.get(), kGetMsrs, entry)) return fail_errno("KVM_GET_MSRS");
    return entry.data;
}

}  // namespace pvhv::kvm
