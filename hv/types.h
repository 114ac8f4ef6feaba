// Strong types for the numbers that cross the guest boundary (DESIGN §3).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace pvhv {

// A value of Rep that cannot be mixed up with another StrongId of a different Tag.
template <class Tag, class Rep>
struct StrongId {
    using rep_type = Rep;
    Rep value{};

    constexpr StrongId() = default;
    constexpr explicit StrongId(Rep v) : value(v) {}
    constexpr auto operator<=>(const StrongId&) const = default;
};

using Gpa = StrongId<struct GpaTag, uint64_t>;        // guest-physical address
using Gfn = StrongId<struct GfnTag, uint64_t>;        // guest frame number (4 KiB)
using DomId = StrongId<struct DomIdTag, uint16_t>;    // domain id; 0 is pvd (dom0)
using EvtchnPort = StrongId<struct EvtchnTag, uint32_t>;
using GrantRef = StrongId<struct GrantRefTag, uint32_t>;
using VcpuId = StrongId<struct VcpuIdTag, uint32_t>;

inline constexpr uint64_t kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;

constexpr Gpa to_gpa(Gfn f) { return Gpa{f.value << kPageShift}; }
constexpr Gfn to_gfn(Gpa a) { return Gfn{a.value >> kPageShift}; }
constexpr Gpa operator+(Gpa a, uint64_t off) { return Gpa{a.value + off}; }

inline constexpr DomId kDom0{0};

}  // namespace pvhv

template <class Tag, class Rep>
struct std::hash<pvhv::StrongId<Tag, Rep>> {
    size_t operator()(const pvhv::StrongId<Tag, Rep>& s) const noexcept {
        return std::hash<Rep>{}(s.value);
    }
};
