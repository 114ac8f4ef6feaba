// End-to-end tests of pvd's control server over a real unix socket, with fake domains,
// driven by pvctl's own command handlers and by a raw framed client.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "dom0-tools/pvctl/commands.h"
#include "dom0-tools/pvd/control_server.h"
#include "dom0-tools/pvd/exit_codes.h"
#include "dom0-tools/pvd/runtime_dir.h"
#include "dom0-tools/pvd/testing/fake_domain.h"

namespace pvhv::dom0 {
namespace {

using namespace std::chrono_literals;

class ControlServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // Short: sun_path holds 107 bytes.
        dir_ = "/tmp/pvd_srv." + std::to_string(::getpid()) + "." + std::to_string(counter_++);
        std::filesystem::remove_all(dir_);
        ASSERT_TRUE(ensure_private_dir(dir_));
        manager_ =
            std::make_unique<DomainManager>(io_, factory_, ManagerOptions{console_dir(dir_)});
        server_ = std::make_unique<ControlServer>(
            io_, *manager_,
            ServerInfo{"test", dir_, socket_path(dir_), [] {
                           return std::vector<std::pair<std::string, std::string>>{{"kvm", "fake"}};
                       }});
        ASSERT_TRUE(claim_socket_path(socket_path(dir_)));
        ASSERT_TRUE(server_->listen());
        connector_ = std::make_unique<UnixConnector>(dir_, nullptr);
        loop_ = std::thread([this] { io_.run(); });
        std::ofstream(dir_ + "/g.cfg") << "name = 'g'\nkernel = '/boot/vmlinux'\n";
    }

    void TearDown() override {
        on_loop([this] {
            server_.reset();
            manager_.reset();
        });
        work_.reset();
        io_.stop();
        loop_.join();
        std::filesystem::remove_all(dir_);
    }

    // Runs f on the loop thread (where the manager lives) and waits for it.
    template <class F>
    auto on_loop(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        boost::asio::post(io_, [&task] { task(); });
        return fut.get();
    }

    int pvctl(std::vector<std::string> args, int input_fd = -1) {
        out_.str("");
        err_.str("");
        CliEnv env{out_,
                   err_,
                   *connector_,
                   dir_,
                   input_fd,
                   [](const std::string& p) -> Result<std::string> {
                       std::ifstream f(p);
                       if (!f) return fail(XEN_ENOENT, "cannot read " + p);
                       std::stringstream s;
                       s << f.rdbuf();
                       return s.str();
                   }};
        return dispatch(pvctl_commands(), args, env);
    }

    // Waits until the factory has built `n` domains and the last one has started.
    std::shared_ptr<testing::FakeDomainState> wait_built(size_t n) {
        for (int i = 0; i < 500; ++i) {
            {
                std::lock_guard lock(factory_.mu);
                if (factory_.built.size() >= n) {
                    auto d = factory_.built[n - 1];
                    std::lock_guard l2(d->mu);
                    if (d->started) return d;
                }
            }
            std::this_thread::sleep_for(10ms);
        }
        ADD_FAILURE() << "domain " << n << " was never built";
        return nullptr;
    }

    // A guest that shuts down with `reason` once pvd has asked it (through its PV control).
    static std::thread shut_down_when_asked(std::shared_ptr<testing::FakeDomainState> d,
                                            ShutdownReason reason) {
        return std::thread([d, reason] {
            for (int i = 0; i < 500; ++i) {
                {
                    std::lock_guard l(d->mu);
                    if (!d->shutdown_requests.empty()) break;
                }
                std::this_thread::sleep_for(10ms);
            }
            d->guest_shutdown(reason);
        });
    }

    // Another pvctl destroys domain `id` over its own connection.
    void destroy_elsewhere(uint32_t id) {
        UnixConnector c(dir_, nullptr);
        auto conn = c.connect(false);
        ASSERT_TRUE(conn);
        control::Request r;
        r.mutable_destroy()->mutable_domain()->set_id(id);
        auto reply = call(**conn, r);
        EXPECT_TRUE(reply && reply->error().empty());
    }

    size_t domains() {
        return on_loop([this] { return manager_->size(); });
    }

