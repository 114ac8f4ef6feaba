// xs_wire message parsing and encoding. Every byte here comes from a guest: copy, then check.
#include "dom0-tools/xenstore/wire.h"

#include <charconv>
#include <cstring>
#include <optional>

#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace pvhv::xs {

static_assert(sizeof(xsd_sockmsg) == kHeaderSize);

namespace {

// The NUL-terminated strings of a payload, or nullopt when bytes follow the last NUL
// (a missing terminator) or the count is not what the type needs.
std::optional<std::vector<std::string_view>> strings(std::span<const uint8_t> payload, size_t min,
                                                     size_t max) {
    std::vector<std::string_view> out;
    const auto* p = reinterpret_cast<const char*>(payload.data());
    size_t start = 0;
    for (size_t i = 0; i < payload.size(); ++i) {
        if (p[i] != '\0') continue;
        if (out.size() == max) return std::nullopt;
        out.emplace_back(p + start, i - start);
        start = i + 1;
    }
    if (start != payload.size() || out.size() < min) return std::nullopt;
    return out;
}

std::unexpected<Error> bad(uint32_t type, const char* why) {
    return fail(XEN_EINVAL, std::string(type_name(type)) + ": " + why);
}

std::optional<uint32_t> parse_u32(std::string_view s) {
    uint32_t v = 0;
    if (s.empty()) return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

Result<MsgHeader> parse_header(std::span<const uint8_t, kHeaderSize> bytes) {
    xsd_sockmsg raw{};
    std::memcpy(&raw, bytes.data(), sizeof raw);
    if (raw.len > XENSTORE_PAYLOAD_MAX)
        return fail(XEN_E2BIG, "payload length " + std::to_string(raw.len) + " > XENSTORE_PAYLOAD_MAX");
    return MsgHeader{raw.type, raw.req_id, raw.tx_id, raw.len};
}

Result<RequestBody> parse_request(uint32_t type, std::span<const uint8_t> payload) {
    if (payload.size() > XENSTORE_PAYLOAD_MAX) return fail(XEN_E2BIG, "payload too long");
    auto one = [&]() -> std::optional<std::string> {
        auto s = strings(payload, 1, 1);
        if (!s) return std::nullopt;
        return std::string((*s)[0]);
    };
    switch (type) {
        case XS_READ:
        case XS_DIRECTORY:
        case XS_GET_PERMS:
        case XS_MKDIR:
        case XS_RM: {
            auto path = one();
            if (!path) return bad(type, "expects one NUL-terminated path");
            switch (type) {
                case XS_READ: return req::Read{std::move(*path)};
                case XS_DIRECTORY: return req::Directory{std::move(*path)};
                case XS_GET_PERMS: return req::GetPerms{std::move(*path)};
                case XS_MKDIR: return req::Mkdir{std::move(*path)};
                default: return req::Rm{std::move(*path)};
            }
        }
        case XS_DIRECTORY_PART: {
            auto s = strings(payload, 2, 2);
            if (!s) return bad(type, "expects path and offset");
            const auto off = parse_u32((*s)[1]);
            if (!off) return bad(type, "offset is not a number");
            return req::DirectoryPart{std::string((*s)[0]), *off};
        }
        case XS_WRITE: {
            // The value runs to the end of the payload and may contain NULs.
            if (payload.empty()) return bad(type, "expects a path");
            const auto* p = reinterpret_cast<const char*>(payload.data());
            const void* nul = std::memchr(p, '\0', payload.size());
            if (!nul) return bad(type, "path not NUL-terminated");
            const size_t path_len = static_cast<const char*>(nul) - p;
            return req::Write{std::string(p, path_len),
                              std::string(p + path_len + 1, payload.size() - path_len - 1)};
        }
        case XS_WATCH:
        case XS_UNWATCH: {
            auto s = strings(payload, 2, 2);
            if (!s) return bad(type, "expects path and token");
            if (type == XS_WATCH) return req::Watch{std::string((*s)[0]), std::string((*s)[1])};
            return req::Unwatch{std::string((*s)[0]), std::string((*s)[1])};
        }
        case XS_SET_PERMS: {
            auto s = strings(payload, 2, XENSTORE_PAYLOAD_MAX);
            if (!s) return bad(type, "expects path and permissions");
            req::SetPerms r{std::string((*s)[0]), {}};
            for (size_t i = 1; i < s->size(); ++i) {
                const auto perm = parse_perm((*s)[i]);
                if (!perm) return bad(type, "bad permission");
                r.perms.push_back(*perm);
            }
            return r;
        }
        case XS_TRANSACTION_END: {
            auto arg = one();
            if (!arg || (*arg != "T" && *arg != "F")) return bad(type, "expects T or F");
            return req::TransactionEnd{*arg == "T"};
        }
        case XS_GET_DOMAIN_PATH: {
            auto arg = one();
            const auto id = arg ? parse_u32(*arg) : std::nullopt;
            if (!id || *id > 0xffff) return bad(type, "expects a domain id");
            return req::GetDomainPath{DomId{static_cast<uint16_t>(*id)}};
        }
        // xenstored ignores the payload of these two; so do we (Linux sends "").
        case XS_TRANSACTION_START: return req::TransactionStart{};
        case XS_RESET_WATCHES: return req::ResetWatches{};
        case XS_CONTROL:
        case XS_INTRODUCE:
        case XS_RELEASE:
        case XS_IS_DOMAIN_INTRODUCED:
        case XS_RESUME:
        case XS_SET_TARGET: return req::Privileged{type};
        default: return fail(XEN_ENOSYS, "unknown message type " + std::to_string(type));
    }
}

std::vector<uint8_t> encode_message(uint32_t type, uint32_t req_id, uint32_t tx_id, std::string_view payload) {
    const xsd_sockmsg hdr{type, req_id, tx_id, static_cast<uint32_t>(payload.size())};
    std::vector<uint8_t> out(kHeaderSize + payload.size());
    std::memcpy(out.data(), &hdr, kHeaderSize);
    if (!payload.empty()) std::memcpy(out.data() + kHeaderSize, payload.data(), payload.size());
    return out;
}

std::string_view type_name(uint32_t type) {
    static constexpr std::string_view kNames[] = {
        "CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH", "TRANSACTION_START",
        "TRANSACTION_END", "INTRODUCE", "RELEASE", "GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM",
        "SET_PERMS", "WATCH_EVENT", "ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET",
        "UNKNOWN", "RESET_WATCHES", "DIRECTORY_PART"};
    static_assert(std::size(kNames) == XS_TYPE_COUNT);
    return type < XS_TYPE_COUNT ? kNames[type] : "UNKNOWN";
}

}  // namespace pvhv::xs
