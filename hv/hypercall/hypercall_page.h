// The hypercall page a guest gets by writing Xen's hypercall MSR: pio-transport stubs.
#pragma once

#include <array>
#include <cstdint>

#include "hv/error.h"
#include "hv/mem/guest_memory.h"

namespace pvhv {

// 128 stubs of PVHV_HYPERCALL_STUB_SIZE bytes: `mov $nr,%eax; out %eax,$port; ret`,
// padded with int3 so a jump into the middle of a stub traps.
std::array<uint8_t, kPageSize> make_hypercall_page();

// Handles a guest write of `value` (gpa | page index) to the hypercall MSR. Fails (the
// guest then takes #GP, as on Xen) for a page index other than 0 or a page outside RAM.
Result<void> write_hypercall_page(const GuestMemory& mem, uint64_t value);

}  // namespace pvhv
