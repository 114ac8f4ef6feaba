// What pvctl says when pvd dies under it: a real pvd stand-in (a forked process serving the control
// socket) is killed with SIGKILL while `pvctl create -F` streams its domain's console; and what
// `pvctl list` / `destroy` say afterwards, when only the stale socket is left.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "dom0-tools/pvctl/commands.h"
#include "dom0-tools/pvd/exit_codes.h"
#include "dom0-tools/pvd/framing.h"
#include "dom0-tools/pvd/runtime_dir.h"

namespace pvhv::dom0 {
namespace {

using namespace std::chrono_literals;

class LostPvdTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = "/tmp/pvctl_lost." + std::to_string(::getpid()) + "." + std::to_string(counter_++);
        std::filesystem::remove_all(dir_);
        ASSERT_TRUE(ensure_private_dir(dir_));
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    int pvctl(std::vector<std::string> args) {
        out_.str("");
        err_.str("");
        UnixConnector connector(dir_, nullptr);
        CliEnv env{out_, err_, connector, dir_, -1, [](const std::string&) -> Result<std::string> {
                       return std::string("name = 'g'\nkernel = '/boot/vmlinux'\n");
                   }};
        return dispatch(pvctl_commands(), args, env);
    }

    // A socket bound at pvd's path; returns the fd (listening if `listen`).
    int bind_socket(bool listen) {
        int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, socket_path(dir_).c_str());
        EXPECT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        if (listen) {
            EXPECT_EQ(::listen(s, 4), 0);
        }
        return s;
    }

    static inline int counter_ = 0;
    std::string dir_;
    std::ostringstream out_, err_;
};

TEST_F(LostPvdTest, CreateForegroundSaysPvdExitedWhenItIsKilled) {
    int sync[2];
    ASSERT_EQ(::pipe(sync), 0);
    const pid_t pvd = ::fork();
    ASSERT_GE(pvd, 0);
    if (pvd == 0) {
        // The stand-in listens itself (SO_PEERCRED names the process that called listen()),
        // answers the create, tells the parent, then runs until killed.
        const int lsock = bind_socket(true);
        if (::write(sync[1], "L", 1) != 1) ::_exit(1);
        const int c = ::accept(lsock, nullptr, nullptr);
        char buf[4096];
        if (c < 0 || ::read(c, buf, sizeof buf) <= 0) ::_exit(1);
        control::Response r;
        r.mutable_create()->set_domid(1);
        r.mutable_create()->set_name("g");
        auto frame = encode_frame(r);
        if (!frame || ::write(c, frame->data(), frame->size()) != ssize_t(frame->size()))
            ::_exit(1);
        if (::write(sync[1], "S", 1) != 1) ::_exit(1);
        for (;;) ::pause();
    }
    ::close(sync[1]);
    char ready = 0;
    ASSERT_EQ(::read(sync[0], &ready, 1), 1);
    std::thread killer([&] {
        char x;
        if (::read(sync[0], &x, 1) == 1) ::kill(pvd, SIGKILL);  // not reaped: a zombie for now
    });
    const int rc = pvctl({"create", "-F", "g.cfg"});
    killer.join();
    ::close(sync[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pvd, &status, 0), pvd);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(rc, kExitDestroyed) << err_.str();
    const std::string want =
        "pvctl: pvd (pid " + std::to_string(pvd) + ") exited: lost domain g (id=1)";
    EXPECT_NE(err_.str().find(want), std::string::npos) << err_.str();
    EXPECT_NE(err_.str().find(pvd_log_path(dir_)), std::string::npos) << err_.str();
}

TEST_F(LostPvdTest, ListAndDestroySayTheSocketIsLeftFromADeadPvd) {
    ::close(bind_socket(false));  // what SIGKILL leaves: the socket file, nobody listening
    EXPECT_EQ(pvctl({"list"}), 0);
    EXPECT_NE(err_.str().find("pvd is not running"), std::string::npos) << err_.str();
    EXPECT_NE(err_.str().find("left from a pvd that ended without removing it"), std::string::npos)
        << err_.str();
    EXPECT_EQ(pvctl({"destroy", "g"}), kExitFailure);
    EXPECT_NE(err_.str().find("left from a pvd that ended without removing it"), std::string::npos)
        << err_.str();
    std::filesystem::remove(socket_path(dir_));
    EXPECT_EQ(pvctl({"list"}), 0);
    EXPECT_NE(err_.str().find("pvd is not running"), std::string::npos) << err_.str();
    EXPECT_EQ(err_.str().find("left from"), std::string::npos) << err_.str();
}

TEST(ProcessGone, ZombiesAndReapedProcessesAreGoneTheLivingAreNot) {
    EXPECT_FALSE(process_gone(::getpid()));
    EXPECT_FALSE(process_gone(0));
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    bool zombie = false;
    for (int i = 0; i < 500 && !zombie; ++i) {
        zombie = process_gone(child);
        if (!zombie) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(zombie);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);
    EXPECT_TRUE(process_gone(child));
}

}  // namespace
}  // namespace pvhv::dom0
