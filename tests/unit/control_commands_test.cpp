// Unit tests of pvctl's command table: dispatch, usage errors, requests sent, output, exit codes.
#include <gtest/gtest.h>

#include <deque>
#include <sstream>

#include "dom0-tools/pvctl/cli_format.h"
#include "dom0-tools/pvctl/commands.h"
#include "dom0-tools/pvd/exit_codes.h"

namespace pvhv::dom0 {
namespace {

// Replays scripted Incoming events and records what pvctl sent.
struct Script {
    std::vector<control::Request> sent;
    std::deque<Incoming> replies;
    bool pvd_running = true;
    std::vector<bool> connects;  // start_pvd flag of each connect()
    PeerInfo peer;               // what the connection says of pvd's process
    bool peer_exited = false;    // whether that process is gone once the stream ends
};

class FakeConnection final : public ControlConnection {
  public:
    explicit FakeConnection(Script& s) : s_(s) {}
    Result<void> send(const control::Request& r) override {
        s_.sent.push_back(r);
        return {};
    }
    Result<Incoming> receive(int) override {
        if (s_.replies.empty()) return Incoming{Incoming::Kind::Closed, {}};
        Incoming in = std::move(s_.replies.front());
        s_.replies.pop_front();
        return in;
    }
    PeerInfo peer() const override { return s_.peer; }
    bool peer_exited(std::chrono::milliseconds) override { return s_.peer_exited; }

  private:
    Script& s_;
};

class FakeConnector final : public ControlConnector {
  public:
    explicit FakeConnector(Script& s) : s_(s) {}
    Result<std::unique_ptr<ControlConnection>> connect(bool start_pvd) override {
        s_.connects.push_back(start_pvd);
        if (!s_.pvd_running && !start_pvd)
            return fail(XEN_ENOENT, "pvd is not running (nothing listens on /x)");
        return std::unique_ptr<ControlConnection>(std::make_unique<FakeConnection>(s_));
    }

  private:
    Script& s_;
};

Incoming msg(control::Response r) {
    return Incoming{Incoming::Kind::Message, std::move(r)};
}

class CommandsTest : public ::testing::Test {
  protected:
    int run(std::vector<std::string> args) {
        out_.str("");
        err_.str("");
        CliEnv env{out_,
                   err_,
                   connector_,
                   "/work",
                   -1,
                   [this](const std::string& p) -> Result<std::string> {
                       auto it = files_.find(p);
                       if (it == files_.end())
                           return fail(XEN_ENOENT, "cannot read " + p + ": No such file");
                       return it->second;
                   }};
        return dispatch(pvctl_commands(), args, env);
    }

    static control::Response created(uint32_t id, const std::string& name) {
        control::Response r;
        r.mutable_create()->set_domid(id);
        r.mutable_create()->set_name(name);
        return r;
    }

