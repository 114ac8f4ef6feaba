// Where pvd and pvctl meet: the runtime directory, its socket, lock file and log paths.
//
//   $PVHV_RUNTIME_DIR (default /run/pvhv), created mode 0700
//     pvd.sock          control socket, mode 0600
//     pvd.lock          flock()ed by the running pvd: at most one per directory
//     pvd.log           stderr of a pvd that pvctl started
//     console/<name>.log  console output of each domain (appended across restarts)
#pragma once

#include <string>

#include "hv/error.h"
#include "hv/unique_fd.h"

namespace pvhv::dom0 {

inline constexpr const char* kDefaultRuntimeDir = "/run/pvhv";

std::string default_runtime_dir();  // $PVHV_RUNTIME_DIR if set and non-empty
inline std::string socket_path(const std::string& dir) {
    return dir + "/pvd.sock";
}
inline std::string lock_path(const std::string& dir) {
    return dir + "/pvd.lock";
}
inline std::string pvd_log_path(const std::string& dir) {
    return dir + "/pvd.log";
}
inline std::string console_dir(const std::string& dir) {
    return dir + "/console";
}

// mkdir -p; directories it creates get mode 0700.
Result<void> ensure_private_dir(const std::string& dir);

// Holds pvd.lock for as long as the returned fd lives; fails if another pvd holds it.
Result<UniqueFd> lock_runtime_dir(const std::string& dir);

// Makes `path` free for bind(): fails if something answers on it (another pvd) or it is
// not a socket; removes a stale socket nobody listens on.
Result<void> claim_socket_path(const std::string& path);

// Connects a blocking unix stream socket to `path` (close-on-exec). XEN_ENOENT means
// nobody listens there (no socket, or a stale one).
Result<UniqueFd> connect_unix(const std::string& path);

}  // namespace pvhv::dom0
