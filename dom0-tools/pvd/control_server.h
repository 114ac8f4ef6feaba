// pvd's control server: accepts pvctl connections on the unix socket and owns the sessions.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dom0-tools/pvd/domain_manager.h"
#include "hv/error.h"

namespace pvhv::dom0 {

class ControlSession;

// What sessions need besides the manager, for Info replies.
struct ServerInfo {
    std::string version;
    std::string runtime_dir;
    std::string socket_path;
    // Host facts for `pvctl info` (KVM API version, capabilities, ...), asked per request.
    std::function<std::vector<std::pair<std::string, std::string>>()> host_facts;
};

// Threading: the io_context thread only, like the manager.
class ControlServer {
  public:
    ControlServer(boost::asio::io_context& io, DomainManager& manager, ServerInfo info);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Binds and listens on info.socket_path (mode 0600). The caller has claimed the path
    // (claim_socket_path) under the runtime-directory lock.
    Result<void> listen();
    // Stops accepting and removes the socket file; existing sessions continue.
    void stop_accepting();
    // Lets every session send what it has queued, then closes it.
    void close_sessions_after_flush();

    size_t sessions() const { return sessions_.size(); }
    // Called after a session has closed.
    void set_on_session_closed(std::function<void()> f) { on_session_closed_ = std::move(f); }

    // For sessions.
    DomainManager& manager() { return manager_; }
    const ServerInfo& info() const { return info_; }
    void session_closed(uint64_t id);

  private:
    void accept_next();

    boost::asio::io_context& io_;
    DomainManager& manager_;
    ServerInfo info_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;  // backs off after accept errors (EMFILE)
    bool listening_ = false;
    uint64_t next_session_id_ = 1;
    std::map<uint64_t, std::weak_ptr<ControlSession>> sessions_;
    std::function<void()> on_session_closed_;
    // Handlers hold a weak_ptr to this and do nothing once the server is gone.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace pvhv::dom0
