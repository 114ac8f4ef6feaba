// Runtime directory, lock file and control-socket path handling shared by pvd and pvctl.
#include "dom0-tools/pvd/runtime_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dom0-tools/pvd/log.h"
#include "dom0-tools/pvd/sys_error.h"

namespace pvhv::dom0 {

std::string default_runtime_dir() {
    const char* env = std::getenv("PVHV_RUNTIME_DIR");
    return (env && *env) ? std::string(env) : std::string(kDefaultRuntimeDir);
}

Result<void> ensure_private_dir(const std::string& dir) {
    if (dir.empty()) return fail(XEN_EINVAL, "empty runtime directory");
    for (size_t pos = 1;; ++pos) {
        pos = dir.find('/', pos);
        const std::string prefix = dir.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
            return fail_sys("cannot create " + prefix +
                            (prefix == dir ? std::string() : " (for " + dir + ")"));
        if (pos == std::string::npos) break;
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return fail_sys("cannot stat " + dir);
    if (!S_ISDIR(st.st_mode)) return fail(XEN_ENOTDIR, dir + " is not a directory");
    return {};
}

Result<UniqueFd> lock_runtime_dir(const std::string& dir) {
    const std::string path = lock_path(dir);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return fail_sys("cannot open " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return fail(XEN_EBUSY, "another pvd is running with runtime directory " + dir +
                                       " (it holds " + path + ")");
        return fail_sys("cannot lock " + path);
    }
    return fd;
}

namespace {
Result<sockaddr_un> make_addr(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path))
        return fail(XEN_ENAMETOOLONG, "socket path too long (" + std::to_string(path.size()) +
                                          " bytes, at most " +
                                          std::to_string(sizeof(addr.sun_path) - 1) + "): " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}
}  // namespace

Result<UniqueFd> connect_unix(const std::string& path) {
    auto addr = make_addr(path);
    if (!addr) return std::unexpected(addr.error());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return fail_sys("socket");
    int r;
    do {
        r = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        // Nobody there (no socket, or a stale one): callers tell this apart from real errors.
        if (errno == ENOENT || errno == ECONNREFUSED)
            return fail(XEN_ENOENT, "nothing listens on " + path + ": " + std::strerror(errno));
        return fail_sys("cannot connect to " + path);
    }
    return fd;
}

Result<void> claim_socket_path(const std::string& path) {
    if (auto a = make_addr(path); !a) return std::unexpected(a.error());
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        return fail_sys("cannot stat " + path);
    }
    if (!S_ISSOCK(st.st_mode))
        return fail(XEN_EEXIST, path + " exists and is not a socket; not touching it");
    if (connect_unix(path)) return fail(XEN_EBUSY, "another pvd is already listening on " + path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return fail_sys("cannot remove stale socket " + path);
    log_info("removed stale socket " + path);
    return {};
}

}  // namespace pvhv::dom0
