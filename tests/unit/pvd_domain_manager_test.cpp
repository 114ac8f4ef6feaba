// Unit tests of pvd's domain manager against fake domains: ids, names, actions, posting.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dom0-tools/pvd/domain_manager.h"
#include "dom0-tools/pvd/exit_codes.h"
#include "dom0-tools/pvd/testing/fake_domain.h"

namespace pvhv::dom0 {
namespace {

using testing::FakeFactory;

struct RecordingWatcher : DomainWatcher {
    std::string console;
    std::vector<std::pair<DomId, DomId>> restarts;
    std::vector<ExitInfo> exits;
    void on_console(DomId, std::string_view b) override { console += b; }
    void on_restarted(DomId o, DomId n, ShutdownReason, const std::string&) override {
        restarts.emplace_back(o, n);
    }
    void on_exited(DomId, const ExitInfo& i) override { exits.push_back(i); }
};

class DomainManagerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("pvd_mgr_test." + std::to_string(::getpid()) + "." +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        mgr_ = std::make_unique<DomainManager>(io_, factory_,
                                               ManagerOptions{(dir_ / "console").string()});
    }
    void TearDown() override {
        mgr_.reset();
        std::filesystem::remove_all(dir_);
    }

    static DomainConfig config(const std::string& name) {
        DomainConfig c;
        c.name = name;
        c.kernel = "/boot/vmlinux";
        return c;
    }
    // Runs what observer callbacks posted.
    void drain() {
        io_.restart();
        io_.poll();
    }
    // Calls from another thread, as a vCPU thread would.
    template <class F>
    void from_vcpu_thread(F f) {
        std::thread t(f);
        t.join();
    }

    boost::asio::io_context io_;
    FakeFactory factory_;
    std::filesystem::path dir_;
    std::unique_ptr<DomainManager> mgr_;
};

TEST_F(DomainManagerTest, DomidsStartAtOneAndAreNotReusedAtOnce) {
    auto a = mgr_->create(config("a"), nullptr);
    auto b = mgr_->create(config("b"), nullptr);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->value, 1);
    EXPECT_EQ(b->value, 2);
    ASSERT_TRUE(mgr_->destroy(*a, "test"));
    auto c = mgr_->create(config("c"), nullptr);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->value, 3);
    EXPECT_TRUE(factory_.built[0]->destroyed);
    EXPECT_TRUE(factory_.built[1]->started);
}

TEST_F(DomainManagerTest, NamesAreUnique) {
    ASSERT_TRUE(mgr_->create(config("web"), nullptr));
    auto again = mgr_->create(config("web"), nullptr);
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
    EXPECT_EQ(mgr_->size(), 1u);
    EXPECT_EQ(factory_.built.size(), 1u);  // refused before building anything
    EXPECT_EQ(mgr_->find_by_name("web")->value, 1);
    EXPECT_FALSE(mgr_->find_by_name("nope"));
}

TEST_F(DomainManagerTest, InvalidConfigIsRefused) {
    auto c = config("x");
    c.kernel = "relative/vmlinux";
    EXPECT_FALSE(mgr_->create(c, nullptr));
    c = config("7");
    EXPECT_FALSE(mgr_->create(c, nullptr));
}

TEST_F(DomainManagerTest, CreateAndStartFailuresLeaveNothingBehind) {
    factory_.fail_create = true;
    auto r = mgr_->create(config("a"), nullptr);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("fake create failure"), std::string::npos);
    factory_.fail_create = false;
    factory_.fail_start = true;
    auto s = mgr_->create(config("a"), nullptr);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("cannot start domain a"), std::string::npos);
    EXPECT_TRUE(factory_.last()->destroyed);
    EXPECT_EQ(mgr_->size(), 0u);
    drain();  // the Dying/Dead callbacks of the failed domain find nothing
    factory_.fail_start = false;
    EXPECT_TRUE(mgr_->create(config("a"), nullptr));
}

TEST_F(DomainManagerTest, ObserverCallbacksArePostedToTheLoop) {
    auto w = std::make_shared<RecordingWatcher>();
    auto id = mgr_->create(config("a"), w);
    ASSERT_TRUE(id);
    auto dom = factory_.last();
    from_vcpu_thread([&] { dom->guest_console("hello "); });
    from_vcpu_thread([&] { dom->guest_console("world\n"); });
    EXPECT_EQ(w->console, "");  // nothing ran on the vCPU thread
    drain();
    EXPECT_EQ(w->console, "hello world\n");
    std::ifstream log(dir_ / "console" / "a.log");
    std::stringstream ss;
    ss << log.rdbuf();
    EXPECT_EQ(ss.str(), "hello world\n");
}

