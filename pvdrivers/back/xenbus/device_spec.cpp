// vdev numbers and interface names for the toolstack's device specs.
#include "pvdrivers/back/xenbus/device_spec.h"

#include <charconv>
#include <climits>

namespace pvhv::back {
namespace {

// libxl's device_virtdisk_matches: `prefix`, a drive index written in letters ("a" is 0,
// "z" 25, "aa" 26: bijective base 26), then an optional partition without leading zero.
bool virtdisk_matches(std::string_view vdev, std::string_view prefix, uint32_t max_disk,
                      uint32_t max_partition, uint32_t& disk, uint32_t& partition) {
    if (!vdev.starts_with(prefix)) return false;
    vdev.remove_prefix(prefix.size());
    // index = (index + 1) * 26 + letter, from -1: "a" 0, "z" 25, "aa" 26, as libxl decodes.
    int64_t index = -1;
    size_t letters = 0;
    while (letters < vdev.size() && vdev[letters] >= 'a' && vdev[letters] <= 'z') {
        index = (index + 1) * 26 + (vdev[letters] - 'a');
        if (index > static_cast<int64_t>(max_disk)) return false;
        ++letters;
    }
    if (letters == 0) return false;
    vdev.remove_prefix(letters);
    uint32_t part = 0;
    if (!vdev.empty()) {
        if (vdev[0] == '0') return false;  // no leading zeros
        const auto [end, ec] = std::from_chars(vdev.data(), vdev.data() + vdev.size(), part);
        if (ec != std::errc{} || end != vdev.data() + vdev.size() || part > max_partition)
            return false;
    }
    disk = static_cast<uint32_t>(index);
    partition = part;
    return true;
}

std::optional<uint32_t> parse_decimal(std::string_view s) {
    uint32_t v = 0;
    if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

uint32_t xvd_number(uint32_t disk, uint32_t partition) {
    if (disk <= 15 && partition <= 15) return (202u << 8) | (disk << 4) | partition;
    return (1u << 28) | (disk << 8) | partition;
}

}  // namespace

std::optional<uint32_t> vdev_number(std::string_view vdev) {
    uint32_t disk = 0;
    uint32_t partition = 0;
    // d<disk>p<partition>
    if (vdev.size() >= 4 && vdev[0] == 'd') {
        const size_t p = vdev.find('p');
        if (p != std::string_view::npos) {
            auto d = parse_decimal(vdev.substr(1, p - 1));
            auto q = parse_decimal(vdev.substr(p + 1));
            if (d && q && *d < (1u << 20) && *q < 256) return xvd_number(*d, *q);
        }
    }
    if (virtdisk_matches(vdev, "xvd", (1u << 20) - 1, 255, disk, partition))
        return xvd_number(disk, partition);
    // A plain number: decimal or 0x hex, as strtoul(base 0) in libxl (octal is refused: a
    // leading zero is more likely a typo than a wish).
    if (!vdev.empty() && vdev[0] >= '0' && vdev[0] <= '9') {
        uint32_t v = 0;
        std::string_view digits = vdev;
        int base = 10;
        if (digits.starts_with("0x") || digits.starts_with("0X")) {
            digits.remove_prefix(2);
            base = 16;
        } else if (digits.size() > 1 && digits[0] == '0') {
            return std::nullopt;
        }
        if (digits.empty()) return std::nullopt;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
        if (ec != std::errc{} || end != digits.data() + digits.size() || v > INT_MAX || v == 0)
            return std::nullopt;
        return v;
    }
    if (virtdisk_matches(vdev, "hd", 3, 63, disk, partition)) {
        const uint32_t major = disk < 2 ? 3 : 22;
        return (major << 8) | ((disk & 1) << 6) | partition;
    }
    if (virtdisk_matches(vdev, "sd", 15, 15, disk, partition))
        return (8u << 8) | (disk << 4) | partition;
    return std::nullopt;
}

bool is_valid_ifname(std::string_view name) {
    if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace pvhv::back
