// Test frames for netback tests: Ethernet/IPv4/IPv6 with UDP or TCP, ARP, and a plain checksum check.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace pvhv::testing {

using Mac = std::array<uint8_t, 6>;
using Ip4 = std::array<uint8_t, 4>;
using Ip6 = std::array<uint8_t, 16>;

inline void put16(std::vector<uint8_t>& f, size_t at, uint16_t v) {
    f[at] = static_cast<uint8_t>(v >> 8);
    f[at + 1] = static_cast<uint8_t>(v);
}
inline uint16_t get16(std::span<const uint8_t> f, size_t at) {
    return static_cast<uint16_t>(f[at] << 8 | f[at + 1]);
}

// The textbook sum, one big-endian word at a time (independent of the code under test).
inline uint32_t plain_sum(std::span<const uint8_t> b, uint32_t acc = 0) {
    for (size_t i = 0; i + 1 < b.size(); i += 2) acc += get16(b, i);
    if (b.size() % 2) acc += uint32_t{b.back()} << 8;
    return acc;
}
inline uint16_t plain_fold(uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(acc);
}

enum class Csum { Full, Pseudo, Zero };  // what the L4 checksum field holds

struct FrameSpec {
    Mac dst{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff};
    Mac src{0x00, 0x16, 0x3e, 0x00, 0x00, 0x02};
    uint8_t proto = 17;  // 17 UDP, 6 TCP
    uint16_t sport = 4000, dport = 5000;
    bool ipv6 = false;
    uint16_t vlan = 0;  // 0: untagged
    Ip4 src4{10, 0, 0, 2}, dst4{10, 0, 0, 1};
    Ip6 src6{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    Ip6 dst6{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    Csum csum = Csum::Full;
};

// A frame carrying `payload` over UDP or TCP (TCP: a bare 20-byte header, ACK set).
inline std::vector<uint8_t> make_frame(const FrameSpec& s, std::span<const uint8_t> payload) {
    std::vector<uint8_t> f(14);
    std::memcpy(&f[0], s.dst.data(), 6);
    std::memcpy(&f[6], s.src.data(), 6);
    if (s.vlan) {
        put16(f, 12, 0x8100);
        f.resize(18);
        put16(f, 14, s.vlan);
    }
    const size_t type_at = f.size() - 2;
    const size_t l3 = f.size();
    const size_t l4_header = s.proto == 6 ? 20 : 8;
    const size_t l4_len = l4_header + payload.size();
    uint32_t pseudo = 0;
    if (!s.ipv6) {
        put16(f, type_at, 0x0800);
        f.resize(l3 + 20);
        f[l3] = 0x45;
        put16(f, l3 + 2, static_cast<uint16_t>(20 + l4_len));
        f[l3 + 8] = 64;
        f[l3 + 9] = s.proto;
        std::memcpy(&f[l3 + 12], s.src4.data(), 4);
        std::memcpy(&f[l3 + 16], s.dst4.data(), 4);
        put16(f, l3 + 10, static_cast<uint16_t>(~plain_fold(plain_sum({&f[l3], 20}))));
        pseudo = plain_sum({&f[l3 + 12], 8}) + s.proto + static_cast<uint32_t>(l4_len);
    } else {
        put16(f, type_at, 0x86dd);
        f.resize(l3 + 40);
        f[l3] = 0x60;
        put16(f, l3 + 4, static_cast<uint16_t>(l4_len));
        f[l3 + 6] = s.proto;
        f[l3 + 7] = 64;
        std::memcpy(&f[l3 + 8], s.src6.data(), 16);
        std::memcpy(&f[l3 + 24], s.dst6.data(), 16);
        pseudo = plain_sum({&f[l3 + 8], 32}) + s.proto + static_cast<uint32_t>(l4_len);
    }
    const size_t l4 = f.size();
    f.resize(l4 + l4_header);
    put16(f, l4, s.sport);
    put16(f, l4 + 2, s.dport);
    if (s.proto == 6) {
        f[l4 + 12] = 5 << 4;
        f[l4 + 13] = 0x10;
        put16(f, l4 + 14, 65535);
    } else {
        put16(f, l4 + 4, static_cast<uint16_t>(l4_len));
    }
    f.insert(f.end(), payload.begin(), payload.end());
    const size_t field = l4 + (s.proto == 6 ? 16 : 6);
    if (s.csum == Csum::Pseudo) {
        put16(f, field, plain_fold(pseudo));
    } else if (s.csum == Csum::Full) {
        uint16_t c = static_cast<uint16_t>(~plain_fold(plain_sum({&f[l4], l4_len}, pseudo)));
        put16(f, field, c == 0 ? 0xffff : c);
    }
    return f;
}

// Offset of the L4 header and of its checksum field in a frame from make_frame.
inline size_t l4_offset(const FrameSpec& s) { return 14 + (s.vlan ? 4 : 0) + (s.ipv6 ? 40 : 20); }
inline size_t csum_field(const FrameSpec& s) { return l4_offset(s) + (s.proto == 6 ? 16 : 6); }

// True when the frame's L4 checksum verifies (the sum over pseudo-header and segment is ~0).
inline bool l4_checksum_ok(std::span<const uint8_t> f, const FrameSpec& s) {
    const size_t l3 = 14 + (s.vlan ? 4 : 0);
    const size_t l4 = l4_offset(s);
    const size_t l4_len = f.size() - l4;
    uint32_t pseudo = s.ipv6 ? plain_sum(f.subspan(l3 + 8, 32)) : plain_sum(f.subspan(l3 + 12, 8));
    pseudo += s.proto + static_cast<uint32_t>(l4_len);
    return plain_fold(plain_sum(f.subspan(l4), pseudo)) == 0xffff;
}

inline std::vector<uint8_t> pattern(size_t n, uint32_t seed = 1) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 131 + seed * 7 + (i >> 8)) & 0xff);
    return v;
}

}  // namespace pvhv::testing
