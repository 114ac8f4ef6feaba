// Xenstore path rules: canonicalization, validation, and the small path algebra the store uses.
#include "dom0-tools/xenstore/path.h"

#include <charconv>

#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace pvhv::xs {

namespace {

bool valid_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '/' || c == '_' || c == '@';
}

// Length of a "/local/domain/<digits>/" prefix, or 0. Like xenstored's
// sscanf("/local/domain/%5u/%n"), so the length quota counts only the domain-relative part.
size_t local_prefix_len(std::string_view p) {
    constexpr std::string_view kLocal = "/local/domain/";
    if (!p.starts_with(kLocal)) return 0;
    size_t i = kLocal.size();
    size_t digits = 0;
    while (i < p.size() && p[i] >= '0' && p[i] <= '9' && digits < 5) {
        ++i;
        ++digits;
    }
    if (digits == 0 || i >= p.size() || p[i] != '/') return 0;
    return i + 1;
}

}  // namespace

std::string domain_path(DomId id) { return "/local/domain/" + std::to_string(id.value); }

std::string canonicalize(DomId caller, std::string_view path) {
    if (!path.empty() && (path[0] == '/' || path[0] == '@')) return std::string(path);
    std::string out = domain_path(caller);
    out += '/';
    out += path;
    return out;
}

bool is_valid_path(std::string_view p, const PathLimits& limits, bool allow_special) {
    if (p.empty()) return false;
    if (p[0] != '/' && !(allow_special && p[0] == '@')) return false;
    if (p.size() > 1 && p.back() == '/') return false;
    if (p.find("//") != std::string_view::npos) return false;
    if (p.size() > XENSTORE_ABS_PATH_MAX) return false;
    if (!limits.privileged && limits.max_relative != 0 &&
        p.size() - local_prefix_len(p) > limits.max_relative)
        return false;
    for (char c : p)
        if (!valid_char(c)) return false;
    return true;
}

std::string_view parent_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    if (slash == 0 || slash == std::string_view::npos) return "/";
    return path.substr(0, slash);
}

std::string_view basename_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string child_path(std::string_view parent, std::string_view name) {
    std::string out(parent);
    if (out != "/") out += '/';
    out += name;
    return out;
}

bool is_at_or_below(std::string_view path, std::string_view ancestor) {
    if (ancestor == "/") return !path.empty() && path[0] == '/';
    if (!path.starts_with(ancestor)) return false;
    return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

std::optional<DomId> parse_domid(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > 0xffff) return std::nullopt;
    return DomId{static_cast<uint16_t>(v)};
}

}  // namespace pvhv::xs
