// Number formatting for error and log messages across the hv core (g++ 12 has no <format>).
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

namespace pvhv::fmt {

inline std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

inline std::string dec(uint64_t v) {
    return std::to_string(v);
}

// "[0x1000, 0x2000)" — one spelling for every range in a message.
inline std::string range(uint64_t base, uint64_t size) {
    const uint64_t end = base + size;
    return "[" + hex(base) + ", " + (end < base ? std::string("<wraps>") : hex(end)) + ")";
}

}  // namespace pvhv::fmt
