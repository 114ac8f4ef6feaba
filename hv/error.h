// Error values of the hv core: a Xen errno for the guest plus a message for the log.
#pragma once

#include <expected>
#include <string>
#include <utility>

#include <xen/errno.h>

namespace pvhv {

// `xen_errno` is positive (XEN_EINVAL, ...); a hypercall returns -xen_errno to the guest.
struct Error {
    int xen_errno = XEN_EINVAL;
    std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(int xen_errno, std::string message) {
    return std::unexpected<Error>(Error{xen_errno, std::move(message)});
}

// Turns errno from a failed host system call into an Error ("what: strerror").
std::unexpected<Error> fail_errno(const std::string& what);

}  // namespace pvhv
