// pvctl's side of the control socket: blocking framed request/response and streaming.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "control.pb.h"
#include "dom0-tools/pvd/framing.h"
#include "hv/error.h"
#include "hv/unique_fd.h"

namespace pvhv::dom0 {

struct Incoming {
    enum class Kind {
        Message,      // `message` holds the next Response
        Closed,       // pvd closed the connection
        Input,        // the watched input fd is readable
        Interrupted,  // SIGINT/SIGTERM arrived while waiting (see InterruptGuard)
    };
    Kind kind = Kind::Closed;
    control::Response message;
};

// Who answered on the control socket, for telling the user what happened when it goes away.
struct PeerInfo {
    pid_t pid = 0;         // pvd's process id (SO_PEERCRED); 0: unknown
    std::string log_path;  // pvd's log; may be empty
};

class ControlConnection {
  public:
    virtual ~ControlConnection() = default;
    virtual Result<void> send(const control::Request& req) = 0;
    // Blocks for the next Response; with input_fd >= 0 also returns when it is readable.
    virtual Result<Incoming> receive(int input_fd = -1) = 0;
    virtual PeerInfo peer() const { return {}; }
    // After the connection was lost: true once pvd's process is gone (or a zombie), waiting up
    // to `wait` for it (a killed process closes its sockets a moment before it is reaped).
    // False when it still runs or its pid is unknown.
    virtual bool peer_exited(std::chrono::milliseconds /*wait*/) { return false; }
};

// What `pvctl create -F` / `pvctl console` print when the stream from pvd ends without the
// domain's exit: when pvd's process is gone, that pvd (pid N) exited and the domain, whose vCPUs
// ran inside it, is lost with it; otherwise "lost pvd" and `detail`. One line, no newline.
std::string lost_pvd_message(ControlConnection& conn, const std::string& domain,
                             const std::string& detail);

// True when `pid` names no process or a zombie (Linux: /proc/PID/stat).
bool process_gone(pid_t pid);

class ControlConnector {
  public:
    virtual ~ControlConnector() = default;
    // start_pvd: if nobody listens, start pvd and wait for it (pvctl create).
    // Fails with XEN_ENOENT when pvd is not running and start_pvd is false.
    virtual Result<std::unique_ptr<ControlConnection>> connect(bool start_pvd) = 0;
};

// Sends `req` and returns the one reply (errors from pvd stay in Response.error).
Result<control::Response> call(ControlConnection& conn, const control::Request& req);

class UnixControlConnection final : public ControlConnection {
  public:
    // Takes pvd's pid from the socket (SO_PEERCRED); `log_path` goes into PeerInfo.
    explicit UnixControlConnection(UniqueFd fd, std::string log_path = {});
    Result<void> send(const control::Request& req) override;
    Result<Incoming> receive(int input_fd) override;
    PeerInfo peer() const override { return peer_; }
    bool peer_exited(std::chrono::milliseconds wait) override;

  private:
    UniqueFd fd_;
    FrameDecoder decoder_;
    PeerInfo peer_;
};

class UnixConnector final : public ControlConnector {
  public:
    // `start_pvd` launches a pvd for `runtime_dir` and returns a connection to it
    // (pvd_launcher.h); may be empty.
    using Starter = std::function<Result<UniqueFd>(const std::string& runtime_dir)>;
    UnixConnector(std::string runtime_dir, Starter start_pvd)
        : runtime_dir_(std::move(runtime_dir)), start_pvd_(std::move(start_pvd)) {}
    Result<std::unique_ptr<ControlConnection>> connect(bool start_pvd) override;

  private:
    std::string runtime_dir_;
    Starter start_pvd_;
};

// While alive, SIGINT, SIGTERM and SIGHUP interrupt receive() (Incoming::Interrupted) instead
// of killing pvctl, so terminal modes and the like are restored by their destructors.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
    static bool interrupted();

  private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
    struct sigaction old_hup_ {};
};

}  // namespace pvhv::dom0
