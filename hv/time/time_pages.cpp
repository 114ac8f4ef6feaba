// The version protocol of vcpu_time_info and shared_info's wall clock, on guest memory.
#include "hv/time/time_pages.h"

#include <atomic>
#include <cstddef>
#include <cstring>

namespace pvhv {

namespace {

template <class T>
std::atomic_ref<T> field(std::span<uint8_t> page, size_t offset) {
    static_assert(std::atomic_ref<T>::is_always_lock_free);
    return std::atomic_ref<T>(*reinterpret_cast<T*>(page.data() + offset));
}

bool usable(std::span<uint8_t> s, size_t size) {
    return s.size() >= size && reinterpret_cast<uintptr_t>(s.data()) % 8 == 0;
}

// Xen's version_update_begin: odd, and different from any value a reader saw before.
uint32_t begin_version(std::atomic_ref<uint32_t> v) {
    const uint32_t odd = (v.load() + 1) | 1;
    v.store(odd);
    return odd;
}

}  // namespace

bool write_vcpu_time(std::span<uint8_t> vi, const vcpu_time_info& t) {
    if (!usable(vi, sizeof(vcpu_info_t))) return false;
    constexpr size_t base = offsetof(vcpu_info_t, time);
    static_assert(base % 8 == 0);
    auto version = field<uint32_t>(vi, base + offsetof(vcpu_time_info, version));
    const uint32_t odd = begin_version(version);
    field<uint64_t>(vi, base + offsetof(vcpu_time_info, tsc_timestamp)).store(t.tsc_timestamp);
    field<uint64_t>(vi, base + offsetof(vcpu_time_info, system_time)).store(t.system_time);
    field<uint32_t>(vi, base + offsetof(vcpu_time_info, tsc_to_system_mul)).store(t.tsc_to_system_mul);
    field<int8_t>(vi, base + offsetof(vcpu_time_info, tsc_shift)).store(t.tsc_shift);
    field<uint8_t>(vi, base + offsetof(vcpu_time_info, flags)).store(t.flags);
    version.store(odd + 1);
    return true;
}

bool write_wallclock(std::span<uint8_t> si, int64_t wall_ns) {
    if (!usable(si, sizeof(shared_info_t)) || wall_ns < 0) return false;
    const auto sec = static_cast<uint64_t>(wall_ns / 1'000'000'000);
    auto version = field<uint32_t>(si, offsetof(shared_info_t, wc_version));
    const uint32_t odd = begin_version(version);
    field<uint32_t>(si, offsetof(shared_info_t, wc_sec)).store(static_cast<uint32_t>(sec));
    field<uint32_t>(si, offsetof(shared_info_t, wc_nsec)).store(static_cast<uint32_t>(wall_ns % 1'000'000'000));
    field<uint32_t>(si, offsetof(shared_info_t, wc_sec_hi)).store(static_cast<uint32_t>(sec >> 32));
    version.store(odd + 1);
    return true;
}

bool write_time_area(const GuestLinearAccess& guest, uint64_t linear, const vcpu_time_info& t) {
    static_assert(offsetof(vcpu_time_info, version) == 0);
    const uint32_t old = guest.read<uint32_t>(linear).value_or(0);
    const uint32_t odd = (old + 1) | 1;
    if (!guest.write(linear, odd)) return false;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    vcpu_time_info body = t;
    body.version = odd;
    if (!guest.write(linear, body)) return false;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return guest.write(linear, odd + 1).has_value();
}

}  // namespace pvhv
