// Starting pvd from pvctl: find the binary, detach it, wait for its socket.
#include "dom0-tools/pvctl/pvd_launcher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "dom0-tools/pvd/runtime_dir.h"
#include "dom0-tools/pvd/sys_error.h"

namespace pvhv::dom0 {

Result<std::string> find_pvd_binary() {
    if (const char* env = std::getenv("PVHV_PVD"); env && *env) return std::string(env);
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return fail_sys("cannot read /proc/self/exe");
    std::string self(buf, static_cast<size_t>(n));
    const auto slash = self.rfind('/');
    const std::string pvd =
        (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/pvd";
    if (::access(pvd.c_str(), X_OK) != 0)
        return fail_sys("cannot run " + pvd + " (set PVHV_PVD to pvd's path)");
    return pvd;
}

Result<UniqueFd> start_pvd(const std::string& runtime_dir, std::chrono::milliseconds timeout) {
    auto pvd = find_pvd_binary();
    if (!pvd) return std::unexpected(pvd.error());
    if (auto r = ensure_private_dir(runtime_dir); !r)
        return fail(r.error().xen_errno,
                    r.error().message + " (set PVHV_RUNTIME_DIR to a directory you own)");
    const std::string log = pvd_log_path(runtime_dir);
    UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!log_fd.valid()) return fail_sys("cannot open " + log);
    UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null_fd.valid()) return fail_sys("cannot open /dev/null");
    // exec failures come back through this close-on-exec pipe; EOF means exec worked.
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail_sys("pipe");
    UniqueFd rd(pipefd[0]), wr(pipefd[1]);

    std::string dir_arg = runtime_dir;
    std::vector<char*> argv = {pvd->data(), const_cast<char*>("--runtime-dir"), dir_arg.data(),
                               const_cast<char*>("--exit-when-idle"), nullptr};
    const pid_t child = ::fork();
    if (child < 0) return fail_sys("fork");
    if (child == 0) {
        // Intermediate child: new session, then fork again so pvd is nobody's child here.
        ::setsid();
        const pid_t grandchild = ::fork();
        if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
        ::dup2(null_fd.get(), STDIN_FILENO);
        ::dup2(null_fd.get(), STDOUT_FILENO);
        ::dup2(log_fd.get(), STDERR_FILENO);
        if (::chdir("/") != 0) ::_exit(127);
        ::execv(argv[0], argv.data());
        const int e = errno;
        (void)!::write(wr.get(), &e, sizeof e);
        ::_exit(127);
    }
    wr.reset();
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    int exec_errno = 0;
    ssize_t got;
    do {
        got = ::read(rd.get(), &exec_errno, sizeof exec_errno);
    } while (got < 0 && errno == EINTR);
    if (got == sizeof exec_errno)
        return fail(XEN_EIO, "cannot run " + *pvd + ": " + std::strerror(exec_errno));

    // Poll the socket: pvd takes the lock, clears stale sockets, then listens. If another
    // pvctl raced us, the other pvd wins the lock and ours exits; either way one listens.
    const std::string sock = socket_path(runtime_dir);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto fd = connect_unix(sock)) return std::move(*fd);
        if (std::chrono::steady_clock::now() >= deadline)
            return fail(XEN_ETIMEDOUT, "started " + *pvd + " but nothing listens on " + sock +
                                           " after " + std::to_string(timeout.count()) +
                                           " ms; see " + log);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace pvhv::dom0