TEST_F(DomainManagerTest, ByteAtATimeOutputIsCoalescedOnTheLoop) {
    auto w = std::make_shared<RecordingWatcher>();
    ASSERT_TRUE(mgr_->create(config("a"), w));
    drain();  // the Running state change
    auto dom = factory_.last();
    const std::string text = "a UART writes one byte per exit\n";
    from_vcpu_thread([&] {
        for (char c : text) dom->guest_console(std::string_view(&c, 1));
    });
    io_.restart();
    EXPECT_EQ(io_.poll(), 1u);  // one handler for the whole burst, not one per byte
    EXPECT_EQ(w->console, text);
}

TEST_F(DomainManagerTest, OutputFlushedWhileDestroyingComesBeforeTheExit) {
    struct OrderWatcher : RecordingWatcher {
        std::string console_at_exit;
        void on_exited(DomId id, const ExitInfo& i) override {
            console_at_exit = console;
            RecordingWatcher::on_exited(id, i);
        }
    };
    auto w = std::make_shared<OrderWatcher>();
    auto id = mgr_->create(config("a"), w);
    ASSERT_TRUE(id);
    factory_.last()->console_on_destroy = "last line from the ring\n";
    ASSERT_TRUE(mgr_->destroy(*id, "test"));
    EXPECT_EQ(w->console_at_exit, "last line from the ring\n");
    ASSERT_EQ(w->exits.size(), 1u);
    drain();  // nothing left over for a domain that is gone
    EXPECT_EQ(w->console, "last line from the ring\n");
}

TEST_F(DomainManagerTest, PauseAndUnpauseFollowTheState) {
    auto id = mgr_->create(config("a"), nullptr);
    ASSERT_TRUE(id);
    auto dom = factory_.last();
    ASSERT_TRUE(mgr_->pause(*id));
    EXPECT_EQ(mgr_->list()[0].state, DomainState::Paused);
    auto again = mgr_->pause(*id);
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("already paused"), std::string::npos);
    ASSERT_TRUE(mgr_->unpause(*id));
    EXPECT_EQ(mgr_->list()[0].state, DomainState::Running);
    auto not_paused = mgr_->unpause(*id);
    ASSERT_FALSE(not_paused);
    EXPECT_NE(not_paused.error().message.find("is not paused (running)"), std::string::npos);
    drain();  // Paused/Running reports change nothing in the manager
    EXPECT_EQ(mgr_->size(), 1u);
    from_vcpu_thread([&] { dom->guest_shutdown(ShutdownReason::Poweroff); });
    auto c2 = config("b");
    c2.on_poweroff = ShutdownAction::Preserve;
    auto b = mgr_->create(c2, nullptr);
    ASSERT_TRUE(b);
    from_vcpu_thread([&] { factory_.last()->guest_shutdown(ShutdownReason::Poweroff); });
    drain();
    auto stopped = mgr_->pause(*b);
    ASSERT_FALSE(stopped);
    EXPECT_NE(stopped.error().message.find("domain b is not running (shutdown)"), std::string::npos);
    EXPECT_EQ(mgr_->pause(DomId{77}).error().xen_errno, XEN_ESRCH);
}

TEST_F(DomainManagerTest, PoweroffWithDestroyActionEndsTheDomain) {
    auto w = std::make_shared<RecordingWatcher>();
    bool empty = false;
    mgr_->set_on_empty([&] { empty = true; });
    ASSERT_TRUE(mgr_->create(config("a"), w));
    auto dom = factory_.last();
    from_vcpu_thread([&] { dom->guest_shutdown(ShutdownReason::Poweroff); });
    EXPECT_EQ(mgr_->size(), 1u);
    drain();
    EXPECT_EQ(mgr_->size(), 0u);
    EXPECT_TRUE(dom->destroyed);
    EXPECT_TRUE(empty);
    ASSERT_EQ(w->exits.size(), 1u);
    EXPECT_EQ(w->exits[0].reason, ShutdownReason::Poweroff);
    EXPECT_EQ(w->exits[0].exit_code, 0);
    EXPECT_FALSE(w->exits[0].destroyed);
}

TEST_F(DomainManagerTest, CrashExitCodeIsThree) {
    auto w = std::make_shared<RecordingWatcher>();
    ASSERT_TRUE(mgr_->create(config("a"), w));
    auto dom = factory_.last();
    from_vcpu_thread([&] { dom->guest_shutdown(ShutdownReason::Crash); });
    drain();
    ASSERT_EQ(w->exits.size(), 1u);
    EXPECT_EQ(w->exits[0].exit_code, 3);
}

