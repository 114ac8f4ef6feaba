// Unit tests of vif MAC addresses: xl.cfg parsing, formatting, Xen's random 00:16:3e MACs.
#include <gtest/gtest.h>

#include <set>

#include "pvdrivers/back/net/mac.h"

namespace pvhv::net {
namespace {

TEST(NetMac, ParsesAndFormatsXlSpelling) {
    auto m = parse_mac("00:16:3E:0a:Bc:ff");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes, (std::array<uint8_t, 6>{0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xff}));
    EXPECT_EQ(m->to_string(), "00:16:3e:0a:bc:ff");
    EXPECT_EQ(parse_mac("00-16-3e-00-00-01")->to_string(), "00:16:3e:00:00:01");
    EXPECT_EQ(parse_mac(m->to_string()), m);
}

TEST(NetMac, RefusesMalformedText) {
    for (const char* bad : {"", "00:16:3e:0a:0b", "00:16:3e:0a:0b:0c:0d", "0:16:3e:0a:0b:0c0",
                            "00:16:3e:0a:0b:0g", "00:16-3e:0a:0b:0c", "00:16:3e:0a:0b:0c ",
                            " 00:16:3e:0a:0b:0c", "00.16.3e.0a.0b.0c", "001:6:3e:0a:0b:0c"}) {
        EXPECT_FALSE(parse_mac(bad)) << bad;
    }
}

TEST(NetMac, MulticastAndZeroAreVisibleToCallers) {
    EXPECT_TRUE(parse_mac("01:00:5e:00:00:01")->is_multicast());
    EXPECT_FALSE(parse_mac("00:16:3e:00:00:01")->is_multicast());
    EXPECT_TRUE(parse_mac("00:00:00:00:00:00")->is_zero());
    EXPECT_EQ(kHostSideMac.to_string(), "fe:ff:ff:ff:ff:ff");
}

TEST(NetMac, XenOuiWithTheTopBitOfTheFourthByteClear) {
    EXPECT_EQ(xen_mac_from_bytes({0xff, 0x12, 0x34}).to_string(), "00:16:3e:7f:12:34");
    std::set<MacAddress> seen;
    for (int i = 0; i < 64; ++i) {
        const MacAddress m = random_xen_mac();
        EXPECT_EQ(m.bytes[0], 0x00);
        EXPECT_EQ(m.bytes[1], 0x16);
        EXPECT_EQ(m.bytes[2], 0x3e);
        EXPECT_EQ(m.bytes[3] & 0x80, 0);
        EXPECT_FALSE(m.is_multicast());
        seen.insert(m);
    }
    EXPECT_GT(seen.size(), 60u);  // 2^23 possibilities: collisions in 64 draws are rare
}

}  // namespace
}  // namespace pvhv::net
