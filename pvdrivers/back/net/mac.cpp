// MAC address parsing, formatting and Xen-OUI generation for vifs.
#include "pvdrivers/back/net/mac.h"

#include <sys/random.h>

#include <chrono>
#include <cstdio>

namespace pvhv::net {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string MacAddress::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1],
                  bytes[2], bytes[3], bytes[4], bytes[5]);
    return buf;
}

std::optional<MacAddress> parse_mac(std::string_view text) {
    // Exactly six two-digit fields with one separator kind between them.
    if (text.size() != 17) return std::nullopt;
    const char sep = text[2];
    if (sep != ':' && sep != '-') return std::nullopt;
    MacAddress mac;
    for (size_t i = 0; i < 6; ++i) {
        const int hi = hex_digit(text[3 * i]);
        const int lo = hex_digit(text[3 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && text[3 * i + 2] != sep) return std::nullopt;
        mac.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return mac;
}

MacAddress xen_mac_from_bytes(std::array<uint8_t, 3> random) {
    return MacAddress{{0x00, 0x16, 0x3e, static_cast<uint8_t>(random[0] & 0x7f), random[1],
                       random[2]}};
}

MacAddress random_xen_mac() {
    std::array<uint8_t, 3> r{};
    if (::getrandom(r.data(), r.size(), 0) != static_cast<ssize_t>(r.size())) {
        // Not a secret, only something unlikely to collide on one bridge.
        const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
        r = {static_cast<uint8_t>(t), static_cast<uint8_t>(t >> 8), static_cast<uint8_t>(t >> 16)};
    }
    return xen_mac_from_bytes(r);
}

}  // namespace pvhv::net
