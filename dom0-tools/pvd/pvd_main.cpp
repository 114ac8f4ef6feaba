// pvd: the control-domain daemon. Wires runtime dir, domain manager and control server onto
// one Boost.Asio io_context and runs it in the foreground (pvctl detaches it when it
// starts one).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include "dom0-tools/pvd/control_server.h"
#include "dom0-tools/pvd/domain_factory.h"
#include "dom0-tools/pvd/domain_manager.h"
#include "dom0-tools/pvd/host_info.h"
#include "dom0-tools/pvd/log.h"
#include "dom0-tools/pvd/runtime_dir.h"
#include "dom0-tools/pvd/version.h"

namespace {

using namespace pvhv::dom0;

constexpr const char* kUsage =
    "usage: pvd [--runtime-dir DIR] [--exit-when-idle] [--foreground]\n"
    "\n"
    "  --runtime-dir DIR  socket, lock, logs (default $PVHV_RUNTIME_DIR or /run/pvhv)\n"
    "  --exit-when-idle   exit once no domain exists and no client is connected\n"
    "                     (for a second; and 10 s after start if nobody came)\n"
    "                     (pvctl passes this when it starts pvd itself, so a one-shot\n"
    "                     `pvctl create -F` leaves nothing running behind it)\n"
    "  --foreground       accepted for compatibility: pvd always runs in the foreground\n"
    "\n"
    "Logs go to stderr. SIGINT/SIGTERM destroy every domain and exit.\n";

// With --exit-when-idle, how long a fresh pvd waits for its first client.
constexpr auto kStartupGrace = std::chrono::seconds(10);
// With --exit-when-idle, how long pvd stays idle before exiting: a pvctl that started a pvd
// concurrently with ours is still polling for the socket and must find it.
constexpr auto kIdleLinger = std::chrono::seconds(1);
// How long stopping pvd waits for sessions to flush their last messages.
constexpr auto kFlushGrace = std::chrono::seconds(3);

struct Options {
    std::string runtime_dir = default_runtime_dir();
    bool exit_when_idle = false;
};

int run(const Options& opt) {
    if (auto r = ensure_private_dir(opt.runtime_dir); !r) {
        log_error(r.error().message + " (choose another with --runtime-dir or PVHV_RUNTIME_DIR)");
        return 1;
    }
    auto lock = lock_runtime_dir(opt.runtime_dir);
    if (!lock) {
        log_error(lock.error().message);
        return 1;
    }
    const std::string sock = socket_path(opt.runtime_dir);
    if (auto r = claim_socket_path(sock); !r) {
        log_error(r.error().message);
        return 1;
    }

    boost::asio::io_context io;
    auto factory_or = make_domain_factory(io);
    if (!factory_or) throw std::runtime_error("cannot set up dom0: " + factory_or.error().message);
    auto factory = std::move(*factory_or);
    DomainManager manager(io, *factory, ManagerOptions{console_dir(opt.runtime_dir)});
    ControlServer server(io, manager, ServerInfo{kVersion, opt.runtime_dir, sock, probe_host});
    if (auto r = server.listen(); !r) {
        log_error(r.error().message);
        return 1;
    }
    log_info(std::string("pvd ") + kVersion + " listening on " + sock + " (pid " +
             std::to_string(::getpid()) + "; domains: " + manager.factory_description() + ")");

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer grace(io);
    boost::asio::steady_timer idle(io);
    boost::asio::steady_timer flush(io);
    bool stopping = false;

    auto stop = [&](const std::string& why) {
        if (stopping) return;
        stopping = true;
        log_info("stopping: " + why);
        signals.cancel();
        grace.cancel();
        idle.cancel();
        server.stop_accepting();
        manager.destroy_all("pvd is stopping");
        server.close_sessions_after_flush();
        if (server.sessions() == 0) {
            io.stop();
            return;
        }
        flush.expires_after(kFlushGrace);
        flush.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) io.stop();
        });
    };
    auto is_idle = [&] { return manager.size() == 0 && server.sessions() == 0; };
    auto check_idle = [&] {
        if (stopping) {
            if (server.sessions() == 0) io.stop();
            return;
        }
        if (!opt.exit_when_idle || !is_idle()) return;
        idle.expires_after(kIdleLinger);  // re-arming cancels an earlier wait
        idle.async_wait([&](const boost::system::error_code& ec) {
            if (!ec && is_idle()) stop("idle (--exit-when-idle)");
        });
    };
    manager.set_on_empty(check_idle);
    server.set_on_session_closed(check_idle);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (!ec) stop(std::string("signal ") + ::strsignal(sig));
    });
    if (opt.exit_when_idle) {
        grace.expires_after(kStartupGrace);
        grace.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) check_idle();
        });
    }

    // A handler that throws is a pvd bug; it must not take every running guest with it.
    for (;;) {
        try {
            io.run();
            break;
        } catch (const std::exception& e) {
            log_error(std::string("internal error, continuing: ") + e.what());
        }
    }
    server.stop_accepting();
    manager.destroy_all("pvd is stopping");
    log_info("exited");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--runtime-dir" && i + 1 < argc) {
            opt.runtime_dir = argv[++i];
        } else if (a.starts_with("--runtime-dir=")) {
            opt.runtime_dir = std::string(a.substr(14));
        } else if (a == "--exit-when-idle") {
            opt.exit_when_idle = true;
        } else if (a == "--foreground" || a == "-F") {
        } else if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--version") {
            std::printf("pvd %s\n", kVersion);
            return 0;
        } else {
            std::fprintf(stderr, "pvd: unknown option '%s'\n%s", argv[i], kUsage);
            return 2;
        }
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        log_error(std::string("fatal: ") + e.what());
        return 1;
    }
}
