// Xen's pvclock arithmetic: TSC ticks to nanoseconds as vcpu_time_info expresses it.
#pragma once

#include <cstdint>

namespace pvhv {

// ns = ((ticks << shift) * mul_frac) >> 32, with a right shift for a negative `shift`:
// vcpu_time_info's tsc_to_system_mul and tsc_shift.
struct TimeScale {
    uint32_t mul_frac = 0;
    int8_t shift = 0;
};

// Xen's set_time_scale (xen/arch/x86/time.c) for a counter of `ticks_per_sec` > 0: the
// shift brings the rate into (1e9, 2e9] ticks per second, so mul_frac is at least 2^31 and
// the scale is exact to better than one part in 2^31 (0.5 ppb).
TimeScale time_scale_for(uint64_t ticks_per_sec);

// What a guest computes from `delta` ticks (Linux's pvclock_scale_delta; the product is
// 96 bits wide, so it never overflows).
uint64_t scale_delta(uint64_t delta, TimeScale scale);

// The frequency a guest derives from the scale, in kHz: Linux's pvclock_tsc_khz, which is how
// Linux's xen_tsc_khz() calibrates the TSC.
uint64_t scale_to_khz(TimeScale scale);

}  // namespace pvhv
