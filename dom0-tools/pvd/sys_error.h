// Errors from failed host system calls in the toolstack, without linking the hv core.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#include "hv/error.h"

namespace pvhv::dom0 {

// "what: strerror(errno)". hv/error.cpp has the same for the hv core; the toolstack keeps
// its own so its library links (and its tests run) while the hv core is being written.
inline std::unexpected<Error> fail_sys(const std::string& what) {
    const int e = errno;
    return fail(e == ENOENT   ? XEN_ENOENT
                : e == ENOMEM ? XEN_ENOMEM
                              : XEN_EIO,
                what + ": " + std::strerror(e));
}

}  // namespace pvhv::dom0
