// shared_info's wall clock fields on guest memory.
#include "hv/time/wallclock.h"

#include <atomic>
#include <cstddef>

#include "hv/xen_public.h"

namespace pvhv {

namespace {
std::atomic_ref<uint32_t> word(std::span<uint8_t> page, size_t offset) {
    return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(page.data() + offset));
}
}  // namespace

bool write_wallclock(std::span<uint8_t> si, int64_t wall_ns) {
    if (si.size() < sizeof(shared_info_t) || reinterpret_cast<uintptr_t>(si.data()) % 8 != 0 ||
        wall_ns < 0)
        return false;
    const auto sec = static_cast<uint64_t>(wall_ns / 1'000'000'000);
    auto version = word(si, offsetof(shared_info_t, wc_version));
    const uint32_t odd = (version.load() + 1) | 1;
    version.store(odd);
    word(si, offsetof(shared_info_t, wc_sec)).store(static_cast<uint32_t>(sec));
    word(si, offsetof(shared_info_t, wc_nsec)).store(static_cast<uint32_t>(wall_ns % 1'000'000'000));
    word(si, offsetof(shared_info_t, wc_sec_hi)).store(static_cast<uint32_t>(sec >> 32));
    version.store(odd + 1);
    return true;
}

}  // namespace pvhv
