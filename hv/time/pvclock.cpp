// Xen's time scale and the guest-side conversion it implies.
#include "hv/time/pvclock.h"

namespace pvhv {

namespace {
constexpr uint64_t kNsPerSec = 1'000'000'000;
}

TimeScale time_scale_for(uint64_t ticks_per_sec) {
    if (ticks_per_sec == 0) return {};
    uint64_t tps64 = ticks_per_sec;
    int shift = 0;
    while (tps64 > 2 * kNsPerSec) {
        tps64 >>= 1;
        --shift;
    }
    auto tps32 = static_cast<uint32_t>(tps64);
    while (tps32 <= kNsPerSec) {
        tps32 <<= 1;
        ++shift;
    }
    // Xen's div_frac: (1e9 << 32) / tps32, below 2^32 since tps32 > 1e9.
    const auto mul = static_cast<uint32_t>((kNsPerSec << 32) / tps32);
    return TimeScale{mul, static_cast<int8_t>(shift)};
}

uint64_t scale_delta(uint64_t delta, TimeScale scale) {
    if (scale.shift < 0)
        delta >>= -scale.shift;
    else
        delta <<= scale.shift;
    return static_cast<uint64_t>((static_cast<unsigned __int128>(delta) * scale.mul_frac) >> 32);
}

uint64_t scale_to_khz(TimeScale scale) {
    if (scale.mul_frac == 0) return 0;
    uint64_t khz = (uint64_t{1'000'000} << 32) / scale.mul_frac;
    if (scale.shift < 0)
        khz <<= -scale.shift;
    else
        khz >>= scale.shift;
    return khz;
}

}  // namespace pvhv
