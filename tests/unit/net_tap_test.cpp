// Tests of the vif TAP device on a bridge, inside a network namespace the test makes itself.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <poll.h>

#include <chrono>
#include <thread>

#include "net_frames.h"
#include "net_namespace.h"
#include "pvdrivers/back/net/tap_device.h"

namespace pvhv::net {
namespace {

using testing::run_in_private_netns;

// Variadic: the lambda's commas are not macro argument separators.
#define RUN_IN_NETNS(...)                                                       \
    do {                                                                        \
        if (auto why = run_in_private_netns(__VA_ARGS__)) GTEST_SKIP() << *why; \
    } while (0)

TapOptions tap_options(std::string name, std::string bridge = {}) {
    TapOptions o;
    o.name = std::move(name);
    o.bridge = std::move(bridge);
    return o;
}

MacAddress hwaddr(const std::string& ifname) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    EXPECT_EQ(testing::ns_ioctl(SIOCGIFHWADDR, &ifr), 0);
    MacAddress m;
    std::memcpy(m.bytes.data(), ifr.ifr_hwaddr.sa_data, 6);
    return m;
}

bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

// Reads frames from the TAP until one passes `want`, for up to a second (the kernel sends
// its own IPv6 router solicitations and the like on a fresh link).
template <class Pred>
std::optional<std::vector<uint8_t>> receive_matching(TapDevice& tap, PacketMeta& meta, Pred want) {
    std::vector<uint8_t> buf(70000);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < end) {
        if (!readable(tap.fd(), 50)) continue;
        auto n = tap.receive(buf, meta);
        if (!n || *n == 0) continue;
        std::vector<uint8_t> f(buf.begin(), buf.begin() + static_cast<long>(*n));
        if (want(f)) return f;
    }
    return std::nullopt;
}

TEST(NetTap, InterfaceNamesAreCheckedLikeTheKernel) {
    EXPECT_TRUE(check_interface_name("vif3.0"));
    EXPECT_TRUE(check_interface_name("vif65535.655355"));  // 15 characters
    EXPECT_FALSE(check_interface_name("vif65535.6553555"));
    EXPECT_FALSE(check_interface_name(""));
    EXPECT_FALSE(check_interface_name("."));
    EXPECT_FALSE(check_interface_name(".."));
    EXPECT_FALSE(check_interface_name("a/b"));
    EXPECT_FALSE(check_interface_name("a b"));
    EXPECT_FALSE(check_interface_name("a:1"));
}

TEST(NetTap, CreatedWithHostMacMtuUpAndOnTheBridge) {
    RUN_IN_NETNS([] {
        ASSERT_EQ(testing::add_bridge("xenbr0"), 0);
        auto tap = TapDevice::create(tap_options("vif3.0", "xenbr0"));
        ASSERT_TRUE(tap) << tap.error().message;
        EXPECT_EQ((*tap)->name(), "vif3.0");
        EXPECT_GT((*tap)->ifindex(), 0);
        EXPECT_EQ(hwaddr("vif3.0"), kHostSideMac);
        ifreq ifr{};
        std::strcpy(ifr.ifr_name, "vif3.0");
        ASSERT_EQ(testing::ns_ioctl(SIOCGIFMTU, &ifr), 0);
        EXPECT_EQ(ifr.ifr_mtu, 1500);
        ASSERT_EQ(testing::ns_ioctl(SIOCGIFFLAGS, &ifr), 0);
        EXPECT_TRUE(ifr.ifr_flags & IFF_UP);
        // Already a port of the bridge: adding it again is refused with EBUSY.
        ifreq br{};
        std::strcpy(br.ifr_name, "xenbr0");
        br.ifr_ifindex = (*tap)->ifindex();
        EXPECT_EQ(testing::ns_ioctl(SIOCBRADDIF, &br), EBUSY);
        // A second vif of the same name is refused; closing the first deletes the interface.
        EXPECT_FALSE(TapDevice::create(tap_options("vif3.0", "xenbr0")));
        tap->reset();
        EXPECT_EQ(::if_nametoindex("vif3.0"), 0u);
        EXPECT_TRUE(TapDevice::create(tap_options("vif3.0", "xenbr0")));
    });
}

TEST(NetTap, MissingBridgeIsAClearErrorAndLeavesNothing) {
    RUN_IN_NETNS([] {
        auto tap = TapDevice::create(tap_options("vif4.1", "nosuchbr"));
        ASSERT_FALSE(tap);
        EXPECT_NE(tap.error().message.find("bridge nosuchbr does not exist"), std::string::npos)
            << tap.error().message;
        EXPECT_EQ(::if_nametoindex("vif4.1"), 0u);
        // Something that is not a bridge.
        auto other = TapDevice::create(tap_options("vif4.2"));
        ASSERT_TRUE(other);
        auto on_tap = TapDevice::create(tap_options("vif4.3", "vif4.2"));
        ASSERT_FALSE(on_tap);
        EXPECT_NE(on_tap.error().message.find("is not a bridge"), std::string::npos)
            << on_tap.error().message;
        EXPECT_FALSE(TapDevice::create(tap_options("bad name")));
    });
}

