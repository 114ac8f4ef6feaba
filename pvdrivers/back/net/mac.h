// Ethernet MAC addresses for vifs: parsing xl.cfg's `mac=`, formatting, Xen's random 00:16:3e MAC.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pvhv::net {

struct MacAddress {
    std::array<uint8_t, 6> bytes{};

    auto operator<=>(const MacAddress&) const = default;

    bool is_multicast() const { return bytes[0] & 0x01; }
    bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
    // "00:16:3e:0a:0b:0c": lower-case hex, as libxl writes the `mac` keys.
    std::string to_string() const;
};

// Xen's vif script gives the dom0 side of every vif this address, so the bridge never learns
// it as a station and never picks it as its own (a bridge takes the lowest port MAC).
inline constexpr MacAddress kHostSideMac{{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff}};

// Parses "aa:bb:cc:dd:ee:ff" (also '-' as separator, either case), as xl.cfg's `mac=` and
// Linux netback's xen_net_read_mac accept; nullopt on anything else (wrong length, a missing
// or extra field, non-hex, one-digit fields). Multicast addresses parse; whether they are
// acceptable for a guest is the caller's check (is_multicast).
std::optional<MacAddress> parse_mac(std::string_view text);

// What libxl does for a vif without `mac=`: Xen's OUI 00:16:3e, then 3 bytes of which the
// first has its top bit clear (libxl__device_nic_setdefault).
MacAddress xen_mac_from_bytes(std::array<uint8_t, 3> random);
// The same with bytes from getrandom(2) (falls back to the clock if that fails).
MacAddress random_xen_mac();

}  // namespace pvhv::net
