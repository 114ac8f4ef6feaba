// Xenstore error strings, taken from the xsd_errors table of <xen/io/xs_wire.h>.
#include "dom0-tools/xenstore/errors.h"

#include <cerrno>  // xs_wire.h defines xsd_errors only when EINVAL is defined
#include <cstdint>
#include <iterator>

#include <xen/errno.h>
#include <xen/io/xs_wire.h>

namespace pvhv::xs {

// xsd_errors is keyed by host errno values; the guest ABI speaks Xen's. They agree on
// x86 Linux, which this check pins down for every entry of the table.
static_assert(EINVAL == XEN_EINVAL && EACCES == XEN_EACCES && EEXIST == XEN_EEXIST &&
              EISDIR == XEN_EISDIR && ENOENT == XEN_ENOENT && ENOMEM == XEN_ENOMEM &&
              ENOSPC == XEN_ENOSPC && EIO == XEN_EIO && ENOTEMPTY == XEN_ENOTEMPTY &&
              ENOSYS == XEN_ENOSYS && EROFS == XEN_EROFS && EBUSY == XEN_EBUSY &&
              EAGAIN == XEN_EAGAIN && EISCONN == XEN_EISCONN && E2BIG == XEN_E2BIG &&
              EPERM == XEN_EPERM);

std::string_view error_string(int xen_errno) {
    if (xen_errno == kEQuota) return "EQUOTA";
    for (const auto& e : xsd_errors)
        if (e.errnum == xen_errno) return e.errstring;
    return xsd_errors[0].errstring;  // EINVAL
}

}  // namespace pvhv::xs