    static inline int counter_ = 0;
    std::string dir_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
        boost::asio::make_work_guard(io_);
    testing::FakeFactory factory_;
    std::unique_ptr<DomainManager> manager_;
    std::unique_ptr<ControlServer> server_;
    std::thread loop_;
    std::unique_ptr<UnixConnector> connector_;  // made in SetUp, once dir_ is known
    std::ostringstream out_, err_;
};

TEST_F(ControlServerTest, CreateForegroundPropagatesTheShutdownCode) {
    for (auto [reason, code] : {std::pair{ShutdownReason::Poweroff, 0},
                                {ShutdownReason::Crash, 3},
                                {ShutdownReason::Watchdog, 4}}) {
        const size_t n = factory_.built.size() + 1;
        std::thread guest([&] {
            auto d = wait_built(n);
            d->guest_console("hello from the guest\n");
            d->guest_shutdown(reason);
        });
        EXPECT_EQ(pvctl({"create", "-F", dir_ + "/g.cfg"}), code) << err_.str();
        guest.join();
        EXPECT_EQ(out_.str(), "hello from the guest\n");
        EXPECT_EQ(domains(), 0u);
    }
}

TEST_F(ControlServerTest, ListDestroyByNameAndId) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0) << err_.str();
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg", "name='h'", "memory=64"}), 0) << err_.str();
    ASSERT_EQ(pvctl({"list"}), 0);
    EXPECT_NE(
        out_.str().find("g                                            1   128     1     r-----"),
        std::string::npos)
        << out_.str();
    EXPECT_NE(out_.str().find("h                                            2    64"),
              std::string::npos);
    EXPECT_EQ(pvctl({"create", dir_ + "/g.cfg"}), kExitCreateFailed);
    EXPECT_NE(err_.str().find("a domain named g already exists"), std::string::npos);
    EXPECT_EQ(pvctl({"destroy", "g"}), 0);
    EXPECT_EQ(pvctl({"destroy", "2"}), 0);
    EXPECT_EQ(pvctl({"destroy", "2"}), 1);
    EXPECT_NE(err_.str().find("no domain with id 2"), std::string::npos);
    EXPECT_EQ(domains(), 0u);
}

TEST_F(ControlServerTest, ShutdownReportsTheMissingPvControlInterface) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    EXPECT_EQ(pvctl({"shutdown", "-w", "g"}), 1);
    EXPECT_NE(err_.str().find("domain g has no PV control interface (it has not talked to "
                              "xenstore); use -F to stop it anyway, or destroy"),
              std::string::npos)
        << err_.str();
    EXPECT_EQ(domains(), 1u);
}

TEST_F(ControlServerTest, ForcedShutdownWithoutPvControlDestroysAtOnce) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    EXPECT_EQ(pvctl({"shutdown", "-F", "g"}), 0) << err_.str();
    EXPECT_NE(err_.str().find("domain g has no PV control interface; forced (-F) to shut down"),
              std::string::npos)
        << err_.str();
    EXPECT_EQ(domains(), 0u);
}

TEST_F(ControlServerTest, ForcedRebootWithoutPvControlRestarts) {
    std::ofstream(dir_ + "/r.cfg") << "name = 'r'\nkernel = '/boot/vmlinux'\non_reboot = 'restart'\n";
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/r.cfg"}), 0);
    EXPECT_EQ(pvctl({"reboot", "-w", "-F", "r"}), 0) << err_.str();
    wait_built(2);
    EXPECT_EQ(domains(), 1u);
    EXPECT_TRUE(wait_built(1)->destroyed);
}

TEST_F(ControlServerTest, ShutdownWaitTimesOutWhenTheGuestIgnoresIt) {
    factory_.pv_control = true;
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    EXPECT_EQ(pvctl({"shutdown", "-w", "-t", "1", "g"}), 1);
    EXPECT_NE(err_.str().find("domain g did not shut down within 1 s of the request (it still "
                              "runs: -F stops it, or destroy)"),
              std::string::npos)
        << err_.str();
    EXPECT_EQ(domains(), 1u);
    std::lock_guard lock(factory_.last()->mu);
    EXPECT_EQ(factory_.last()->shutdown_requests, std::vector{ShutdownReason::Poweroff});
}

