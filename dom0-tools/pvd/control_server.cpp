// pvd's control server: listening socket, accept loop, session registry.
#include "dom0-tools/pvd/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include "dom0-tools/pvd/control_session.h"
#include "dom0-tools/pvd/log.h"
#include "dom0-tools/pvd/sys_error.h"

namespace pvhv::dom0 {

using boost::asio::local::stream_protocol;

ControlServer::ControlServer(boost::asio::io_context& io, DomainManager& manager, ServerInfo info)
    : io_(io), manager_(manager), info_(std::move(info)), acceptor_(io), retry_timer_(io) {}

ControlServer::~ControlServer() {
    stop_accepting();
    for (auto& [id, weak] : sessions_)
        if (auto s = weak.lock()) s->detach_from_server();
}

Result<void> ControlServer::listen() {
    boost::system::error_code ec;
    acceptor_.open(stream_protocol(), ec);
    if (!ec) acceptor_.bind(stream_protocol::endpoint(info_.socket_path), ec);
    if (ec) return fail(XEN_EIO, "cannot bind " + info_.socket_path + ": " + ec.message());
    // The directory is 0700 already; the socket mode is the second fence.
    if (::chmod(info_.socket_path.c_str(), 0600) != 0)
        return fail_sys("cannot chmod " + info_.socket_path);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(XEN_EIO, "cannot listen on " + info_.socket_path + ": " + ec.message());
    listening_ = true;
    accept_next();
    return {};
}

void ControlServer::stop_accepting() {
    if (!listening_) return;
    listening_ = false;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
    ::unlink(info_.socket_path.c_str());
}

void ControlServer::close_sessions_after_flush() {
    const auto copy = sessions_;
    for (auto& [id, weak] : copy)
        if (auto s = weak.lock()) s->close_after_flush();
}

void ControlServer::accept_next() {
    acceptor_.async_accept(
        [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec,
                                                   stream_protocol::socket socket) {
            // Aborted handlers may run after the server is gone (closing cancels, not erases).
            if (alive.expired() || !listening_) return;
            if (ec) {
                if (ec == boost::asio::error::operation_aborted) return;
                log_warn("accept on " + info_.socket_path + ": " + ec.message());
                retry_timer_.expires_after(std::chrono::milliseconds(200));
                retry_timer_.async_wait([this, alive](const boost::system::error_code& e) {
                    if (!e && !alive.expired() && listening_) accept_next();
                });
                return;
            }
            const uint64_t id = next_session_id_++;
            auto session = std::make_shared<ControlSession>(std::move(socket), *this, id);
            sessions_.emplace(id, session);
            session->start();
            accept_next();
        });
}

void ControlServer::session_closed(uint64_t id) {
    sessions_.erase(id);
    if (on_session_closed_) on_session_closed_();
}

}  // namespace pvhv::dom0
