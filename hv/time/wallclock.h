// Writes shared_info's wall clock (wall time at system time 0) with the version protocol.
#pragma once

#include <cstdint>
#include <span>

namespace pvhv {

// wc_version made odd, wc_sec/wc_nsec/wc_sec_hi, wc_version made even (Xen's
// version_update_begin/end), each an atomic store in that order, so a guest reading
// concurrently retries instead of seeing a torn value. `shared_info` must be
// sizeof(shared_info_t) bytes and 8-aligned, `wall_ns` >= 0; otherwise nothing is written and
// false is returned.
bool write_wallclock(std::span<uint8_t> shared_info, int64_t wall_ns);

}  // namespace pvhv
