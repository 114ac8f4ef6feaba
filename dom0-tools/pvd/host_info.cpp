// Probes /dev/kvm (read-only ioctls on the system fd) and the host kernel for `pvctl info`.
#include "dom0-tools/pvd/host_info.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstring>

#include "hv/unique_fd.h"

namespace pvhv::dom0 {

std::vector<std::pair<std::string, std::string>> probe_host() {
    std::vector<std::pair<std::string, std::string>> out;
    utsname u{};
    if (::uname(&u) == 0)
        out.emplace_back("host kernel", std::string(u.sysname) + " " + u.release + " " + u.machine);

    UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    if (!kvm.valid()) {
        out.emplace_back("kvm", std::string("unavailable: /dev/kvm: ") + std::strerror(errno));
        return out;
    }
    const int api = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
    out.emplace_back("kvm api version", std::to_string(api));
    auto cap = [&](long c) { return ::ioctl(kvm.get(), KVM_CHECK_EXTENSION, c); };
    out.emplace_back("kvm max vcpus", std::to_string(cap(KVM_CAP_MAX_VCPUS)));
    out.emplace_back("kvm irqfd", cap(KVM_CAP_IRQFD) > 0 ? "yes" : "no");
    out.emplace_back("kvm ioeventfd", cap(KVM_CAP_IOEVENTFD) > 0 ? "yes" : "no");
    const int xen = cap(KVM_CAP_XEN_HVM);
    const bool intercept = xen > 0 && (xen & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL);
    char flags[32];
    std::snprintf(flags, sizeof flags, "0x%x", xen > 0 ? xen : 0);
    out.emplace_back("kvm xen hvm", xen > 0 ? std::string("yes, flags ") + flags : "no");
    // DESIGN §1: kvm-xen needs KVM_CAP_XEN_HVM with INTERCEPT_HCALL, else pio.
    out.emplace_back("hypercall transports",
                     intercept ? "pio, kvm-xen" : "pio (no KVM_CAP_XEN_HVM intercept)");
    return out;
}

}  // namespace pvhv::dom0