TEST_F(DomainManagerTest, RebootRestartsWithANewDomidAndKeepsWatchers) {
    auto w = std::make_shared<RecordingWatcher>();
    auto id = mgr_->create(config("a"), w);  // on_reboot defaults to restart
    ASSERT_TRUE(id);
    auto first = factory_.last();
    from_vcpu_thread([&] { first->guest_shutdown(ShutdownReason::Reboot); });
    drain();
    ASSERT_EQ(factory_.built.size(), 2u);
    auto second = factory_.last();
    EXPECT_TRUE(first->destroyed);
    EXPECT_TRUE(second->started);
    EXPECT_EQ(second->config.name, "a");
    ASSERT_EQ(w->restarts.size(), 1u);
    EXPECT_EQ(w->restarts[0].first, *id);
    EXPECT_EQ(w->restarts[0].second, second->id);
    EXPECT_NE(second->id, *id);
    EXPECT_TRUE(w->exits.empty());
    // The watcher follows the new incarnation.
    from_vcpu_thread([&] { second->guest_console("again"); });
    drain();
    EXPECT_EQ(w->console, "again");
    EXPECT_EQ(mgr_->find_by_name("a")->value, second->id.value);
}

TEST_F(DomainManagerTest, RestartLoopsAreCutOff) {
    auto w = std::make_shared<RecordingWatcher>();
    auto c = config("a");
    c.on_crash = ShutdownAction::Restart;
    ASSERT_TRUE(mgr_->create(c, w));
    for (int i = 0; i < 10 && mgr_->size() > 0; ++i) {
        auto d = factory_.last();
        from_vcpu_thread([&] { d->guest_shutdown(ShutdownReason::Crash); });
        drain();
    }
    EXPECT_EQ(mgr_->size(), 0u);
    EXPECT_EQ(w->restarts.size(), 5u);  // ManagerOptions::max_restarts
    ASSERT_EQ(w->exits.size(), 1u);
    EXPECT_EQ(w->exits[0].exit_code, 3);
    EXPECT_NE(w->exits[0].detail.find("restarting too often"), std::string::npos);
}

TEST_F(DomainManagerTest, PreserveKeepsTheDomainUntilDestroyed) {
    auto w = std::make_shared<RecordingWatcher>();
    auto c = config("a");
    c.on_poweroff = ShutdownAction::Preserve;
    auto id = mgr_->create(c, w);
    auto dom = factory_.last();
    from_vcpu_thread([&] { dom->guest_shutdown(ShutdownReason::Poweroff); });
    drain();
    EXPECT_EQ(mgr_->size(), 1u);
    EXPECT_FALSE(dom->destroyed);
    ASSERT_EQ(w->exits.size(), 1u);  // the stream ends: the guest stopped running
    auto l = mgr_->list();
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0].state, DomainState::Shutdown);
    EXPECT_EQ(l[0].shutdown_reason, ShutdownReason::Poweroff);
    // A later console attach hears at once that it is over.
    auto late = std::make_shared<RecordingWatcher>();
    ASSERT_TRUE(mgr_->watch(*id, late, true));
    EXPECT_TRUE(late->exits.empty());
    drain();
    ASSERT_EQ(late->exits.size(), 1u);
    EXPECT_EQ(late->exits[0].exit_code, 0);
    ASSERT_TRUE(mgr_->destroy(*id, "test"));
    EXPECT_TRUE(dom->destroyed);
    EXPECT_EQ(mgr_->size(), 0u);
}

TEST_F(DomainManagerTest, RenameRestartKeepsTheOldOneUnderANewName) {
    auto c = config("a");
    c.on_crash = ShutdownAction::RenameRestart;
    auto id = mgr_->create(c, nullptr);
    auto first = factory_.last();
    from_vcpu_thread([&] { first->guest_shutdown(ShutdownReason::Crash); });
    drain();
    ASSERT_EQ(mgr_->size(), 2u);
    EXPECT_FALSE(first->destroyed);
    EXPECT_EQ(mgr_->name_of(*id).rfind("a--", 0), 0u);
    EXPECT_EQ(mgr_->find_by_name("a")->value, factory_.last()->id.value);
}

TEST_F(DomainManagerTest, DestroyNotifiesWatchersWithCode125) {
    auto w = std::make_shared<RecordingWatcher>();
    auto id = mgr_->create(config("a"), w);
    ASSERT_TRUE(mgr_->destroy(*id, "test"));
    ASSERT_EQ(w->exits.size(), 1u);
    EXPECT_TRUE(w->exits[0].destroyed);
    EXPECT_EQ(w->exits[0].exit_code, kExitDestroyed);
    EXPECT_FALSE(mgr_->destroy(*id, "again"));
    drain();  // late Dying/Dead callbacks of the destroyed domain are ignored
    EXPECT_EQ(w->exits.size(), 1u);
}

TEST_F(DomainManagerTest, DomainThatDiesOnItsOwnIsReported) {
    auto w = std::make_shared<RecordingWatcher>();
    auto id = mgr_->create(config("a"), w);
    auto dom = factory_.last();
    from_vcpu_thread([&] { dom->observer->state_changed(*id, DomainState::Dead, std::nullopt); });
    drain();
    EXPECT_EQ(mgr_->size(), 0u);
    ASSERT_EQ(w->exits.size(), 1u);
    EXPECT_EQ(w->exits[0].exit_code, kExitDestroyed);
}

