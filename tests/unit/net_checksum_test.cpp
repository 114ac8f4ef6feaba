// Unit tests of netback's TCP/UDP checksum helpers against a plain reference sum.
#include <gtest/gtest.h>

#include "net_frames.h"
#include "pvdrivers/back/net/net_checksum.h"

namespace pvhv::net {
namespace {

using testing::Csum;
using testing::FrameSpec;
using testing::make_frame;

TEST(NetChecksum, SumMatchesTheTextbookForEveryLengthAndAlignment) {
    const auto data = testing::pattern(300, 5);
    for (size_t start = 0; start < 9; ++start) {
        for (size_t len = 0; len + start <= data.size(); len += 7) {
            std::span<const uint8_t> s(data.data() + start, len);
            EXPECT_EQ(ones_complement_sum(s), testing::plain_fold(testing::plain_sum(s)))
                << start << "+" << len;
            EXPECT_EQ(ones_complement_sum(s, 0x1234),
                      testing::plain_fold(testing::plain_sum(s, 0x1234)));
        }
    }
    // Sums that carry out of 64 bits.
    std::vector<uint8_t> ff(4096, 0xff);
    EXPECT_EQ(ones_complement_sum(ff), 0xffff);
}

// Every supported shape: the field is found, seeding + finishing gives a verifying checksum
// from either a zero field or a pseudo-header one, and the result equals the reference.
TEST(NetChecksum, FindSeedAndFinishForTcpUdpV4V6Vlan) {
    for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
        for (bool v6 : {false, true}) {
            for (uint16_t vlan : {uint16_t{0}, uint16_t{42}}) {
                for (size_t len : {size_t{0}, size_t{1}, size_t{33}, size_t{1400}}) {
                    FrameSpec s;
                    s.proto = proto;
                    s.ipv6 = v6;
                    s.vlan = vlan;
                    const auto payload = testing::pattern(len, proto + len);
                    s.csum = Csum::Full;
                    const auto want = make_frame(s, payload);
                    ASSERT_TRUE(testing::l4_checksum_ok(want, s));
                    for (Csum start : {Csum::Zero, Csum::Pseudo}) {
                        s.csum = start;
                        auto f = make_frame(s, payload);
                        auto l4 = find_l4_checksum(f);
                        ASSERT_TRUE(l4) << int(proto) << v6 << vlan << len;
                        EXPECT_EQ(l4->spot.start, testing::l4_offset(s));
                        EXPECT_EQ(l4->spot.start + l4->spot.offset, testing::csum_field(s));
                        seed_pseudo_header(f, *l4);
                        EXPECT_EQ(f, make_frame([&] { auto p = s; p.csum = Csum::Pseudo; return p; }(), payload));
                        ASSERT_TRUE(finish_checksum(f, l4->spot));
                        EXPECT_EQ(f, want);
                        EXPECT_TRUE(testing::l4_checksum_ok(f, s));
                    }
                }
            }
        }
    }
}

TEST(NetChecksum, Ipv6ExtensionHeadersAreWalked) {
    FrameSpec s;
    s.ipv6 = true;
    s.csum = Csum::Full;
    auto f = make_frame(s, testing::pattern(20));
    // Insert an 8-byte hop-by-hop header between the IPv6 header and UDP.
    const size_t l3 = 14;
    std::vector<uint8_t> hbh{17, 0, 1, 4, 0, 0, 0, 0};  // next=UDP, len 0 (8 bytes), PadN
    f.insert(f.begin() + l3 + 40, hbh.begin(), hbh.end());
    f[l3 + 6] = 0;  // hop-by-hop
    testing::put16(f, l3 + 4, static_cast<uint16_t>(testing::get16(f, l3 + 4) + 8));
    auto l4 = find_l4_checksum(f);
    ASSERT_TRUE(l4);
    EXPECT_EQ(l4->spot.start, l3 + 48);
    EXPECT_EQ(l4->spot.offset, 6);
    const uint16_t before = testing::get16(f, l3 + 48 + 6);
    testing::put16(f, l3 + 48 + 6, 0);
    seed_pseudo_header(f, *l4);
    ASSERT_TRUE(finish_checksum(f, l4->spot));
    EXPECT_EQ(testing::get16(f, l3 + 48 + 6), before);  // the pseudo-header skips the ext header
}

TEST(NetChecksum, RefusesWhatItCannotChecksum) {
    FrameSpec s;
    auto f = make_frame(s, testing::pattern(64));
    // Too short for Ethernet / IP / UDP.
    EXPECT_FALSE(find_l4_checksum(std::span<const uint8_t>(f).first(13)));
    EXPECT_FALSE(find_l4_checksum(std::span<const uint8_t>(f).first(30)));
    EXPECT_FALSE(find_l4_checksum(std::span<const uint8_t>(f).first(14 + 20 + 7)));
    // Not IP.
    auto arp = f;
    testing::put16(arp, 12, 0x0806);
    EXPECT_FALSE(find_l4_checksum(arp));
    // ICMP.
    auto icmp = f;
    icmp[14 + 9] = 1;
    EXPECT_FALSE(find_l4_checksum(icmp));
    // Fragments (MF, or an offset).
    auto frag = f;
    frag[14 + 6] = 0x20;
    EXPECT_FALSE(find_l4_checksum(frag));
    frag[14 + 6] = 0x00;
    frag[14 + 7] = 0x01;
    EXPECT_FALSE(find_l4_checksum(frag));
    // IHL below 5, IHL past the frame, an IP total length shorter than the UDP header.
    auto ihl = f;
    ihl[14] = 0x44;
    EXPECT_FALSE(find_l4_checksum(ihl));
    ihl[14] = 0x4f;
    EXPECT_FALSE(find_l4_checksum(std::span<const uint8_t>(ihl).first(14 + 40)));
    auto total = f;
    testing::put16(total, 14 + 2, 20 + 4);
    EXPECT_FALSE(find_l4_checksum(total));
    // Wrong IP version for the ethertype.
    auto ver = f;
    ver[14] = 0x65;
    EXPECT_FALSE(find_l4_checksum(ver));
    // IPv6 fragment header.
    s.ipv6 = true;
    auto f6 = make_frame(s, testing::pattern(16));
    f6[14 + 6] = 44;
    EXPECT_FALSE(find_l4_checksum(f6));
    // An extension header claiming more than the frame.
    f6[14 + 6] = 60;
    f6[14 + 41] = 255;
    EXPECT_FALSE(find_l4_checksum(f6));
}

TEST(NetChecksum, FinishRefusesAFieldOutsideTheFrame) {
    std::vector<uint8_t> f(20, 0);
    EXPECT_FALSE(finish_checksum(f, ChecksumSpot{10, 9}));
    EXPECT_FALSE(finish_checksum(f, ChecksumSpot{65535, 65535}));
    EXPECT_TRUE(finish_checksum(f, ChecksumSpot{10, 8}));
    EXPECT_EQ(testing::get16(f, 18), 0xffff);  // all-zero data: 0 becomes 0xffff
}

}  // namespace
}  // namespace pvhv::net
