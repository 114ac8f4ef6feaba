// TAP device creation, bridge attachment and frame I/O with virtio_net_hdr for one vif.
#include "pvdrivers/back/net/tap_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace pvhv::net {

namespace {

// struct virtio_net_hdr of <linux/virtio_net.h>, which C++ cannot include (a member is named
// `class`): the 10-byte header IFF_VNET_HDR puts before every frame, little-endian on x86.
struct VnetHdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};
static_assert(sizeof(VnetHdr) == 10);
constexpr uint8_t kVnetNeedsCsum = 1;  // kVnetNeedsCsum
constexpr uint8_t kVnetDataValid = 2;  // kVnetDataValid
constexpr uint8_t kVnetGsoNone = 0;    // kVnetGsoNone

ifreq named_ifreq(const std::string& name) {
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), size_t{IFNAMSIZ - 1}));
    return ifr;
}

// A socket for the interface ioctls (any family reaches dev_ioctl; AF_INET may be missing).
Result<UniqueFd> control_socket() {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return fail_errno("socket for interface ioctls");
    return UniqueFd(s);
}

Result<void> set_mac(int sock, const std::string& ifname, const MacAddress& mac) {
    ifreq ifr = named_ifreq(ifname);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    std::memcpy(ifr.ifr_hwaddr.sa_data, mac.bytes.data(), mac.bytes.size());
    if (::ioctl(sock, SIOCSIFHWADDR, &ifr) < 0)
        return fail_errno("setting MAC " + mac.to_string() + " on " + ifname);
    return {};
}

Result<void> set_mtu(int sock, const std::string& ifname, uint32_t mtu) {
    ifreq ifr = named_ifreq(ifname);
    ifr.ifr_mtu = static_cast<int>(mtu);
    if (::ioctl(sock, SIOCSIFMTU, &ifr) < 0)
        return fail_errno("setting MTU " + std::to_string(mtu) + " on " + ifname);
    return {};
}

Result<void> add_to_bridge(int sock, const std::string& bridge, const std::string& ifname,
                           int ifindex) {
    ifreq ifr = named_ifreq(bridge);
    ifr.ifr_ifindex = ifindex;
    if (::ioctl(sock, SIOCBRADDIF, &ifr) == 0) return {};
    const int err = errno;
    if (err == ENODEV)
        return fail(XEN_ENODEV, "bridge " + bridge + " does not exist (needed by " + ifname + ")");
    if (err == EOPNOTSUPP || err == EINVAL)
        return fail(XEN_EINVAL, bridge + " is not a bridge (needed by " + ifname + ")");
    errno = err;
    return fail_errno("adding " + ifname + " to bridge " + bridge);
}

Result<void> set_up(int sock, const std::string& ifname) {
    ifreq ifr = named_ifreq(ifname);
    if (::ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return fail_errno("reading flags of " + ifname);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) return fail_errno("bringing up " + ifname);
    return {};
}

}  // namespace

Result<void> check_interface_name(std::string_view name) {
    if (name.empty()) return fail(XEN_EINVAL, "interface name is empty");
    if (name.size() >= IFNAMSIZ)
        return fail(XEN_EINVAL, "interface name " + std::string(name) + " is longer than " +
                                    std::to_string(IFNAMSIZ - 1) + " characters");
    if (name == "." || name == "..")
        return fail(XEN_EINVAL, "interface name " + std::string(name) + " is reserved");
    for (char c : name) {
        if (c == '/' || c == ':' || c == '\0' || std::isspace(static_cast<unsigned char>(c)))
            return fail(XEN_EINVAL, "interface name " + std::string(name) +
                                        " contains '/', ':', a NUL or whitespace");
    }
    return {};
}

Result<std::unique_ptr<TapDevice>> TapDevice::create(const TapOptions& options) {
    if (auto ok = check_interface_name(options.name); !ok) return std::unexpected(ok.error());
    if (!options.bridge.empty()) {
        if (auto ok = check_interface_name(options.bridge); !ok)
            return fail(XEN_EINVAL, "bridge: " + ok.error().message);
    }
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) return fail_errno("opening /dev/net/tun for " + options.name);

    ifreq ifr = named_ifreq(options.name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0)
        return fail_errno("creating TAP device " + options.name);
    // From here on, closing fd (every early return) deletes the device again.
    const std::string name(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));

    int hdr_size = sizeof(VnetHdr);
    if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr_size) < 0)
        return fail_errno("setting the vnet header size of " + name);
    // The kernel may hand us frames whose TCP/UDP checksum is still to be finished; netback
    // passes that on to the front-end (NETRXF_csum_blank) or finishes it in software.
    if (::ioctl(fd.get(), TUNSETOFFLOAD, static_cast<unsigned long>(TUN_F_CSUM)) < 0)
        return fail_errno("enabling checksum offload on " + name);

    const unsigned ifindex = ::if_nametoindex(name.c_str());
    if (ifindex == 0) return fail_errno("finding the index of " + name);
    auto sock = control_socket();
    if (!sock) return std::unexpected(sock.error());
    if (auto r = set_mac(sock->get(), name, options.mac); !r) return std::unexpected(r.error());
    if (auto r = set_mtu(sock->get(), name, options.mtu); !r) return std::unexpected(r.error());
    if (!options.bridge.empty()) {
        auto r = add_to_bridge(sock->get(), options.bridge, name, static_cast<int>(ifindex));
        if (!r) return std::unexpected(r.error());
    }
    if (auto r = set_up(sock->get(), name); !r) return std::unexpected(r.error());
    return std::unique_ptr<TapDevice>(new TapDevice(std::move(fd), name, static_cast<int>(ifindex)));
}

Result<size_t> TapDevice::receive(std::span<uint8_t> buf, PacketMeta& meta) {
    VnetHdr hdr{};
    iovec iov[2] = {{&hdr, sizeof hdr}, {buf.data(), buf.size()}};
    const ssize_t n = ::readv(fd_.get(), iov, 2);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return size_t{0};
        return fail_errno("reading from " + name_);
    }
    if (static_cast<size_t>(n) < sizeof hdr) return fail(XEN_EIO, name_ + ": short read");
    const size_t len = static_cast<size_t>(n) - sizeof hdr;
    if (hdr.gso_type != kVnetGsoNone)  // never enabled (no TUN_F_TSO*)
        return fail(XEN_EOPNOTSUPP, name_ + ": unexpected GSO frame");
    meta = PacketMeta{};
    if (hdr.flags & kVnetNeedsCsum) {
        meta.csum = PacketMeta::Csum::Partial;
        meta.spot = ChecksumSpot{hdr.csum_start, hdr.csum_offset};
    } else if (hdr.flags & kVnetDataValid) {
        meta.csum = PacketMeta::Csum::Validated;
    }
    return len;
}

Result<void> TapDevice::send(std::span<const uint8_t> frame, const PacketMeta& meta) {
    VnetHdr hdr{};
    hdr.gso_type = kVnetGsoNone;
    if (meta.csum == PacketMeta::Csum::Partial) {
        hdr.flags = kVnetNeedsCsum;
        hdr.csum_start = meta.spot.start;
        hdr.csum_offset = meta.spot.offset;
    } else if (meta.csum == PacketMeta::Csum::Validated) {
        hdr.flags = kVnetDataValid;
    }
    iovec iov[2] = {{&hdr, sizeof hdr}, {const_cast<uint8_t*>(frame.data()), frame.size()}};
    const ssize_t n = ::writev(fd_.get(), iov, 2);
    if (n < 0) return fail_errno("writing to " + name_);
    return {};
}

}  // namespace pvhv::net
