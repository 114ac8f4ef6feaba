// TCP/UDP checksums for netback: finding the field in a frame, the pseudo-header, finishing a sum.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace pvhv::net {

// Where a partial (offloaded) checksum lives, as Linux's CHECKSUM_PARTIAL and virtio_net_hdr
// spell it: the one's-complement sum runs from `start` to the end of the frame and the result
// goes to `start + offset`.
struct ChecksumSpot {
    uint16_t start = 0;
    uint16_t offset = 0;
};

// A TCP or UDP checksum field found in a frame, with the folded (not complemented) sum of the
// packet's pseudo-header: addresses, protocol and the L4 length the IP header gives.
struct L4Checksum {
    ChecksumSpot spot;
    uint16_t pseudo_sum = 0;
};

// Parses Ethernet (up to two VLAN tags), IPv4 (with options) or IPv6 (hop-by-hop, routing and
// destination-options headers) and finds the TCP or UDP checksum field, as Linux's
// skb_checksum_setup does for a packet a front-end sent with NETTXF_csum_blank. nullopt for
// anything else: other protocols, IP fragments, headers cut short by the frame's end or by the
// IP header's own length. Every length comes from the frame itself and is checked against it.
std::optional<L4Checksum> find_l4_checksum(std::span<const uint8_t> frame);

// Puts the pseudo-header sum into the checksum field, which is what a partial checksum starts
// from: a front-end that left the field blank (zero) and one that seeded it already (Linux)
// both end up right. `l4` must come from find_l4_checksum on the same bytes.
void seed_pseudo_header(std::span<uint8_t> frame, const L4Checksum& l4);

// Completes a partial checksum in software: sums [start, end of frame) with the field's
// current contents, stores the complement (0 becomes 0xffff, which UDP needs and TCP does not
// mind). False, leaving the frame alone, when the field is not inside the frame.
bool finish_checksum(std::span<uint8_t> frame, ChecksumSpot spot);

// The network protocol of an Ethernet frame, after up to two VLAN tags.
enum class L3Protocol : uint8_t { Other, Ipv4, Ipv6 };
L3Protocol l3_protocol(std::span<const uint8_t> frame);

// The folded 16-bit one's-complement sum of `bytes` (network order pairs) added to `initial`.
uint16_t ones_complement_sum(std::span<const uint8_t> bytes, uint32_t initial = 0);

}  // namespace pvhv::net