TEST_F(ControlServerTest, ForcedShutdownDestroysWhenTheTimeoutPasses) {
    factory_.pv_control = true;
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    // Without -w pvctl returns at once; pvd keeps the deadline and applies -F itself.
    EXPECT_EQ(pvctl({"shutdown", "-F", "-t", "1", "g"}), 0) << err_.str();
    EXPECT_EQ(domains(), 1u);
    for (int i = 0; i < 300 && domains() != 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(domains(), 0u);
}

TEST_F(ControlServerTest, RebootWaitReturnsOnceTheDomainRestarted) {
    factory_.pv_control = true;
    std::ofstream(dir_ + "/r.cfg") << "name = 'r'\nkernel = '/boot/vmlinux'\non_reboot = 'restart'\n";
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/r.cfg"}), 0);
    auto d = wait_built(1);
    std::thread guest = shut_down_when_asked(d, ShutdownReason::Reboot);
    EXPECT_EQ(pvctl({"reboot", "-w", "r"}), 0) << err_.str();
    guest.join();
    {
        std::lock_guard l(d->mu);
        EXPECT_EQ(d->shutdown_requests, std::vector{ShutdownReason::Reboot});
    }
    wait_built(2);
    EXPECT_EQ(domains(), 1u);
}

TEST_F(ControlServerTest, ShutdownWaitReturnsOnceTheDomainStopped) {
    factory_.pv_control = true;
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    auto d = wait_built(1);
    std::thread guest = shut_down_when_asked(d, ShutdownReason::Poweroff);
    EXPECT_EQ(pvctl({"shutdown", "-w", "g"}), 0) << err_.str();
    guest.join();
    EXPECT_EQ(domains(), 0u);
}

TEST_F(ControlServerTest, ConsoleEndsWhenTheDomainIsDestroyedElsewhere) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    auto d = wait_built(1);
    std::thread other([&] {
        // Wait for the console session to be registered, then speak and destroy.
        std::this_thread::sleep_for(100ms);
        d->guest_console("line\n");
        std::this_thread::sleep_for(50ms);
        destroy_elsewhere(1);
    });
    EXPECT_EQ(pvctl({"console", "g"}), 0);
    other.join();
    EXPECT_EQ(out_.str(), "line\n");
    EXPECT_NE(err_.str().find("destroyed"), std::string::npos);
}

TEST_F(ControlServerTest, CtrlBracketDetachesTheConsoleAndRestoresTheTerminal) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    auto d = wait_built(1);
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_GE(master, 0);
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    const int tty = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    ASSERT_GE(tty, 0);
    termios before{};
    ASSERT_EQ(::tcgetattr(tty, &before), 0);
    termios attached{};
    std::thread user([&] {
        std::this_thread::sleep_for(100ms);
        d->guest_console("login: ");
        std::this_thread::sleep_for(50ms);
        ::tcgetattr(tty, &attached);
        const char keys[] = {'r', 'o', 0x03, '\r', 0x1d, 'z'};  // Ctrl-C is for the guest
        EXPECT_EQ(::write(master, keys, sizeof keys), 6);
    });
    EXPECT_EQ(pvctl({"console", "g"}, tty), 0);
    user.join();
    EXPECT_EQ(out_.str(), "login: ");
    EXPECT_NE(err_.str().find("Ctrl-] detaches"), std::string::npos);
    // Raw while attached: no echo, no line editing, no signal keys, no CR/NL translation.
    EXPECT_FALSE(attached.c_lflag & (ICANON | ECHO | ISIG | IEXTEN));
    EXPECT_FALSE(attached.c_iflag & (ICRNL | IXON));
    // What was typed before Ctrl-] reached the domain, as typed; nothing after it.
    for (int i = 0; i < 200 && on_loop([&] { return d->console_input.size(); }) < 4; ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(on_loop([&] { return d->console_input; }), std::string("ro\x03\r"));
    termios t{};
    ASSERT_EQ(::tcgetattr(tty, &t), 0);
    EXPECT_EQ(t.c_lflag, before.c_lflag);
    EXPECT_EQ(t.c_iflag, before.c_iflag);
    EXPECT_TRUE(t.c_lflag & ICANON);
    EXPECT_TRUE(t.c_lflag & ECHO);
    EXPECT_EQ(domains(), 1u);  // detaching leaves the domain running
    ::close(tty);
    ::close(master);
}

