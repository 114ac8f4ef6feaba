// Xenstore node permissions: the xs_perm list ("n0", "r5", "b7"...) and who gets what from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hv/types.h"

namespace pvhv::xs {

// Bit values as libxenstore's XS_PERM_*; "owner" is never stored, only computed.
inline constexpr unsigned kPermNone = 0;
inline constexpr unsigned kPermRead = 1;
inline constexpr unsigned kPermWrite = 2;
inline constexpr unsigned kPermOwner = 4;

struct Perm {
    DomId id;
    unsigned bits = kPermNone;  // kPermRead | kPermWrite
    bool operator==(const Perm&) const = default;
};

// Entry 0 names the owner and, through its bits, what every domain not listed gets;
// entries 1.. grant specific domains. Never empty.
using Perms = std::vector<Perm>;

// xenstored's perm_for_conn: dom0 and the owner get everything; a listed domain gets its
// entry's bits; anybody else the owner entry's bits.
unsigned perm_for(DomId caller, const Perms& perms);

// "r5" <-> Perm. Letters: n (none), r (read), w (write), b (both); the domid is decimal.
std::optional<Perm> parse_perm(std::string_view s);
std::string format_perm(const Perm& p);
// The GET_PERMS reply: each entry NUL-terminated.
std::string format_perms_wire(const Perms& perms);
// "n0,r5": for logs and test messages.
std::string format_perms_text(const Perms& perms);

}  // namespace pvhv::xs
