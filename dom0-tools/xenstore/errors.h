// Xenstore error replies: errno values to the strings of xs_wire.h's xsd_errors (plus EQUOTA).
#pragma once

#include <string_view>

namespace pvhv::xs {

// oxenstored's "EQUOTA" has no errno; this value stands for it inside pvhv::Error.
inline constexpr int kEQuota = 0x10000;

// The XS_ERROR payload text for a Xen errno (XEN_EINVAL -> "EINVAL"). Values without a
// string map to "EINVAL", as xenstored's send_error does.
std::string_view error_string(int xen_errno);

}  // namespace pvhv::xs
