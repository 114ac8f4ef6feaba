// One pvctl connection to pvd: reads framed Requests, answers them, streams console output.
#pragma once

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "control.pb.h"
#include "dom0-tools/pvd/framing.h"
#include "dom0-tools/pvd/guest_domain.h"

namespace pvhv::dom0 {

class ControlServer;
class DomainManager;

// Threading: io_context thread only. Lifetime: shared_ptr held by pending Asio handlers;
// the server and the manager keep weak_ptrs.
class ControlSession final : public DomainWatcher,
                             public std::enable_shared_from_this<ControlSession> {
  public:
    // Queued output beyond this is console data the client does not read fast enough:
    // it is dropped (the console log keeps it) rather than growing pvd without bound.
    static constexpr size_t kMaxQueuedBytes = 4u << 20;

    ControlSession(boost::asio::local::stream_protocol::socket socket, ControlServer& server,
                   uint64_t id);

    void start();
    void close_after_flush();
    // The server is going away: close without touching it or the manager again.
    void detach_from_server();

    // DomainWatcher
    void on_console(DomId id, std::string_view bytes) override;
    void on_restarted(DomId old_id, DomId new_id, ShutdownReason reason,
                      const std::string& name) override;
    void on_exited(DomId id, const ExitInfo& info) override;

  private:
    void read_more();
    void handle(const control::Request& req);
    void handle_create(const control::CreateRequest& req);
    void handle_list();
    void handle_destroy(const control::DestroyRequest& req);
    void handle_shutdown(const control::ShutdownRequest& req);
    void shutdown_finished(const Result<std::string>& outcome);
    void handle_console(const control::ConsoleAttachRequest& req);
    void handle_console_input(const control::ConsoleInput& req);
    void handle_pause(const control::DomainRef& ref, bool pause);
    void handle_info();
    void handle_top();
    void handle_debug_dump(const control::DebugDumpRequest& req);
    void handle_device_attach(const control::DeviceAttachRequest& req);
    void handle_device_detach(const control::DeviceDetachRequest& req);
    void handle_device_list(const control::DeviceListRequest& req);
    Result<DomId> resolve(const control::DomainRef& ref) const;
    bool following_something(control::Response& reply) const;

    void send(const control::Response& r);
    void send_error(const std::string& message);
    void write_next();
    void close();

    boost::asio::local::stream_protocol::socket socket_;
    ControlServer* server_;   // null once detached
    DomainManager* manager_;  // null once detached
    uint64_t id_;
    std::array<char, 16 * 1024> rbuf_{};
    FrameDecoder decoder_;
    std::deque<std::string> out_;  // encoded frames; front() is being written
    size_t out_bytes_ = 0;
    bool writing_ = false;
    bool closing_ = false;  // close once out_ is empty
    bool closed_ = false;
    size_t dropped_console_bytes_ = 0;

    // The domain this connection follows (console stream) and whether its end should be
    // sent as DomainExited. (A shutdown -w wait is shutdown_request.h's, not this.)
    std::optional<DomId> following_;
    bool streaming_ = false;
    // destroy_on_disconnect: this domain dies with the connection (pvctl create -F), even
    // after it exited into a preserved state (on_*=preserve, suspend). Follows restarts;
    // cleared once the domain is gone.
    std::optional<DomId> bound_;
};

}  // namespace pvhv::dom0
