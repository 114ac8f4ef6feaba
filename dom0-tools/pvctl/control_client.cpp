// Blocking control-socket client for pvctl: framing over a unix socket, poll for input.
#include "dom0-tools/pvctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>

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
        if (!start_pvd || !start_pvd_)
            return fail(XEN_ENOENT, "pvd is not running (nothing listens on " + path + ")");
        fd = start_pvd_(runtime_dir_);
    }
    if (!fd) return std::unexpected(fd.error());
    return std::unique_ptr<ControlConnection>(
        std::make_unique<UnixControlConnection>(std::move(*fd)));
}

}  // namespace pvhv::dom0