TEST_F(DomainManagerTest, ShutdownWithoutPvControlIsAClearError) {
    auto id = mgr_->create(config("a"), nullptr);
    auto r = mgr_->shutdown(*id, ShutdownReason::Poweroff);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().xen_errno, XEN_EOPNOTSUPP);
    EXPECT_EQ(r.error().message,
              "domain a has no PV control interface (it has not talked to xenstore); use -F to "
              "stop it anyway, or destroy");
    factory_.pv_control = true;
    auto id2 = mgr_->create(config("b"), nullptr);
    ASSERT_TRUE(mgr_->shutdown(*id2, ShutdownReason::Poweroff));
    EXPECT_EQ(factory_.last()->shutdown_requests.size(), 1u);
}

TEST_F(DomainManagerTest, ForcedPoweroffDestroys) {
    auto w = std::make_shared<RecordingWatcher>();
    auto id = mgr_->create(config("a"), w);
    ASSERT_TRUE(id);
    ASSERT_TRUE(mgr_->force_shutdown(*id, ShutdownReason::Poweroff, "test"));
    EXPECT_EQ(mgr_->size(), 0u);
    ASSERT_EQ(w->exits.size(), 1u);
    EXPECT_EQ(w->exits[0].exit_code, kExitDestroyed);
    EXPECT_TRUE(factory_.last()->destroyed);
    EXPECT_FALSE(mgr_->force_shutdown(*id, ShutdownReason::Poweroff, "again"));
}

TEST_F(DomainManagerTest, ForcedRebootResetsThroughOnReboot) {
    auto w = std::make_shared<RecordingWatcher>();
    auto c = config("a");
    c.on_reboot = ShutdownAction::Restart;
    auto id = mgr_->create(c, w);
    ASSERT_TRUE(id);
    auto first = factory_.last();
    ASSERT_TRUE(mgr_->force_shutdown(*id, ShutdownReason::Reboot, "test"));
    drain();  // the old domain's Dying/Dead arrive and are ignored
    EXPECT_TRUE(first->destroyed);
    ASSERT_EQ(w->restarts.size(), 1u);
    EXPECT_EQ(w->restarts[0].first, *id);
    EXPECT_EQ(mgr_->size(), 1u);
    EXPECT_TRUE(mgr_->exists(w->restarts[0].second));
    EXPECT_TRUE(w->exits.empty());

    c.name = "b";
    c.on_reboot = ShutdownAction::Destroy;
    auto id2 = mgr_->create(c, w);
    ASSERT_TRUE(mgr_->force_shutdown(*id2, ShutdownReason::Reboot, "test"));
    ASSERT_EQ(w->exits.size(), 1u);
    EXPECT_EQ(w->exits[0].reason, ShutdownReason::Reboot);
}

TEST_F(DomainManagerTest, ExpiredWatchersAreSkipped) {
    auto w = std::make_shared<RecordingWatcher>();
    ASSERT_TRUE(mgr_->create(config("a"), w));
    w.reset();
    auto dom = factory_.last();
    from_vcpu_thread([&] {
        dom->guest_console("x");
        dom->guest_shutdown(ShutdownReason::Poweroff);
    });
    drain();
    EXPECT_EQ(mgr_->size(), 0u);
}

TEST_F(DomainManagerTest, CallbacksAfterTheManagerIsGoneAreHarmless) {
    ASSERT_TRUE(mgr_->create(config("a"), nullptr));
    auto dom = factory_.last();
    dom->guest_console("late");
    mgr_.reset();  // destroys the domain; the posted handler must not touch the manager
    EXPECT_TRUE(dom->destroyed);
    drain();
}

TEST_F(DomainManagerTest, ListReportsConfigAndState) {
    auto c = config("a");
    c.memory_mib = 64;
    c.vcpus = 2;
    ASSERT_TRUE(mgr_->create(c, nullptr));
    auto l = mgr_->list();
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0].name, "a");
    EXPECT_EQ(l[0].state, DomainState::Running);
    EXPECT_EQ(l[0].config.memory_mib, 64u);
    EXPECT_EQ(l[0].transport, "pio");
    EXPECT_EQ(l[0].console_log, (dir_ / "console" / "a.log").string());
}

TEST_F(DomainManagerTest, DebugDumpComesFromTheDomain) {
    auto a = mgr_->create(config("a"), nullptr);
    ASSERT_TRUE(a);
    auto text = mgr_->debug_dump(*a);
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "fake PV state\n");
    EXPECT_EQ(mgr_->debug_dump(DomId{99}).error().xen_errno, XEN_ESRCH);
}

}  // namespace
}  // namespace pvhv::dom0
