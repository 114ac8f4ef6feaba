// Blocking control-socket client for pvctl: framing over a unix socket, poll for input.
#include "dom0-tools/pvctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <thread>

#include "dom0-tools/pvd/runtime_dir.h"
#include "dom0-tools/pvd/sys_error.h"

namespace pvhv::dom0 {

namespace {
volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) {
    g_interrupted = 1;
}
}  // namespace

InterruptGuard::InterruptGuard() {
    g_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() must return EINTR
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    ::sigaction(SIGHUP, &sa, &old_hup_);
}

InterruptGuard::~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGHUP, &old_hup_, nullptr);
}

bool InterruptGuard::interrupted() {
    return g_interrupted != 0;
}

Result<control::Response> call(ControlConnection& conn, const control::Request& req) {
    if (auto s = conn.send(req); !s) return std::unexpected(s.error());
    for (;;) {
        auto in = conn.receive(-1);
        if (!in) return std::unexpected(in.error());
        switch (in->kind) {
            case Incoming::Kind::Message:
                return std::move(in->message);
            case Incoming::Kind::Closed:
                return fail(XEN_EIO, "pvd closed the connection without replying");
            case Incoming::Kind::Interrupted:
                return fail(XEN_EIO, "interrupted");
            case Incoming::Kind::Input:
                break;
        }
    }
}

bool process_gone(pid_t pid) {
    if (pid <= 0) return false;
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    // "PID (comm) S ...": the state follows the last ')' (comm may hold spaces and parens).
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!f || !std::getline(f, stat)) return true;  // gone between the two looks
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() &&
           (stat[close + 2] == 'Z' || stat[close + 2] == 'X');
}

std::string lost_pvd_message(ControlConnection& conn, const std::string& domain,
                             const std::string& detail) {
    const PeerInfo p = conn.peer();
    if (p.pid > 0 && conn.peer_exited(std::chrono::milliseconds(2000))) {
        std::string m = "pvd (pid " + std::to_string(p.pid) + ") exited: lost domain " + domain +
                        ", which ran inside it (its vCPUs are pvd's threads); its disk images "
                        "hold what the guest had written, as after a power cut";
        if (!p.log_path.empty()) m += "; pvd's log: " + p.log_path;
        return m + "; the next pvctl create starts a new pvd";
    }
    return "lost pvd" + (p.pid > 0 ? " (pid " + std::to_string(p.pid) + ")" : std::string()) +
           ": " + detail;
}

UnixControlConnection::UnixControlConnection(UniqueFd fd, std::string log_path)
    : fd_(std::move(fd)) {
    peer_.log_path = std::move(log_path);
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred)
        peer_.pid = cred.pid;
}

bool UnixControlConnection::peer_exited(std::chrono::milliseconds wait) {
    if (peer_.pid <= 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        if (process_gone(peer_.pid)) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Result<void> UnixControlConnection::send(const control::Request& req) {
    auto frame = encode_frame(req);
    if (!frame) return std::unexpected(frame.error());
    const char* p = frame->data();
    size_t left = frame->size();
    while (left > 0) {
        const ssize_t n = ::send(fd_.get(), p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_sys("cannot send to pvd");
        p += n;
        left -= static_cast<size_t>(n);
    }
    return {};
}

Result<Incoming> UnixControlConnection::receive(int input_fd) {
    for (;;) {
        auto frame = decoder_.next();
        if (!frame) return std::unexpected(frame.error());
        if (*frame) {
            Incoming in;
            in.kind = Incoming::Kind::Message;
            if (!in.message.ParseFromString(**frame))
                return fail(XEN_EINVAL, "malformed message from pvd");
            return in;
        }
        pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {input_fd, POLLIN, 0}};
        const int r = ::poll(fds, input_fd >= 0 ? 2 : 1, -1);
        if (r < 0) {
            if (errno == EINTR) {
                if (g_interrupted) return Incoming{Incoming::Kind::Interrupted, {}};
                continue;
            }
            return fail_sys("poll");
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[16 * 1024];
            const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == ECONNRESET) return Incoming{Incoming::Kind::Closed, {}};
            if (n < 0) return fail_sys("cannot read from pvd");
            if (n == 0) return Incoming{Incoming::Kind::Closed, {}};
            decoder_.feed(std::span<const char>(buf, static_cast<size_t>(n)));
            continue;
        }
        // POLLNVAL too (stdin closed): the caller's read() then reports the end of input.
        if (input_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
            return Incoming{Incoming::Kind::Input, {}};
    }
}

Result<std::unique_ptr<ControlConnection>> UnixConnector::connect(bool start_pvd) {
    const std::string path = socket_path(runtime_dir_);
    auto fd = connect_unix(path);
    if (!fd && fd.error().xen_errno == XEN_ENOENT) {
        if (!start_pvd || !start_pvd_) {
            // A socket file nobody listens on is left by a pvd that did not get to remove it
            // (killed, crashed): say so, since its domains ended with it.
            struct stat st {};
            const bool stale = ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
            return fail(XEN_ENOENT,
                        "pvd is not running (nothing listens on " + path +
                            (stale ? "; the socket is left from a pvd that ended without "
                                     "removing it, e.g. killed: its domains ended with it; see " +
                                         pvd_log_path(runtime_dir_) + ")"
                                   : ")"));
        }
        fd = start_pvd_(runtime_dir_);
    }
    if (!fd) return std::unexpected(fd.error());
    return std::unique_ptr<ControlConnection>(
        std::make_unique<UnixControlConnection>(std::move(*fd), pvd_log_path(runtime_dir_)));
}

}  // namespace pvhv::dom0
