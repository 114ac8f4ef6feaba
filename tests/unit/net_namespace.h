// Tests that need real interfaces run on a thread inside a network namespace of its own.
#pragma once

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace pvhv::testing {

inline std::string netns_of(const char* path) {
    char buf[64] = {};
    const ssize_t n = ::readlink(path, buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Runs `body` on a new thread that first unshares its network namespace (namespaces belong to
// a task, so the rest of the test process stays where it was). The namespace disappears with
// the thread, taking every interface made in it. Returns why it could not, for GTEST_SKIP:
// without CAP_NET_ADMIN (not root, or a sandbox) there is no namespace and nothing runs.
// It checks that the thread really left the process's namespace before running anything, so
// a test can never touch the machine's own interfaces.
inline std::optional<std::string> run_in_private_netns(const std::function<void()>& body) {
    std::optional<std::string> why;
    const std::string outer = netns_of("/proc/self/ns/net");
    std::thread t([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            why = std::string("cannot create a network namespace: ") + std::strerror(errno);
            return;
        }
        const std::string inner = netns_of("/proc/thread-self/ns/net");
        if (inner.empty() || inner == outer) {
            why = "the thread's network namespace did not change";
            return;
        }
        body();
    });
    t.join();
    return why;
}

// Interface helpers for the namespace (ioctls on a throwaway socket). Return errno or 0.
inline int ns_ioctl(unsigned long req, void* arg) {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno;
    const int r = ::ioctl(s, req, arg);
    const int err = r < 0 ? errno : 0;
    ::close(s);
    return err;
}

inline int add_bridge(const std::string& name) {
    char buf[IFNAMSIZ] = {};
    std::strncpy(buf, name.c_str(), IFNAMSIZ - 1);
    return ns_ioctl(SIOCBRADDBR, buf);
}

inline int set_link_up(const std::string& name) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (int e = ns_ioctl(SIOCGIFFLAGS, &ifr)) return e;
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    return ns_ioctl(SIOCSIFFLAGS, &ifr);
}

// Gives `name` the IPv4 address `addr`/24.
inline int set_ipv4(const std::string& name, const char* addr) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    ::inet_pton(AF_INET, addr, &sin->sin_addr);
    if (int e = ns_ioctl(SIOCSIFADDR, &ifr)) return e;
    ::inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
    return ns_ioctl(SIOCSIFNETMASK, &ifr);
}

// A UDP socket bound to `addr`:`port` (in the calling thread's namespace); -1 on failure.
inline int bound_udp_socket(const char* addr, uint16_t port) {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    ::inet_pton(AF_INET, addr, &at.sin_addr);
    if (::bind(s, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
        ::close(s);
        return -1;
    }
    return s;
}

// A permanent ARP entry `addr` -> `mac` on `dev` (what a guest's ARP reply would teach).
inline int add_static_neighbour(const char* addr, const uint8_t (&mac)[6], const char* dev) {
    arpreq ar{};
    auto* pa = reinterpret_cast<sockaddr_in*>(&ar.arp_pa);
    pa->sin_family = AF_INET;
    ::inet_pton(AF_INET, addr, &pa->sin_addr);
    ar.arp_ha.sa_family = ARPHRD_ETHER;
    std::memcpy(ar.arp_ha.sa_data, mac, 6);
    ar.arp_flags = ATF_COM | ATF_PERM;
    std::strncpy(ar.arp_dev, dev, sizeof ar.arp_dev - 1);
    return ns_ioctl(SIOCSARP, &ar);
}

}  // namespace pvhv::testing