    Script script_;
    FakeConnector connector_{script_};
    std::ostringstream out_, err_;
    std::map<std::string, std::string> files_ = {
        {"g.cfg", "name = 'g'\nkernel = 'vmlinux'\nmemory = 64\n"},
        {"bad.cfg", "name = 'g'\nkernel = '/k'\nmemory = 'x'\nfoo = 1\n"},
    };
};

TEST_F(CommandsTest, NoCommandPrintsTheListAndFails) {
    EXPECT_EQ(run({}), 2);
    EXPECT_NE(err_.str().find("create"), std::string::npos);
}

TEST_F(CommandsTest, UnknownCommand) {
    EXPECT_EQ(run({"frob"}), 2);
    EXPECT_NE(err_.str().find("unknown command 'frob'"), std::string::npos);
}

TEST_F(CommandsTest, HelpListsEveryCommandWithItsLine) {
    EXPECT_EQ(run({"help"}), 0);
    for (const auto& c : pvctl_commands()) {
        EXPECT_NE(out_.str().find(std::string(c.name)), std::string::npos) << c.name;
        EXPECT_NE(out_.str().find(std::string(c.help)), std::string::npos) << c.name;
    }
    EXPECT_EQ(run({"help", "shutdown"}), 0);
    EXPECT_NE(out_.str().find("usage: pvctl shutdown [-w] [-F] [-t SECONDS] DOMAIN"),
              std::string::npos);
    EXPECT_EQ(run({"help", "nope"}), 2);
    EXPECT_EQ(run({"--help"}), 0);
    EXPECT_EQ(run({"destroy", "--help"}), 0);
    EXPECT_NE(out_.str().find("usage: pvctl destroy DOMAIN"), std::string::npos);
    EXPECT_TRUE(script_.connects.empty());
}

TEST_F(CommandsTest, UsageErrorsPrintUsageAndUseTheCommandsCode) {
    EXPECT_EQ(run({"destroy"}), 2);
    EXPECT_NE(err_.str().find("usage: pvctl destroy DOMAIN"), std::string::npos);
    EXPECT_EQ(run({"destroy", "a", "b"}), 2);
    EXPECT_EQ(run({"list", "-x"}), 2);
    EXPECT_NE(err_.str().find("pvctl list: unknown option -x"), std::string::npos);
    EXPECT_EQ(run({"list", "extra"}), 2);
    EXPECT_EQ(run({"console"}), 2);
    EXPECT_EQ(run({"shutdown", "-wq", "a"}), 2);
    // create's usage errors are create failures: 126, never a guest exit code.
    EXPECT_EQ(run({"create"}), kExitCreateFailed);
    EXPECT_EQ(run({"create", "-Z", "g.cfg"}), kExitCreateFailed);
    EXPECT_EQ(run({"create", "g.cfg", "notanoverride"}), kExitCreateFailed);
    EXPECT_NE(err_.str().find("expected KEY=VALUE"), std::string::npos);
    EXPECT_TRUE(script_.sent.empty());
}

TEST_F(CommandsTest, ShutdownAndRebootSendReasonWaitForceAndTimeout) {
    control::Response ok;
    ok.mutable_shutdown();
    ok.add_warnings("domain g did not shut down within 5 s of the request; forced (-F)");
    script_.replies.push_back(msg(ok));
    EXPECT_EQ(run({"shutdown", "-w", "-F", "-t", "5", "g"}), 0);
    EXPECT_NE(err_.str().find("forced (-F)"), std::string::npos);  // the warning is shown
    ASSERT_EQ(script_.sent.size(), 1u);
    const auto& s = script_.sent[0].shutdown();
    EXPECT_EQ(s.domain().name(), "g");
    EXPECT_EQ(s.reason(), control::SHUTDOWN_POWEROFF);
    EXPECT_TRUE(s.wait());
    EXPECT_TRUE(s.force());
    EXPECT_EQ(s.timeout_ms(), 5000u);

    script_.replies.push_back(msg(ok));
    EXPECT_EQ(run({"reboot", "7"}), 0);
    ASSERT_EQ(script_.sent.size(), 2u);
    const auto& r = script_.sent[1].shutdown();
    EXPECT_EQ(r.domain().id(), 7u);
    EXPECT_EQ(r.reason(), control::SHUTDOWN_REBOOT);
    EXPECT_FALSE(r.wait());
    EXPECT_FALSE(r.force());
    EXPECT_EQ(r.timeout_ms(), 0u);  // pvd's default

    for (auto bad : {std::vector<std::string>{"reboot", "-t"}, {"reboot", "-t", "0", "g"},
                     {"reboot", "-t", "5s", "g"}, {"shutdown", "-t", "99999", "g"},
                     {"reboot", "-x", "g"}, {"reboot"}}) {
        EXPECT_EQ(run(bad), 2) << bad.back();
        EXPECT_NE(err_.str().find("usage: pvctl " + bad[0]), std::string::npos);
    }
    EXPECT_EQ(script_.sent.size(), 2u);
}

TEST_F(CommandsTest, DomainArgumentsAreIdsOrNames) {
    control::Response ok;
    ok.mutable_destroy();
    script_.replies = {msg(ok), msg(ok)};
    EXPECT_EQ(run({"destroy", "7"}), 0);
    EXPECT_EQ(run({"destroy", "web-7"}), 0);
    ASSERT_EQ(script_.sent.size(), 2u);
    EXPECT_EQ(script_.sent[0].destroy().domain().id(), 7u);
    EXPECT_EQ(script_.sent[1].destroy().domain().name(), "web-7");
    EXPECT_EQ(run({"destroy", "99999"}), 1);
    EXPECT_NE(err_.str().find("neither a domain name nor a domain id"), std::string::npos);
}

TEST_F(CommandsTest, PauseAndUnpauseSendTheirRequests) {
    control::Response paused, unpaused, e;
    paused.mutable_pause();
    unpaused.mutable_unpause();
    e.set_error("domain web is not running (shutdown)");
    script_.replies = {msg(paused), msg(unpaused), msg(e)};
    EXPECT_EQ(run({"pause", "web"}), 0);
    EXPECT_EQ(run({"unpause", "3"}), 0);
    EXPECT_EQ(run({"pause", "web"}), 1);
    EXPECT_NE(err_.str().find("pvctl: domain web is not running (shutdown)"), std::string::npos);
    ASSERT_EQ(script_.sent.size(), 3u);
    EXPECT_EQ(script_.sent[0].pause().domain().name(), "web");
    EXPECT_EQ(script_.sent[1].unpause().domain().id(), 3u);
    EXPECT_EQ(run({"pause"}), 2);
    EXPECT_NE(err_.str().find("usage: pvctl pause DOMAIN"), std::string::npos);
    EXPECT_EQ(run({"unpause", "a", "b"}), 2);
    for (bool start : script_.connects) EXPECT_FALSE(start);
}

TEST_F(CommandsTest, ListShowsAPausedDomainLikeXl) {
    control::Response r;
    auto* d = r.mutable_list()->add_domains();
    d->set_domid(4);
    d->set_name("p");
    d->set_state(control::DOMAIN_STATE_PAUSED);
    script_.replies = {msg(r), msg(r)};
    EXPECT_EQ(run({"list"}), 0);
    EXPECT_NE(out_.str().find("--p---"), std::string::npos) << out_.str();
    EXPECT_EQ(run({"list", "-l"}), 0);
    EXPECT_NE(out_.str().find("\"state\": \"paused\""), std::string::npos) << out_.str();
}

TEST_F(CommandsTest, ErrorsFromPvdAreShownAndFail) {
    control::Response e;
    e.set_error(
        "domain a has no PV control interface (xenstore arrives with the PV core); use destroy");
    script_.replies = {msg(e)};
    EXPECT_EQ(run({"shutdown", "-w", "a"}), 1);
    EXPECT_NE(err_.str().find("pvctl: domain a has no PV control interface"), std::string::npos);
    EXPECT_TRUE(script_.sent[0].shutdown().wait());
}

TEST_F(CommandsTest, CommandsOtherThanCreateNeverStartPvd) {
    script_.pvd_running = false;
    EXPECT_EQ(run({"destroy", "a"}), 1);
    EXPECT_NE(err_.str().find("pvd is not running"), std::string::npos);
    EXPECT_EQ(run({"list"}), 0);  // no pvd: no domains
    EXPECT_EQ(out_.str(),
              "Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
    EXPECT_EQ(run({"list", "-l"}), 0);
    EXPECT_EQ(out_.str(), "[]\n");
    for (bool start : script_.connects) EXPECT_FALSE(start);
}

TEST_F(CommandsTest, ListTableLooksLikeXl) {
    control::Response r;
    auto* d = r.mutable_list()->add_domains();
    d->set_domid(3);
    d->set_name("web");
    d->set_state(control::DOMAIN_STATE_RUNNING);
    d->mutable_config()->set_memory_mib(512);
    d->mutable_config()->set_vcpus(2);
    auto* c = r.mutable_list()->add_domains();
    c->set_domid(4);
    c->set_name("crashed");
    c->set_state(control::DOMAIN_STATE_SHUTDOWN);
    c->set_shutdown_reason(control::SHUTDOWN_CRASH);
    c->set_cpu_time_ns(1'500'000'000);
    script_.replies = {msg(r)};
    EXPECT_EQ(run({"list"}), 0);
    EXPECT_EQ(out_.str(),
              "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
              "web                                          3   512     2     r-----         -\n"
              "crashed                                      4     0     0     ----c-       1.5\n");
}

TEST_F(CommandsTest, ListJsonCarriesTheConfig) {
    control::Response r;
    auto* d = r.mutable_list()->add_domains();
    d->set_domid(1);
    d->set_name("a\"b");
    d->mutable_config()->set_kernel("/k");
    d->mutable_config()->set_on_reboot(control::ACTION_RESTART);
    script_.replies = {msg(r)};
    EXPECT_EQ(run({"list", "-l"}), 0);
    const std::string j = out_.str();
    EXPECT_NE(j.find("\"name\": \"a\\\"b\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"kernel\": \"/k\""), std::string::npos);
    EXPECT_NE(j.find("\"on_reboot\": \"restart\""), std::string::npos);
    EXPECT_NE(j.find("\"shutdown_reason\": null"), std::string::npos);
}

TEST_F(CommandsTest, CreateParsesLocallyAndSendsAStructuredConfig) {
    script_.replies = {msg(created(1, "g"))};
    EXPECT_EQ(run({"create", "g.cfg", "vcpus=2"}), 0);
    ASSERT_EQ(script_.sent.size(), 1u);
    const auto& c = script_.sent[0].create();
    ASSERT_TRUE(c.has_config());
    EXPECT_EQ(c.config().kernel(), "/work/vmlinux");
    EXPECT_EQ(c.config().vcpus(), 2u);
    EXPECT_EQ(c.config().memory_mib(), 64u);
    EXPECT_FALSE(c.attach_console());
    EXPECT_FALSE(c.destroy_on_disconnect());
    EXPECT_EQ(script_.connects, std::vector<bool>{true});  // create may start pvd
    EXPECT_NE(err_.str().find("Parsing config from g.cfg"), std::string::npos);
    EXPECT_EQ(run({"create", "-q", "g.cfg"}), kExitCreateFailed);  // no reply scripted: pvd hung up
    EXPECT_EQ(err_.str().find("Parsing config"), std::string::npos);
}

TEST_F(CommandsTest, CreateCfgErrorsShowFileAndLineAndNeverConnect) {
    EXPECT_EQ(run({"create", "bad.cfg"}), kExitCreateFailed);
    EXPECT_NE(err_.str().find("bad.cfg:3: memory expects a non-negative integer"),
              std::string::npos)
        << err_.str();
    EXPECT_NE(err_.str().find("bad.cfg:4: warning: unknown key foo"), std::string::npos);
    EXPECT_EQ(run({"create", "missing.cfg"}), kExitCreateFailed);
    EXPECT_NE(err_.str().find("cannot read missing.cfg"), std::string::npos);
    EXPECT_TRUE(script_.connects.empty());
}

TEST_F(CommandsTest, CreateErrorFromPvdIs126) {
    control::Response e;
    e.set_error("a domain named g already exists (id 1)");
    script_.replies = {msg(e)};
    EXPECT_EQ(run({"create", "g.cfg"}), kExitCreateFailed);
    EXPECT_NE(err_.str().find("already exists"), std::string::npos);
}

TEST_F(CommandsTest, CreateForegroundStreamsAndExitsWithTheGuestsCode) {
    control::Response data;
    data.mutable_console_data()->set_data("booting\n");
    control::Response restarted;
    restarted.mutable_domain_restarted()->set_new_domid(2);
    restarted.mutable_domain_restarted()->set_name("g");
    control::Response exited;
    exited.mutable_domain_exited()->set_exit_code(3);
    exited.mutable_domain_exited()->set_reason(control::SHUTDOWN_CRASH);
    exited.mutable_domain_exited()->set_detail("the guest crashed");
    script_.replies = {msg(created(1, "g")), msg(data), msg(restarted), msg(data), msg(exited)};
    EXPECT_EQ(run({"create", "-F", "g.cfg"}), 3);
    EXPECT_EQ(out_.str(), "booting\nbooting\n");
    EXPECT_NE(err_.str().find("restarted as id 2"), std::string::npos);
    EXPECT_NE(err_.str().find("the guest crashed (exit code 3)"), std::string::npos);
    EXPECT_TRUE(script_.sent[0].create().attach_console());
    EXPECT_TRUE(script_.sent[0].create().destroy_on_disconnect());
}

TEST_F(CommandsTest, CreateForegroundLosingPvdIs125) {
    script_.replies = {msg(created(1, "g"))};
    EXPECT_EQ(run({"create", "-F", "g.cfg"}), kExitDestroyed);
    EXPECT_NE(err_.str().find("lost pvd"), std::string::npos);
}

TEST_F(CommandsTest, CreateForegroundSaysWhenPvdExitedAndTheDomainWithIt) {
    script_.peer = {4242, "/run/pvhv/pvd.log"};
    script_.peer_exited = true;
    script_.replies = {msg(created(1, "g"))};
    EXPECT_EQ(run({"create", "-F", "g.cfg"}), kExitDestroyed);
    const std::string e = err_.str();
    EXPECT_NE(e.find("pvctl: pvd (pid 4242) exited: lost domain g (id=1), which ran inside it"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("as after a power cut"), std::string::npos) << e;
    EXPECT_NE(e.find("pvd's log: /run/pvhv/pvd.log"), std::string::npos) << e;
    EXPECT_EQ(e.find("lost pvd"), std::string::npos) << e;
}

TEST_F(CommandsTest, CreateForegroundLosingALivePvdNamesItsPid) {
    script_.peer = {4242, "/run/pvhv/pvd.log"};
    script_.replies = {msg(created(1, "g"))};
    EXPECT_EQ(run({"create", "-F", "g.cfg"}), kExitDestroyed);
    EXPECT_NE(err_.str().find("pvctl: lost pvd (pid 4242): pvd closed the connection"),
              std::string::npos)
        << err_.str();
}

TEST_F(CommandsTest, ConsoleSaysWhenPvdExited) {
    script_.peer = {77, ""};
    script_.peer_exited = true;
    control::Response attached;
    attached.mutable_console_attach()->set_domid(3);
    attached.mutable_console_attach()->set_name("web");
    script_.replies = {msg(attached)};
    EXPECT_EQ(run({"console", "web"}), kExitFailure);
    EXPECT_NE(err_.str().find("pvctl: pvd (pid 77) exited: lost domain web (id=3)"),
              std::string::npos)
        << err_.str();
}

TEST_F(CommandsTest, CreateConsoleWithoutForegroundReturnsZero) {
    control::Response exited;
    exited.mutable_domain_exited()->set_exit_code(1);
    script_.replies = {msg(created(1, "g")), msg(exited)};
    EXPECT_EQ(run({"create", "-c", "g.cfg"}), 0);
    EXPECT_TRUE(script_.sent[0].create().attach_console());
    EXPECT_FALSE(script_.sent[0].create().destroy_on_disconnect());
}

TEST_F(CommandsTest, TopAndInfoRender) {
    control::Response t;
    auto* d = t.mutable_top()->add_domains();
    d->set_domid(1);
    d->set_name("g");
    (*d->mutable_exits())["io"] = 10;
    (*d->mutable_exits())["hlt"] = 20;
    (*d->mutable_hypercalls())["console_io"] = 5;
    d->set_mmio_unclaimed(3);
    script_.replies = {msg(t)};
    EXPECT_EQ(run({"top"}), 0);
    const std::string o = out_.str();
    EXPECT_NE(o.find("(unclaimed)"), std::string::npos) << o;
    EXPECT_NE(o.find("g (id 1)"), std::string::npos);
    EXPECT_LT(o.find("hlt"), o.find("io "));  // busiest first
    EXPECT_NE(o.find("console_io"), std::string::npos);

    control::Response i;
    i.mutable_info()->set_version("9.9");
    auto* kv = i.mutable_info()->add_host();
    kv->set_key("kvm api version");
    kv->set_value("12");
    script_.replies = {msg(i)};
    EXPECT_EQ(run({"info"}), 0);
    EXPECT_NE(out_.str().find("pvd version"), std::string::npos);
    EXPECT_NE(out_.str().find("kvm api version : 12"), std::string::npos) << out_.str();
}

TEST_F(CommandsTest, DebugDumpAsksForTheDomainAndPrintsTheText) {
    control::Response r;
    r.mutable_debug_dump()->set_domid(4);
    r.mutable_debug_dump()->set_name("web");
    r.mutable_debug_dump()->set_text("d4 grant table v1: 1 of 64 frames\n");
    control::Response missing;
    missing.set_error("no domain named nope");
    script_.replies = {msg(r), msg(missing)};
    EXPECT_EQ(run({"debug-dump", "web"}), 0);
    ASSERT_EQ(script_.sent.size(), 1u);
    ASSERT_TRUE(script_.sent[0].has_debug_dump());
    EXPECT_EQ(script_.sent[0].debug_dump().domain().name(), "web");
    EXPECT_EQ(out_.str(), "d4 grant table v1: 1 of 64 frames\n");
    EXPECT_EQ(run({"debug-dump", "nope"}), 1);
    EXPECT_NE(err_.str().find("no domain named nope"), std::string::npos);
    EXPECT_EQ(run({"debug-dump"}), 2);
    EXPECT_NE(err_.str().find("usage: pvctl debug-dump DOMAIN"), std::string::npos);
    EXPECT_EQ(run({"debug-dump", "a", "b"}), 2);
    EXPECT_EQ(script_.sent.size(), 2u);
}

// --- PV devices ----------------------------------------------------------------------------

TEST_F(CommandsTest, BlockAttachJoinsItsWordsAndMakesTheTargetAbsolute) {
    control::Response ok;
    ok.mutable_device_attach();
    script_.replies = {msg(ok), msg(ok)};
    EXPECT_EQ(run({"block-attach", "g", "img/b.raw,raw,xvdb", "ro"}), 0) << err_.str();
    ASSERT_EQ(script_.sent.size(), 1u);
    const auto& a = script_.sent[0].device_attach();
    EXPECT_EQ(a.domain().name(), "g");
    ASSERT_TRUE(a.has_disk());
    EXPECT_EQ(a.disk().target(), "/work/img/b.raw");
    EXPECT_EQ(a.disk().vdev(), "xvdb");
    EXPECT_TRUE(a.disk().readonly());
    EXPECT_EQ(run({"block-attach", "3", "vdev=xvdc", "target=/srv/c,d.raw"}), 0);
    EXPECT_EQ(script_.sent[1].device_attach().domain().id(), 3u);
    EXPECT_EQ(script_.sent[1].device_attach().disk().target(), "/srv/c,d.raw");
    // Spec errors are pvctl's own: nothing is sent.
    EXPECT_EQ(run({"block-attach", "g", "/a.qcow2,qcow2,xvdd"}), 1);
    EXPECT_NE(err_.str().find("pvctl block-attach: format=qcow2 is not supported"), std::string::npos)
        << err_.str();
    EXPECT_EQ(run({"block-attach", "g"}), 2);
    EXPECT_NE(err_.str().find("usage: pvctl block-attach DOMAIN DISKSPEC..."), std::string::npos);
    EXPECT_EQ(script_.sent.size(), 2u);
}

TEST_F(CommandsTest, NetworkAttachSendsTheVifSpec) {
    control::Response ok;
    ok.mutable_device_attach();
    script_.replies = {msg(ok), msg(ok)};
    EXPECT_EQ(run({"network-attach", "g", "bridge=br0", "mac=00:16:3E:00:00:01"}), 0) << err_.str();
    const auto& v = script_.sent[0].device_attach().vif();
    EXPECT_EQ(v.bridge(), "br0");
    EXPECT_EQ(v.mac(), "00:16:3e:00:00:01");
    EXPECT_FALSE(v.has_devid());
    EXPECT_EQ(run({"network-attach", "g"}), 0);  // every default: pvd picks index and mac
    EXPECT_TRUE(script_.sent[1].device_attach().vif().mac().empty());
    EXPECT_EQ(run({"network-attach", "g", "type=ioemu"}), 1);
    EXPECT_EQ(script_.sent.size(), 2u);
}

TEST_F(CommandsTest, DetachSendsKindAndDeviceAndShowsAForcedRemoval) {
    control::Response forced;
    forced.mutable_device_detach()->set_forced(true);
    forced.add_warnings("device removed without the guest's consent: timeout");
    control::Response missing;
    missing.set_error("domain g has no disk xvdz");
    script_.replies = {msg(forced), msg(missing)};
    EXPECT_EQ(run({"block-detach", "g", "xvda"}), 0);
    EXPECT_EQ(script_.sent[0].device_detach().kind(), control::DEVICE_VBD);
    EXPECT_EQ(script_.sent[0].device_detach().device(), "xvda");
    EXPECT_NE(err_.str().find("without the guest's consent"), std::string::npos);
    EXPECT_EQ(run({"network-detach", "g", "xvdz"}), 1);
    EXPECT_EQ(script_.sent[1].device_detach().kind(), control::DEVICE_VIF);
    EXPECT_NE(err_.str().find("has no disk xvdz"), std::string::npos);
    EXPECT_EQ(run({"network-detach", "g"}), 2);
}

TEST_F(CommandsTest, BlockAndNetworkListLookLikeXl) {
    control::Response b;
    auto* bl = b.mutable_device_list();
    bl->set_domid(1);
    auto* d = bl->add_devices();
    d->set_devid(51712);
    d->set_name("xvda");
    d->set_frontend_state("4");
    d->set_event_channel("13");
    d->set_ring_ref("8");
    d->set_backend_path("/local/domain/0/backend/vbd/1/51712");
    auto* e = bl->add_devices();
    e->set_devid(51728);
    e->set_backend_path("/local/domain/0/backend/vbd/1/51728");
    control::Response n;
    auto* nl = n.mutable_device_list();
    nl->set_domid(1);
    auto* v = nl->add_devices();
    v->set_kind(control::DEVICE_VIF);
    v->set_devid(0);
    v->set_name("00:16:3e:5e:71:c3");
    v->set_frontend_state("4");
    v->set_event_channel("16");
    v->set_ring_ref("768/769");
    v->set_backend_path("/local/domain/0/backend/vif/1/0");
    script_.replies = {msg(b), msg(n)};
    EXPECT_EQ(run({"block-list", "g"}), 0);
    EXPECT_EQ(out_.str(),
              "Vdev  BE  handle state evt-ch ring-ref BE-path                       \n"
              "51712 0   1      4     13     8        /local/domain/0/backend/vbd/1/51712\n"
              "51728 0   1      -1    -1     -1       /local/domain/0/backend/vbd/1/51728\n");
    EXPECT_EQ(script_.sent[0].device_list().kind(), control::DEVICE_VBD);
    EXPECT_EQ(run({"network-list", "g"}), 0);
    EXPECT_EQ(out_.str(),
              "Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       \n"
              "0   0  00:16:3e:5e:71:c3      0     4     16   768/769         /local/domain/0/backend/vif/1/0\n");
    EXPECT_EQ(script_.sent[1].device_list().kind(), control::DEVICE_VIF);
    EXPECT_EQ(run({"block-list"}), 2);
}

TEST_F(CommandsTest, TopShowsBackendCountersAndCreateSendsDevices) {
    control::Response t;
    auto* d = t.mutable_top()->add_domains();
    d->set_domid(1);
    d->set_name("g");
    auto* dev = d->add_devices();
    dev->set_name("xvda");
    (*dev->mutable_counters())["requests"] = 42;
    (*dev->mutable_counters())["kicks_in"] = 7;
    script_.replies = {msg(t)};
    EXPECT_EQ(run({"top"}), 0);
    const std::string o = out_.str();
    EXPECT_NE(o.find("vbd xvda   requests"), std::string::npos) << o;
    EXPECT_LT(o.find("requests"), o.find("kicks_in"));  // busiest first

    // -l: the same counters as JSON, maps sorted by name, for scripts.
    (*d->mutable_exits())["io"] = 10;
    (*d->mutable_hypercalls())["event_channel_op"] = 3;
    dev->set_kind(control::DEVICE_VIF);
    dev->set_devid(0);
    dev->set_name("00:16:3e:00:00:01");
    script_.replies = {msg(t)};
    out_.str("");
    EXPECT_EQ(run({"top", "-l"}), 0);
    EXPECT_EQ(out_.str(),
              "[\n  {\"domid\": 1, \"name\": \"g\",\n   \"exits\": {\"io\": 10},\n"
              "   \"hypercalls\": {\"event_channel_op\": 3},\n"
              "   \"hypercall_enosys\": 0, \"mmio_unclaimed\": 0,\n"
              "   \"devices\": [{\"kind\": \"vif\", \"devid\": 0, \"name\": \"00:16:3e:00:00:01\", "
              "\"counters\": {\"kicks_in\": 7, \"requests\": 42}}]}\n]\n");
    control::Response none;
    none.mutable_top();
    script_.replies = {msg(none)};
    out_.str("");
    EXPECT_EQ(run({"top", "-l"}), 0);
    EXPECT_EQ(out_.str(), "[]\n");

    files_["d.cfg"] = "name = 'd'\nkernel = '/k'\ndisk = [ 'a.raw,,xvda' ]\nvif = [ 'bridge=br0' ]\n";
    script_.replies = {msg(created(2, "d"))};
    EXPECT_EQ(run({"create", "d.cfg"}), 0) << err_.str();
    const auto& c = script_.sent.back().create().config();
    ASSERT_EQ(c.disks_size(), 1);
    EXPECT_EQ(c.disks(0).target(), "/work/a.raw");
    ASSERT_EQ(c.vifs_size(), 1);
    EXPECT_EQ(c.vifs(0).bridge(), "br0");

    control::Response l;
    auto* ld = l.mutable_list()->add_domains();
    ld->set_name("d");
    *ld->mutable_config() = c;
    script_.replies = {msg(l)};
    EXPECT_EQ(run({"list", "-l"}), 0);
    EXPECT_NE(out_.str().find("\"disks\": [{\"target\": \"/work/a.raw\", \"vdev\": \"xvda\""),
              std::string::npos)
        << out_.str();
    EXPECT_NE(out_.str().find("\"vifs\": [{\"devid\": null, \"mac\": \"\", \"bridge\": \"br0\""),
              std::string::npos);
}

}  // namespace
}  // namespace pvhv::dom0
