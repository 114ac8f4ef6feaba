// Xenstore path rules as xenstored applies them: canonical form, allowed characters, lengths.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "hv/types.h"

namespace pvhv::xs {

// The special watch paths xenstored fires on domain lifecycle events.
inline constexpr std::string_view kIntroduceDomain = "@introduceDomain";
inline constexpr std::string_view kReleaseDomain = "@releaseDomain";

// "/local/domain/<id>": the home of a domain, and the base of its relative paths.
std::string domain_path(DomId id);

// A path as a client sent it, made absolute. Relative paths are relative to the caller's
// domain path; "/..." and "@..." paths are kept as they are. Nothing is validated here.
std::string canonicalize(DomId caller, std::string_view path);

struct PathLimits {
    // Bytes after "/local/domain/<id>/" (or of the whole path elsewhere) for unprivileged
    // callers; xenstored's ACC_PATHLEN quota, default XENSTORE_REL_PATH_MAX.
    size_t max_relative = 0;
    bool privileged = false;
};

// xenstored's is_valid_nodename: absolute, no trailing or double '/', only
// [A-Za-z0-9-/_@], at most XENSTORE_ABS_PATH_MAX bytes, plus the per-domain length limit.
// `allow_special` admits "@..." names (watches and SET_PERMS on special nodes).
bool is_valid_path(std::string_view canonical, const PathLimits& limits, bool allow_special);

// "/a/b" -> "/a"; "/a" -> "/". Not for "/" or special paths.
std::string_view parent_of(std::string_view path);
// "/a/b" -> "b".
std::string_view basename_of(std::string_view path);
// "/a/b" + "c" -> "/a/b/c"; "/" + "c" -> "/c".
std::string child_path(std::string_view parent, std::string_view name);
// True when `path` is `ancestor` or lies below it ("/" is the ancestor of every "/..." path).
bool is_at_or_below(std::string_view path, std::string_view ancestor);

// Parses a decimal domain id (no sign, no leading junk, <= 65535).
std::optional<DomId> parse_domid(std::string_view s);

}  // namespace pvhv::xs