TEST_F(ControlServerTest, PipedInputIsForwardedAndItsEndDetaches) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    auto d = wait_built(1);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    std::thread user([&] {
        std::this_thread::sleep_for(100ms);
        const char keys[] = "echo hi\n\x1d more\n";  // no escape character on a pipe
        EXPECT_EQ(::write(p[1], keys, sizeof keys - 1), static_cast<ssize_t>(sizeof keys - 1));
        ::close(p[1]);
    });
    EXPECT_EQ(pvctl({"console", "g"}, p[0]), 0);
    user.join();
    ::close(p[0]);
    EXPECT_EQ(err_.str().find("Ctrl-]"), std::string::npos);  // no hint without a terminal
    for (int i = 0; i < 200 && on_loop([&] { return d->console_input.size(); }) < 15; ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(on_loop([&] { return d->console_input; }), "echo hi\n\x1d more\n");
    EXPECT_EQ(domains(), 1u);
}

TEST_F(ControlServerTest, InputThatEndsEmptyLeavesAnOutputOnlyStream) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    auto d = wait_built(1);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    ::close(p[1]);  // like < /dev/null: at its end before anything was typed
    std::thread other([&] {
        std::this_thread::sleep_for(150ms);
        d->guest_console("still streaming\n");
        std::this_thread::sleep_for(50ms);
        destroy_elsewhere(1);
    });
    EXPECT_EQ(pvctl({"console", "g"}, p[0]), 0);
    other.join();
    ::close(p[0]);
    EXPECT_EQ(out_.str(), "still streaming\n");
    EXPECT_NE(err_.str().find("destroyed"), std::string::npos);
}

TEST_F(ControlServerTest, ForegroundCreateForwardsInputAndOutlivesItsEnd) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    std::thread guest([&] {
        auto d = wait_built(1);
        EXPECT_EQ(::write(p[1], "abc", 3), 3);
        ::close(p[1]);  // the end of input does not end -F
        for (int i = 0; i < 200 && on_loop([&] { return d->console_input; }) != "abc"; ++i)
            std::this_thread::sleep_for(10ms);
        d->guest_console("ABC\n");
        std::this_thread::sleep_for(50ms);
        d->guest_shutdown(ShutdownReason::Poweroff);
    });
    EXPECT_EQ(pvctl({"create", "-F", "-q", dir_ + "/g.cfg"}, p[0]), 0) << err_.str();
    guest.join();
    ::close(p[0]);
    EXPECT_EQ(out_.str(), "ABC\n");
    EXPECT_EQ(on_loop([&] { return factory_.last()->console_input; }), "abc");
}

TEST_F(ControlServerTest, PauseUnpauseAndTheListFlag) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    auto d = wait_built(1);
    ASSERT_EQ(pvctl({"pause", "g"}), 0) << err_.str();
    ASSERT_EQ(pvctl({"list"}), 0);
    EXPECT_NE(out_.str().find("--p---"), std::string::npos) << out_.str();
    EXPECT_EQ(pvctl({"pause", "1"}), 1);
    EXPECT_NE(err_.str().find("already paused"), std::string::npos);
    ASSERT_EQ(pvctl({"unpause", "1"}), 0) << err_.str();
    ASSERT_EQ(pvctl({"list"}), 0);
    EXPECT_NE(out_.str().find("r-----"), std::string::npos) << out_.str();
    EXPECT_EQ(pvctl({"unpause", "g"}), 1);
    EXPECT_NE(err_.str().find("is not paused"), std::string::npos);
    EXPECT_EQ(pvctl({"pause", "nope"}), 1);
    EXPECT_NE(err_.str().find("no domain named nope"), std::string::npos);
}

TEST_F(ControlServerTest, ConsoleInputNeedsAnAttachedConsole) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    auto d = wait_built(1);
    auto conn = connector_->connect(false);
    ASSERT_TRUE(conn);
    control::Request r;
    r.mutable_console_input()->set_data("x");
    auto reply = call(**conn, r);
    ASSERT_TRUE(reply);
    EXPECT_NE(reply->error().find("without an attached console"), std::string::npos);
    EXPECT_EQ(on_loop([&] { return d->console_input; }), "");
}

