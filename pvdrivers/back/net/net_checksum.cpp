// TCP/UDP checksum offload helpers for netback: header walk, pseudo-header, software finish.
#include "pvdrivers/back/net/net_checksum.h"

#include <bit>
#include <cstring>

namespace pvhv::net {

namespace {

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinQ = 0x88a8;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr size_t kEthHeader = 14;
constexpr size_t kMaxVlanTags = 2;
constexpr size_t kMaxIpv6ExtHeaders = 8;

uint16_t be16(std::span<const uint8_t> f, size_t off) {
    return static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
}

uint16_t fold(uint64_t acc) {
    acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(acc);
}

// Offset of the checksum field inside the L4 header, and how much of it must be present.
bool l4_field(uint8_t proto, uint16_t& offset, size_t& header_needed) {
    if (proto == kProtoTcp) {
        offset = 16;
        header_needed = 20;
        return true;
    }
    if (proto == kProtoUdp) {
        offset = 6;
        header_needed = 8;
        return true;
    }
    return false;
}

// The ethertype after the VLAN tags and where its header starts; false when cut short.
bool network_header(std::span<const uint8_t> f, uint16_t& type, size_t& off) {
    if (f.size() < kEthHeader) return false;
    off = kEthHeader;
    type = be16(f, 12);
    for (size_t tags = 0; tags < kMaxVlanTags && (type == kEthVlan || type == kEthQinQ); ++tags) {
        if (f.size() < off + 4) return false;
        type = be16(f, off + 2);
        off += 4;
    }
    return true;
}

}  // namespace

uint16_t ones_complement_sum(std::span<const uint8_t> bytes, uint32_t initial) {
    // RFC 1071: the sum of native-order words, byte-swapped at the end, equals the sum of
    // network-order words, so the loop loads 8 bytes at a time with end-around carries.
    uint64_t acc = 0;
    const uint8_t* p = bytes.data();
    size_t n = bytes.size();
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        acc += w;
        acc += acc < w;
    }
    uint64_t tail = 0;
    if (n > 0) std::memcpy(&tail, p, n);  // zero-padded: an odd last byte is a word's high half
    acc += tail;
    acc += acc < tail;
    uint16_t sum = fold(acc);
    if constexpr (std::endian::native == std::endian::little)
        sum = static_cast<uint16_t>(sum << 8 | sum >> 8);
    return fold(uint64_t{sum} + initial);
}

L3Protocol l3_protocol(std::span<const uint8_t> f) {
    uint16_t type = 0;
    size_t off = 0;
    if (!network_header(f, type, off)) return L3Protocol::Other;
    return type == kEthIpv4 ? L3Protocol::Ipv4 : type == kEthIpv6 ? L3Protocol::Ipv6 : L3Protocol::Other;
}

std::optional<L4Checksum> find_l4_checksum(std::span<const uint8_t> f) {
    uint16_t type = 0;
    size_t off = 0;
    if (!network_header(f, type, off)) return std::nullopt;

    uint8_t proto = 0;
    size_t l4 = 0;
    uint64_t l4_len = 0;  // from the IP header, for the pseudo-header
    uint64_t pseudo = 0;
    if (type == kEthIpv4) {
        if (f.size() < off + 20 || (f[off] >> 4) != 4) return std::nullopt;
        const size_t ihl = size_t{f[off] & 0x0fu} * 4;
        const size_t total = be16(f, off + 2);
        if (ihl < 20 || total < ihl || f.size() < off + ihl) return std::nullopt;
        if (be16(f, off + 6) & 0x3fff) return std::nullopt;  // MF or a fragment offset
        proto = f[off + 9];
        l4 = off + ihl;
        l4_len = total - ihl;
        pseudo = ones_complement_sum(f.subspan(off + 12, 8));
    } else if (type == kEthIpv6) {
        if (f.size() < off + 40 || (f[off] >> 4) != 6) return std::nullopt;
        const size_t payload = be16(f, off + 4);
        uint8_t next = f[off + 6];
        l4 = off + 40;
        for (size_t i = 0; i < kMaxIpv6ExtHeaders && (next == 0 || next == 43 || next == 60); ++i) {
            if (f.size() < l4 + 8) return std::nullopt;
            next = f[l4];
            l4 += (size_t{f[l4 + 1]} + 1) * 8;
        }
        const size_t ext = l4 - (off + 40);
        if (payload < ext) return std::nullopt;
        proto = next;  // a fragment header (44), or anything but TCP/UDP, is refused below
        l4_len = payload - ext;
        pseudo = ones_complement_sum(f.subspan(off + 8, 32));
    } else {
        return std::nullopt;
    }

    uint16_t field = 0;
    size_t header = 0;
    if (!l4_field(proto, field, header)) return std::nullopt;
    if (l4_len < header || f.size() < l4 + header || l4 > UINT16_MAX) return std::nullopt;
    pseudo += proto;
    pseudo += l4_len;
    return L4Checksum{ChecksumSpot{static_cast<uint16_t>(l4), field}, fold(pseudo)};
}

void seed_pseudo_header(std::span<uint8_t> frame, const L4Checksum& l4) {
    const size_t at = size_t{l4.spot.start} + l4.spot.offset;
    if (frame.size() < at + 2) return;
    frame[at] = static_cast<uint8_t>(l4.pseudo_sum >> 8);
    frame[at + 1] = static_cast<uint8_t>(l4.pseudo_sum);
}

bool finish_checksum(std::span<uint8_t> frame, ChecksumSpot spot) {
    const size_t at = size_t{spot.start} + spot.offset;
    if (frame.size() < at + 2) return false;
    uint16_t sum = static_cast<uint16_t>(~ones_complement_sum(frame.subspan(spot.start)));
    if (sum == 0) sum = 0xffff;
    frame[at] = static_cast<uint8_t>(sum >> 8);
    frame[at + 1] = static_cast<uint8_t>(sum);
    return true;
}

}  // namespace pvhv::net