// Frames both ways between the TAP and the namespace's IPv4 stack on the bridge: a guest
// frame with a correct, a wrong and a partial (offloaded) UDP checksum, and a UDP datagram
// from the stack to the guest's address.
TEST(NetTap, FramesReachTheBridgeStackAndComeBack) {
    RUN_IN_NETNS([] {
        ASSERT_EQ(testing::add_bridge("xenbr0"), 0);
        auto tap = TapDevice::create(tap_options("vif5.0", "xenbr0"));
        ASSERT_TRUE(tap) << tap.error().message;
        ASSERT_EQ(testing::set_ipv4("xenbr0", "10.0.0.1"), 0);
        ASSERT_EQ(testing::set_link_up("xenbr0"), 0);
        const MacAddress br_mac = hwaddr("xenbr0");

        const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(udp, 0);
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_port = htons(5000);
        ::inet_pton(AF_INET, "10.0.0.1", &at.sin_addr);
        ASSERT_EQ(::bind(udp, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);

        testing::FrameSpec s;
        std::memcpy(s.dst.data(), br_mac.bytes.data(), 6);
        auto got = [&](int ms) {
            char b[2048];
            if (!readable(udp, ms)) return std::string();
            const ssize_t n = ::recv(udp, b, sizeof b, 0);
            return n > 0 ? std::string(b, static_cast<size_t>(n)) : std::string();
        };
        const std::vector<uint8_t> payload{'p', 'v', 'h', 'v'};

        s.csum = testing::Csum::Full;
        ASSERT_TRUE((*tap)->send(testing::make_frame(s, payload), PacketMeta{}));
        EXPECT_EQ(got(1000), "pvhv");

        auto wrong = testing::make_frame(s, payload);
        wrong[testing::csum_field(s)] ^= 0x55;
        ASSERT_TRUE((*tap)->send(wrong, PacketMeta{}));
        EXPECT_EQ(got(200), "");  // the stack verified and dropped it

        s.csum = testing::Csum::Pseudo;
        PacketMeta partial{PacketMeta::Csum::Partial,
                           ChecksumSpot{static_cast<uint16_t>(testing::l4_offset(s)), 6}};
        ASSERT_TRUE((*tap)->send(testing::make_frame(s, payload), partial));
        EXPECT_EQ(got(1000), "pvhv");

        // The other way: a static neighbour for the guest, then a datagram to it.
        arpreq ar{};
        auto* pa = reinterpret_cast<sockaddr_in*>(&ar.arp_pa);
        pa->sin_family = AF_INET;
        ::inet_pton(AF_INET, "10.0.0.2", &pa->sin_addr);
        ar.arp_ha.sa_family = ARPHRD_ETHER;
        std::memcpy(ar.arp_ha.sa_data, s.src.data(), 6);
        ar.arp_flags = ATF_COM | ATF_PERM;
        std::strcpy(ar.arp_dev, "xenbr0");
        ASSERT_EQ(testing::ns_ioctl(SIOCSARP, &ar), 0);
        sockaddr_in guest{};
        guest.sin_family = AF_INET;
        guest.sin_port = htons(4000);
        ::inet_pton(AF_INET, "10.0.0.2", &guest.sin_addr);
        ASSERT_EQ(::sendto(udp, "hello", 5, 0, reinterpret_cast<sockaddr*>(&guest), sizeof guest), 5);
        PacketMeta meta;
        auto frame = receive_matching(**tap, meta, [](const std::vector<uint8_t>& f) {
            return f.size() > 42 && testing::get16(f, 12) == 0x0800 && f[23] == 17;
        });
        ASSERT_TRUE(frame);
        EXPECT_EQ(std::string(frame->end() - 5, frame->end()), "hello");
        EXPECT_TRUE(std::equal(s.src.begin(), s.src.end(), frame->begin()));
        // With TUN_F_CSUM the kernel may leave the sum to us; either way it must come out right.
        testing::FrameSpec back;
        back.src4 = {10, 0, 0, 1};
        back.dst4 = {10, 0, 0, 2};
        if (meta.csum == PacketMeta::Csum::Partial) {
            EXPECT_EQ(meta.spot.start, 34);
            EXPECT_EQ(meta.spot.offset, 6);
            ASSERT_TRUE(finish_checksum(*frame, meta.spot));
        }
        EXPECT_TRUE(testing::l4_checksum_ok(*frame, back));
        ::close(udp);
    });
}

}  // namespace
}  // namespace pvhv::net