TEST_F(ControlServerTest, InterruptedForegroundCreateExits130AndTheDomainIsDestroyed) {
    const pthread_t me = ::pthread_self();
    std::thread user([&] {
        wait_built(1);
        std::this_thread::sleep_for(50ms);
        ::pthread_kill(me, SIGINT);  // Ctrl-C; pvctl is single-threaded, the test is not
    });
    EXPECT_EQ(pvctl({"create", "-F", "-q", dir_ + "/g.cfg"}), kExitInterrupted);
    user.join();
    for (int i = 0; i < 200 && domains() != 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(domains(), 0u);
    // The previous SIGINT disposition is back (the guard is gone).
    struct sigaction sa{};
    ::sigaction(SIGINT, nullptr, &sa);
    EXPECT_EQ(sa.sa_handler, SIG_DFL);
}

TEST_F(ControlServerTest, ForegroundDomainDiesWithItsConnection) {
    auto conn = connector_->connect(false);
    ASSERT_TRUE(conn);
    control::Request r;
    auto* c = r.mutable_create();
    c->mutable_config()->set_name("fg");
    c->mutable_config()->set_kernel("/k");
    c->mutable_config()->set_memory_mib(16);
    c->mutable_config()->set_vcpus(1);
    c->set_attach_console(true);
    c->set_destroy_on_disconnect(true);
    auto reply = call(**conn, r);
    ASSERT_TRUE(reply);
    ASSERT_TRUE(reply->has_create()) << reply->error();
    EXPECT_EQ(domains(), 1u);
    conn->reset();  // pvctl create -F killed
    for (int i = 0; i < 200 && domains() != 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(domains(), 0u);
    EXPECT_TRUE(factory_.built[0]->destroyed);
}

TEST_F(ControlServerTest, PreservedForegroundDomainGoesWhenPvctlExits) {
    std::thread guest([&] { wait_built(1)->guest_shutdown(ShutdownReason::Poweroff); });
    EXPECT_EQ(pvctl({"create", "-F", "-q", dir_ + "/g.cfg", "on_poweroff='preserve'"}), 0)
        << err_.str();
    guest.join();
    for (int i = 0; i < 200 && domains() != 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(domains(), 0u);
    // Without -F a preserved domain stays until destroyed.
    std::thread guest2([&] { wait_built(2)->guest_shutdown(ShutdownReason::Poweroff); });
    EXPECT_EQ(pvctl({"create", "-c", "-q", dir_ + "/g.cfg", "on_poweroff='preserve'"}), 0)
        << err_.str();
    guest2.join();
    EXPECT_EQ(domains(), 1u);
    ASSERT_EQ(pvctl({"list"}), 0);
    EXPECT_NE(out_.str().find("---s--"), std::string::npos) << out_.str();
}

TEST_F(ControlServerTest, XlConfigTextIsParsedByPvd) {
    auto conn = connector_->connect(false);
    control::Request r;
    auto* x = r.mutable_create()->mutable_xl_config();
    x->set_text("name='t'\nkernel='vmlinux'\nvfb=[]\n");
    x->set_path("/srv/t.cfg");
    x->add_overrides("memory=32");
    auto reply = call(**conn, r);
    ASSERT_TRUE(reply);
    ASSERT_TRUE(reply->has_create()) << reply->error();
    ASSERT_EQ(reply->warnings_size(), 1);
    EXPECT_EQ(reply->warnings(0), "/srv/t.cfg:3: warning: key vfb is not supported yet, ignored");
    EXPECT_EQ(factory_.last()->config.kernel, "/srv/vmlinux");
    EXPECT_EQ(factory_.last()->config.memory_mib, 32u);
    x->set_text("name='u'\nmemory=[\n");
    reply = call(**conn, r);
    ASSERT_TRUE(reply);
    EXPECT_NE(reply->error().find("/srv/t.cfg:2: unterminated [ list ]"), std::string::npos)
        << reply->error();
}

TEST_F(ControlServerTest, WireConfigsAreValidated) {
    auto conn = connector_->connect(false);
    control::Request r;
    r.mutable_create()->mutable_config()->set_name("ok");
    r.mutable_create()->mutable_config()->set_kernel("relative");
    auto reply = call(**conn, r);
    ASSERT_TRUE(reply);
    EXPECT_NE(reply->error().find("memory must be"), std::string::npos) << reply->error();
}

TEST_F(ControlServerTest, EmptyAndMalformedRequests) {
    auto fd = connect_unix(socket_path(dir_));
    ASSERT_TRUE(fd);
    UnixControlConnection conn(std::move(*fd));
    auto reply = call(conn, control::Request{});
    ASSERT_TRUE(reply);
    EXPECT_NE(reply->error().find("unknown or empty request"), std::string::npos);
    // A body that is not a Request: error reply, then pvd hangs up.
    auto raw = connect_unix(socket_path(dir_));
    const char junk[] = {3, 0, 0, 0, '\xff', '\xff', '\xff'};
    ASSERT_EQ(::send(raw->get(), junk, sizeof junk, MSG_NOSIGNAL),
              static_cast<ssize_t>(sizeof junk));
    UnixControlConnection c2(std::move(*raw));
    auto in = c2.receive(-1);
    ASSERT_TRUE(in);
    ASSERT_EQ(in->kind, Incoming::Kind::Message);
    EXPECT_EQ(in->message.error(), "malformed request");
    in = c2.receive(-1);
    ASSERT_TRUE(in);
    EXPECT_EQ(in->kind, Incoming::Kind::Closed);
}

TEST_F(ControlServerTest, OversizeFrameClosesTheConnection) {
    auto raw = connect_unix(socket_path(dir_));
    ASSERT_TRUE(raw);
    const char hdr[] = {0, 0, 0, 0x7f};  // 2 GiB announced
    ASSERT_EQ(::send(raw->get(), hdr, sizeof hdr, MSG_NOSIGNAL), 4);
    UnixControlConnection c(std::move(*raw));
    auto in = c.receive(-1);
    ASSERT_TRUE(in);
    EXPECT_EQ(in->kind, Incoming::Kind::Closed);
    EXPECT_EQ(pvctl({"list"}), 0);  // pvd is fine
}

TEST_F(ControlServerTest, InfoAndTop) {
    ASSERT_EQ(pvctl({"info"}), 0) << err_.str();
    EXPECT_NE(out_.str().find("domain builder : fake"), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("kvm            : fake"), std::string::npos) << out_.str();
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    {
        auto d = wait_built(1);
        std::lock_guard l(d->mu);
        d->counters.exits["io"] = 42;
        d->counters.hypercalls["console_io"] = 7;
    }
    ASSERT_EQ(pvctl({"top"}), 0);
    EXPECT_NE(out_.str().find("g (id 1)"), std::string::npos);
    EXPECT_NE(out_.str().find("42"), std::string::npos);
    EXPECT_NE(out_.str().find("console_io"), std::string::npos);
}

TEST_F(ControlServerTest, DebugDumpByNameAndId) {
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/g.cfg"}), 0);
    {
        auto d = wait_built(1);
        std::lock_guard l(d->mu);
        d->debug_text = "d1 event channels (2-level): 0 ports in use\n";
    }
    ASSERT_EQ(pvctl({"debug-dump", "g"}), 0) << err_.str();
    EXPECT_EQ(out_.str(), "d1 event channels (2-level): 0 ports in use\n");
    ASSERT_EQ(pvctl({"debug-dump", "1"}), 0) << err_.str();
    EXPECT_NE(out_.str().find("event channels"), std::string::npos);
    EXPECT_EQ(pvctl({"debug-dump", "nope"}), 1);
    EXPECT_NE(err_.str().find("no domain named nope"), std::string::npos);
    EXPECT_EQ(pvctl({"debug-dump", "9"}), 1);
    EXPECT_NE(err_.str().find("no domain with id 9"), std::string::npos);
}

TEST_F(ControlServerTest, DevicesFromTheConfigAndHotplugThroughPvctl) {
    std::ofstream(dir_ + "/d.cfg") << "name = 'd'\nkernel = '/boot/vmlinux'\n"
                                   << "disk = [ 'a.raw,raw,xvda,rw' ]\nvif = [ 'bridge=br0' ]\n";
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/d.cfg"}), 0) << err_.str();
    auto d = wait_built(1);
    {
        std::lock_guard l(d->mu);
        ASSERT_EQ(d->disks.size(), 1u);
        EXPECT_EQ(d->disks[0].target, dir_ + "/a.raw");
        ASSERT_EQ(d->vifs.size(), 1u);
        EXPECT_EQ(d->vifs[0].devid, 0u);
        EXPECT_TRUE(d->vifs[0].mac.starts_with("00:16:3e:"));
    }
    ASSERT_EQ(pvctl({"block-attach", "d", "c.raw,,xvdc"}), 0) << err_.str();
    EXPECT_EQ(pvctl({"block-attach", "d", "/x.raw,,51744"}), 1);  // xvdc again
    EXPECT_NE(err_.str().find("two disks are virtual device"), std::string::npos) << err_.str();
    ASSERT_EQ(pvctl({"network-attach", "d", "bridge=br1", "mac=00:16:3e:00:00:42"}), 0) << err_.str();
    ASSERT_EQ(pvctl({"block-list", "d"}), 0);
    EXPECT_NE(out_.str().find("51712 0   1      4"), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("/local/domain/0/backend/vbd/1/51744"), std::string::npos);
    ASSERT_EQ(pvctl({"network-list", "1"}), 0);
    EXPECT_NE(out_.str().find("1   0  00:16:3e:00:00:42"), std::string::npos) << out_.str();
    ASSERT_EQ(pvctl({"list", "-l"}), 0);
    EXPECT_NE(out_.str().find(dir_ + "/c.raw"), std::string::npos) << out_.str();
    ASSERT_EQ(pvctl({"top"}), 0);
    EXPECT_NE(out_.str().find("vbd xvda"), std::string::npos) << out_.str();

    ASSERT_EQ(pvctl({"block-detach", "d", "xvdc"}), 0) << err_.str();
    ASSERT_EQ(pvctl({"network-detach", "d", "00:16:3e:00:00:42"}), 0) << err_.str();
    EXPECT_EQ(pvctl({"network-detach", "d", "9"}), 1);
    EXPECT_NE(err_.str().find("has no vif 9"), std::string::npos);
    std::lock_guard l(d->mu);
    EXPECT_EQ(d->disks.size(), 1u);
    EXPECT_EQ(d->vifs.size(), 1u);
}

TEST_F(ControlServerTest, BlockDetachAnswersOnceTheDeviceIsGone) {
    std::ofstream(dir_ + "/d.cfg") << "name = 'd'\nkernel = '/boot/vmlinux'\ndisk = [ '/a.raw,,xvda' ]\n";
    ASSERT_EQ(pvctl({"create", "-q", dir_ + "/d.cfg"}), 0) << err_.str();
    auto d = wait_built(1);
    {
        std::lock_guard l(d->mu);
        d->detach_at_once = false;
    }
    auto detach = std::async(std::launch::async, [this] { return pvctl({"block-detach", "d", "51712"}); });
    back::DetachDone done;
    for (int i = 0; i < 500 && !done; ++i) {
        std::this_thread::sleep_for(10ms);
        std::lock_guard l(d->mu);
        if (!d->detaches.empty()) done = std::move(d->detaches[0].done);
    }
    ASSERT_TRUE(done);
    EXPECT_EQ(detach.wait_for(50ms), std::future_status::timeout);  // still waiting for the guest
    on_loop([&] { done(back::DetachOutcome{true, "the front-end did not close in time"}); });
    EXPECT_EQ(detach.get(), 0);
    EXPECT_NE(err_.str().find("without the guest's consent: the front-end did not close in time"),
              std::string::npos)
        << err_.str();
    on_loop([this] { EXPECT_TRUE(manager_->list()[0].devices.disks.empty()); });
}

TEST_F(ControlServerTest, SecondServerRefusesAndStaleSocketsAreRemoved) {
    auto claim = claim_socket_path(socket_path(dir_));
    ASSERT_FALSE(claim);
    EXPECT_NE(claim.error().message.find("another pvd is already listening"), std::string::npos);
    auto lock1 = lock_runtime_dir(dir_);
    ASSERT_TRUE(lock1);
    auto lock2 = lock_runtime_dir(dir_);
    ASSERT_FALSE(lock2);
    EXPECT_NE(lock2.error().message.find("another pvd is running"), std::string::npos);

    // A socket file nobody listens on is stale.
    const std::string stale = dir_ + "/stale.sock";
    {
        int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, stale.c_str());
        ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ::close(s);
    }
    EXPECT_TRUE(claim_socket_path(stale));
    EXPECT_FALSE(std::filesystem::exists(stale));
    std::ofstream(dir_ + "/file.sock") << "x";
    EXPECT_FALSE(claim_socket_path(dir_ + "/file.sock"));
}

TEST_F(ControlServerTest, SocketIsPrivate) {
    struct stat st {};
    ASSERT_EQ(::stat(socket_path(dir_).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace pvhv::dom0
