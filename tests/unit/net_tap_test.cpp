// Tests of the vif TAP device on a bridge, inside a network namespace the test makes itself.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <poll.h>

#include <chrono>
#include <thread>

#include "net_fake_frontend.h"
#include "net_frames.h"
#include "net_namespace.h"
#include "pvdrivers/back/net/tap_device.h"
#include "pvdrivers/back/net/vif_backend.h"

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

        const int udp = testing::bound_udp_socket("10.0.0.1", 5000);
        ASSERT_GE(udp, 0);

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
        uint8_t guest_mac[6];
        std::memcpy(guest_mac, s.src.data(), 6);
        ASSERT_EQ(testing::add_static_neighbour("10.0.0.2", guest_mac, "xenbr0"), 0);
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

// The whole vif: a fake netfront's UDP datagram (checksum left to the back-end, as Linux's
// netfront sends them) through rings, grants, the service thread, the TAP and the bridge to
// a socket in the namespace, and a reply from that socket back into the guest's RX buffers.
TEST(NetTap, VifCarriesUdpBothWaysBetweenGuestAndBridge) {
    RUN_IN_NETNS([] {
        ASSERT_EQ(testing::add_bridge("xenbr0"), 0);
        ASSERT_EQ(testing::set_ipv4("xenbr0", "10.0.0.1"), 0);
        ASSERT_EQ(testing::set_link_up("xenbr0"), 0);
        testing::FakeNetfront fe;
        VifOptions o;
        o.domid = testing::FakeNetfront::kDomid;
        o.devid = 0;
        o.mac = *parse_mac("00:16:3e:00:00:02");
        o.bridge = "xenbr0";
        auto vif = VifBackend::create(o);
        ASSERT_TRUE(vif) << vif.error().message;
        EXPECT_EQ((*vif)->port().name(), "vif7.0");
        EXPECT_EQ(hwaddr("vif7.0"), kHostSideMac);
        ASSERT_TRUE((*vif)->connect(fe.connection()));
        fe.post_rx(64);

        const int udp = testing::bound_udp_socket("10.0.0.1", 5000);
        ASSERT_GE(udp, 0);

        testing::FrameSpec s;
        std::memcpy(s.dst.data(), hwaddr("xenbr0").bytes.data(), 6);
        std::memcpy(s.src.data(), o.mac.bytes.data(), 6);
        s.csum = testing::Csum::Pseudo;
        const std::string text = "through netback";
        fe.queue_tx(testing::make_frame(s, std::vector<uint8_t>(text.begin(), text.end())),
                    NETTXF_csum_blank | NETTXF_data_validated);
        fe.push_tx();
        char buf[256] = {};
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ASSERT_TRUE(readable(udp, 2000));
        const ssize_t n = ::recvfrom(udp, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), text);
        char addr[32];
        EXPECT_STREQ(::inet_ntop(AF_INET, &from.sin_addr, addr, sizeof addr), "10.0.0.2");

        // The stack needs the guest's MAC for the reply: a static neighbour stands in for the
        // ARP reply a real guest would send.
        uint8_t guest_mac[6];
        std::memcpy(guest_mac, o.mac.bytes.data(), 6);
        ASSERT_EQ(testing::add_static_neighbour("10.0.0.2", guest_mac, "xenbr0"), 0);
        ASSERT_EQ(::sendto(udp, "reply", 5, 0, reinterpret_cast<sockaddr*>(&from), fl), 5);
        std::optional<testing::FakeNetfront::RxPacket> got;
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (!got && std::chrono::steady_clock::now() < end) {
            for (auto& p : fe.rx_packets())
                if (p.data.size() > 42 && testing::get16(p.data, 12) == 0x0800 && p.data[23] == 17)
                    got = p;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        ASSERT_TRUE(got);
        EXPECT_FALSE(got->error());
        EXPECT_EQ(std::string(got->data.end() - 5, got->data.end()), "reply");
        EXPECT_TRUE(std::equal(o.mac.bytes.begin(), o.mac.bytes.end(), got->data.begin()));
        // A partial checksum comes with csum_blank; the guest would finish it, so do that here.
        testing::FrameSpec back;
        if (got->flags & NETRXF_csum_blank) {
            ASSERT_TRUE(finish_checksum(got->data, ChecksumSpot{34, 6}));
        }
        EXPECT_TRUE(testing::l4_checksum_ok(got->data, back));
        EXPECT_GE((*vif)->stats().tx_packets.load(), 1u);
        EXPECT_GE((*vif)->stats().rx_packets.load(), 1u);
        (*vif)->disconnect();
        vif->reset();
        ::close(udp);
    });
}

}  // namespace
}  // namespace pvhv::net
