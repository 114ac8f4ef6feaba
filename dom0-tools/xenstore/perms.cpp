// Xenstore node permissions: parsing, formatting, and the access rule.
#include "dom0-tools/xenstore/perms.h"

#include "dom0-tools/xenstore/path.h"

namespace pvhv::xs {

unsigned perm_for(DomId caller, const Perms& perms) {
    constexpr unsigned kAll = kPermRead | kPermWrite | kPermOwner;
    if (caller == kDom0 || perms.empty() || perms[0].id == caller) return kAll;
    for (size_t i = 1; i < perms.size(); ++i)
        if (perms[i].id == caller) return perms[i].bits & (kPermRead | kPermWrite);
    return perms[0].bits & (kPermRead | kPermWrite);
}

std::optional<Perm> parse_perm(std::string_view s) {
    if (s.size() < 2) return std::nullopt;
    unsigned bits = 0;
    switch (s[0]) {
        case 'n': bits = kPermNone; break;
        case 'r': bits = kPermRead; break;
        case 'w': bits = kPermWrite; break;
        case 'b': bits = kPermRead | kPermWrite; break;
        default: return std::nullopt;
    }
    const auto id = parse_domid(s.substr(1));
    if (!id) return std::nullopt;
    return Perm{*id, bits};
}

std::string format_perm(const Perm& p) {
    static constexpr char kLetters[] = {'n', 'r', 'w', 'b'};
    return kLetters[p.bits & 3] + std::to_string(p.id.value);
}

std::string format_perms_wire(const Perms& perms) {
    std::string out;
    for (const Perm& p : perms) {
        out += format_perm(p);
        out += '\0';
    }
    return out;
}

std::string format_perms_text(const Perms& perms) {
    std::string out;
    for (const Perm& p : perms) {
        if (!out.empty()) out += ',';
        out += format_perm(p);
    }
    return out;
}

}  // namespace pvhv::xs
