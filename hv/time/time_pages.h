// Writes pvclock values and the wall clock into the guest's time structures, seqlock style.
#pragma once

#include <cstdint>
#include <span>

#include "hv/mem/guest_linear.h"
#include "hv/xen_public.h"

namespace pvhv {

// Every writer follows vcpu_time_info's protocol: version made odd, the fields, version made
// even (Xen's version_update_begin/end), each store ordered after the previous one, so a guest
// reading concurrently retries instead of seeing a torn value. The guest may write these
// pages at any time; only atomic stores touch them.

// The `time` member of a vcpu_info: `vcpu_info` must be sizeof(vcpu_info_t) bytes, 8-aligned
// (GuestEventPages guarantees both); otherwise nothing is written and false is returned.
bool write_vcpu_time(std::span<uint8_t> vcpu_info, const vcpu_time_info& t);

// shared_info's wall clock (wc_version, wc_sec, wc_nsec, wc_sec_hi): the wall time at system
// time 0, in ns since the epoch. Same preconditions as above, for shared_info_t.
bool write_wallclock(std::span<uint8_t> shared_info, int64_t wall_ns);

// VCPUOP_register_vcpu_time_memory_area's secondary copy, at a guest linear address. Returns
// false if the guest cannot be written there (Xen ignores that too).
bool write_time_area(const GuestLinearAccess& guest, uint64_t linear, const vcpu_time_info& t);

}  // namespace pvhv
