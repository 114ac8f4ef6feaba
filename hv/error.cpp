// Conversion of host errno values into pvhv::Error.
#include "hv/error.h"

#include <cerrno>
#include <cstring>

namespace pvhv {

std::unexpected<Error> fail_errno(const std::string& what) {
    const int e = errno;
    // Host errnos are reported to the log; the guest sees a generic failure class.
    const int xen = (e == ENOMEM) ? XEN_ENOMEM : (e == ENOENT) ? XEN_ENOENT : XEN_EIO;
    return fail(xen, what + ": " + std::strerror(e));
}

}  // namespace pvhv
