// Unit tests of pvd's PV device wiring: DomainDevices over the real xenbus layer (fake back-ends,
// a second xenstore client as the guest), and the manager's device config (attach before
// start, hot-plug, detach, restarts keeping MACs).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "dom0-tools/pvd/domain_devices.h"
#include "dom0-tools/pvd/domain_manager.h"
#include "dom0-tools/pvd/testing/fake_domain.h"
#include "xenbus_test_fakes.h"

namespace pvhv::dom0 {
namespace {

using back::testing::FakeBackend;
using back::testing::FakeBackendLog;

int err(const auto& r) { return r ? 0 : r.error().xen_errno; }

// Makes FakeBackends, or fails as told; remembers each one's log.
class FakeBackends final : public DeviceBackends {
  public:
    Result<std::unique_ptr<back::BackendDevice>> make_vbd(DomId, uint32_t devid,
                                                          const back::DiskSpec& d) override {
        if (!fail.empty()) return pvhv::fail(XEN_ENOENT, fail + " " + d.target);
        return make("vbd", devid);
    }
    Result<std::unique_ptr<back::BackendDevice>> make_vif(DomId, uint32_t devid,
                                                          const back::VifSpec&) override {
        if (!fail.empty()) return pvhv::fail(XEN_ENODEV, fail);
        return make("vif", devid);
    }
    std::string fail;
    std::map<std::pair<std::string, uint32_t>, std::shared_ptr<FakeBackendLog>> logs;

  private:
    Result<std::unique_ptr<back::BackendDevice>> make(const std::string& type, uint32_t devid) {
        auto log = std::make_shared<FakeBackendLog>();
        logs[{type, devid}] = log;
        return std::unique_ptr<back::BackendDevice>(std::make_unique<FakeBackend>(type, log));
    }
};

class DomainDevicesTest : public back::testing::XenbusFixture {
  protected:
    void SetUp() override {
        XenbusFixture::SetUp();
        devices = std::make_unique<DomainDevices>(
            DomainDevices::Context{io, *store, backends, kGuest, back::FrontendResources{},
                                   back::XenbusOptions{std::chrono::milliseconds(50)}});
    }
    void TearDown() override {
        devices.reset();
        XenbusFixture::TearDown();
    }
    static back::DiskSpec disk(const std::string& vdev) { return back::DiskSpec{"/img/" + vdev, vdev}; }
    static back::VifSpec vif(uint32_t devid) {
        back::VifSpec v;
        v.devid = devid;
        v.mac = "00:16:3e:00:00:0" + std::to_string(devid);
        return v;
    }

    FakeBackends backends;
    std::unique_ptr<DomainDevices> devices;
};

TEST_F(DomainDevicesTest, AttachListDetach) {
    ASSERT_EQ(devices->attach_disk(disk("xvda")), 51712u);
    ASSERT_EQ(devices->attach_vif(vif(0)), 0u);
    settle();
    EXPECT_EQ(read("/local/domain/0/backend/vbd/5/51712/state"), "2");
    EXPECT_EQ(read("/local/domain/0/backend/vif/5/0/mac"), "00:16:3e:00:00:00");
    EXPECT_EQ(err(devices->attach_disk(disk("51712"))), XEN_EEXIST);  // same virtual device
    EXPECT_EQ(err(devices->attach_vif(vif(0))), XEN_EEXIST);

    // The guest's blkfront connects; the listing shows what xl block-list would.
    const std::string fe = "/local/domain/5/device/vbd/51712";
    front_write(fe + "/ring-ref", "8");
    front_write(fe + "/event-channel", "13");
    front_write(fe + "/state", "3");
    const auto list = devices->list();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].kind, DeviceKind::Vbd);
    EXPECT_EQ(list[0].name, "xvda");
    EXPECT_EQ(list[0].xenbus.backend, XenbusStateConnected);
    EXPECT_EQ(list[0].xenbus.frontend, "3");
    EXPECT_EQ(list[0].event_channel, "13");
    EXPECT_EQ(list[0].ring_ref, "8");
    EXPECT_EQ(list[0].backend_path, "/local/domain/0/backend/vbd/5/51712");
    EXPECT_EQ(list[0].counters, (std::vector<std::pair<std::string, uint64_t>>{{"requests", 0}}));
    EXPECT_EQ(list[1].kind, DeviceKind::Vif);
    EXPECT_EQ(list[1].name, "00:16:3e:00:00:00");
    EXPECT_EQ(list[1].ring_ref, "");

    std::optional<Result<back::DetachOutcome>> out;
    devices->detach(DeviceKind::Vbd, 51712, [&](Result<back::DetachOutcome> r) { out = std::move(r); });
    settle();
    EXPECT_FALSE(out);  // waiting for the front-end
    front_write(fe + "/state", "6");
    ASSERT_TRUE(out && *out);
    EXPECT_FALSE((*out)->forced);
    EXPECT_EQ(devices->list().size(), 1u);
    EXPECT_FALSE(exists(fe));
    // Its number is free again.
    EXPECT_EQ(devices->attach_disk(disk("xvda")), 51712u);
}

TEST_F(DomainDevicesTest, BackendFactoryErrorsLeaveNoTrace) {
    backends.fail = "cannot open";
    auto r = devices->attach_disk(disk("xvdb"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "cannot open /img/xvdb");
    EXPECT_FALSE(exists("/local/domain/5/device/vbd"));
    EXPECT_FALSE(exists("/local/domain/0/backend/vbd"));
    EXPECT_TRUE(devices->list().empty());
    back::VifSpec nomac;
    nomac.devid = 1;
    EXPECT_EQ(err(devices->attach_vif(nomac)), XEN_EINVAL);  // the manager fills mac in first
}

TEST_F(DomainDevicesTest, DetachOfUnknownDeviceAndSilentFrontend) {
    std::optional<Result<back::DetachOutcome>> out;
    devices->detach(DeviceKind::Vif, 3, [&](Result<back::DetachOutcome> r) { out = std::move(r); });
    settle();
    ASSERT_TRUE(out);
    EXPECT_EQ(err(*out), XEN_ENODEV);
    ASSERT_TRUE(devices->attach_vif(vif(3)));
    front_write("/local/domain/5/device/vif/3/state", "4");  // netfront connects
    out.reset();
    devices->detach(DeviceKind::Vif, 3, [&](Result<back::DetachOutcome> r) { out = std::move(r); });
    run_for(std::chrono::milliseconds(200));  // the guest never closes
    ASSERT_TRUE(out && *out);
    EXPECT_TRUE((*out)->forced);
    EXPECT_TRUE(devices->list().empty());
}

TEST_F(DomainDevicesTest, DestroyAllDisconnectsAndRemovesEverything) {
    ASSERT_TRUE(devices->attach_disk(disk("xvda")));
    ASSERT_TRUE(devices->attach_disk(disk("xvdb")));
    ASSERT_TRUE(devices->attach_vif(vif(0)));
    front_write("/local/domain/5/device/vbd/51712/state", "3");
    const auto xvda = backends.logs.at({"vbd", 51712});
    EXPECT_TRUE(xvda->connected);
    std::optional<Result<back::DetachOutcome>> out;
    devices->detach(DeviceKind::Vbd, 51712, [&](Result<back::DetachOutcome> r) { out = std::move(r); });
    settle();
    devices->destroy_all();
    EXPECT_FALSE(xvda->connected);
    EXPECT_FALSE(exists("/local/domain/5/device/vbd"));
    EXPECT_FALSE(exists("/local/domain/5/device/vif"));
    EXPECT_FALSE(exists("/local/domain/0/backend/vbd/5"));
    EXPECT_FALSE(exists("/local/domain/0/backend/vif/5"));
    settle();
    ASSERT_TRUE(out && *out);
    EXPECT_TRUE((*out)->forced);  // the domain went first
    EXPECT_TRUE(devices->list().empty());
}

// --- the manager's device config ------------------------------------------------------------

class ManagerDevicesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("pvd_dev_test." + std::to_string(::getpid()) + "." +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        ManagerOptions o{(dir_ / "console").string()};
        o.random = [this] { return 0x0a0b0cu + random_calls_++; };
        mgr_ = std::make_unique<DomainManager>(io_, factory_, o);
    }
    void TearDown() override {
        mgr_.reset();
        std::filesystem::remove_all(dir_);
    }
    static DomainConfig config(const std::string& name) {
        DomainConfig c;
        c.name = name;
        c.kernel = "/boot/vmlinux";
        c.on_reboot = ShutdownAction::Restart;
        return c;
    }
    void drain() {
        io_.restart();
        io_.poll();
    }
    static DeviceConfig two_devices() {
        DeviceConfig d;
        d.disks.push_back(back::DiskSpec{"/img/a.raw", "xvda"});
        d.vifs.emplace_back();
        d.vifs[0].bridge = "br0";
        return d;
    }

    boost::asio::io_context io_;
    testing::FakeFactory factory_;
    std::filesystem::path dir_;
    uint32_t random_calls_ = 0;
    std::unique_ptr<DomainManager> mgr_;
};

TEST_F(ManagerDevicesTest, ConfiguredDevicesAreAttachedBeforeStartWithDefaults) {
    auto id = mgr_->create(config("g"), nullptr, true, two_devices());
    ASSERT_TRUE(id) << id.error().message;
    auto s = factory_.last();
    ASSERT_EQ(s->disks.size(), 1u);
    ASSERT_EQ(s->vifs.size(), 1u);
    EXPECT_EQ(s->attached_while_running, 0);
    EXPECT_TRUE(s->started);
    EXPECT_EQ(s->vifs[0].devid, 0u);
    EXPECT_EQ(s->vifs[0].mac, "00:16:3e:0a:0b:0c");
    EXPECT_EQ(mgr_->list()[0].devices.vifs[0].mac, "00:16:3e:0a:0b:0c");
    auto st = mgr_->devices(*id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->size(), 2u);
}

TEST_F(ManagerDevicesTest, AttachFailureFailsTheCreateAndDestroysTheDomain) {
    factory_.fail_attach = "disk back-end not built yet";
    auto r = mgr_->create(config("g"), nullptr, true, two_devices());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "cannot create domain g: disk xvda: disk back-end not built yet");
    ASSERT_EQ(factory_.built.size(), 1u);
    EXPECT_TRUE(factory_.last()->destroyed);
    EXPECT_FALSE(factory_.last()->started);
    EXPECT_EQ(mgr_->size(), 0u);
    drain();
    // Hot-plug failures leave the config as it was.
    factory_.fail_attach.clear();
    auto id = mgr_->create(config("ok"), nullptr);
    ASSERT_TRUE(id);
    factory_.last()->fail_attach = "network back-end not built yet";
    EXPECT_EQ(err(mgr_->attach_vif(*id, back::VifSpec{})), XEN_EIO);
    EXPECT_TRUE(mgr_->list()[0].devices.vifs.empty());
    // Invalid specs from a client never reach a domain.
    EXPECT_EQ(err(mgr_->create(config("bad"), nullptr, true,
                               DeviceConfig{{back::DiskSpec{"rel.raw", "xvda"}}, {}})),
              XEN_EINVAL);
    EXPECT_EQ(err(mgr_->attach_disk(*id, back::DiskSpec{"/a.raw", "floppy"})), XEN_EINVAL);
    EXPECT_EQ(factory_.built.size(), 2u);
}

TEST_F(ManagerDevicesTest, HotplugJoinsTheConfigAndSurvivesRestart) {
    auto id = mgr_->create(config("g"), nullptr, true, two_devices());
    ASSERT_TRUE(id);
    auto added = mgr_->attach_disk(*id, back::DiskSpec{"/img/b.raw", "xvdb"});
    ASSERT_TRUE(added) << added.error().message;
    EXPECT_EQ(err(mgr_->attach_disk(*id, back::DiskSpec{"/img/c.raw", "51728"})), XEN_EEXIST);
    auto vif = mgr_->attach_vif(*id, back::VifSpec{});
    ASSERT_TRUE(vif);
    EXPECT_EQ(vif->devid, 1u);
    EXPECT_EQ(vif->mac, "00:16:3e:0a:0b:0d");
    back::VifSpec dup;
    dup.mac = vif->mac;
    EXPECT_EQ(err(mgr_->attach_vif(*id, dup)), XEN_EEXIST);
    EXPECT_EQ(factory_.last()->attached_while_running, 2);

    // Reboot with on_reboot=restart: the new domain gets all four, with the same MACs.
    const std::string mac0 = factory_.last()->vifs[0].mac;
    factory_.last()->guest_shutdown(ShutdownReason::Reboot);
    drain();
    auto fresh = factory_.last();
    ASSERT_NE(fresh->id, *id);
    ASSERT_EQ(fresh->disks.size(), 2u);
    ASSERT_EQ(fresh->vifs.size(), 2u);
    EXPECT_EQ(fresh->vifs[0].mac, mac0);
    EXPECT_EQ(fresh->vifs[1].mac, "00:16:3e:0a:0b:0d");
    EXPECT_EQ(fresh->attached_while_running, 0);
}

TEST_F(ManagerDevicesTest, DetachByNameOrIdLeavesTheConfig) {
    auto id = mgr_->create(config("g"), nullptr, true, two_devices());
    ASSERT_TRUE(id);
    auto s = factory_.last();
    std::optional<Result<back::DetachOutcome>> out;
    auto record = [&](Result<back::DetachOutcome> r) { out = std::move(r); };
    EXPECT_EQ(err(mgr_->detach_device(*id, DeviceKind::Vbd, "xvdz", record)), XEN_ENODEV);
    EXPECT_EQ(err(mgr_->detach_device(*id, DeviceKind::Vif, "7", record)), XEN_ENODEV);
    EXPECT_EQ(err(mgr_->detach_device(DomId{99}, DeviceKind::Vif, "0", record)), XEN_ESRCH);
    EXPECT_FALSE(out);

    s->detach_at_once = false;
    ASSERT_TRUE(mgr_->detach_device(*id, DeviceKind::Vbd, "51712", record));
    ASSERT_EQ(s->detaches.size(), 1u);
    EXPECT_EQ(s->detaches[0].devid, 51712u);
    EXPECT_EQ(mgr_->list()[0].devices.disks.size(), 1u);  // until it is gone
    s->detaches[0].done(back::DetachOutcome{true, "forced"});
    ASSERT_TRUE(out && *out);
    EXPECT_TRUE((*out)->forced);
    EXPECT_TRUE(mgr_->list()[0].devices.disks.empty());

    s->detach_at_once = true;
    out.reset();
    ASSERT_TRUE(mgr_->detach_device(*id, DeviceKind::Vif, "00:16:3E:0A:0B:0C", record));
    ASSERT_TRUE(out && *out);
    EXPECT_TRUE(mgr_->list()[0].devices.vifs.empty());
    EXPECT_TRUE(s->vifs.empty());
}

TEST_F(ManagerDevicesTest, AShutDownDomainTakesNoNewDevices) {
    auto c = config("g");
    c.on_poweroff = ShutdownAction::Preserve;
    auto id = mgr_->create(c, nullptr);
    ASSERT_TRUE(id);
    factory_.last()->guest_shutdown(ShutdownReason::Poweroff);
    drain();
    EXPECT_EQ(err(mgr_->attach_disk(*id, back::DiskSpec{"/img/a.raw", "xvda"})), XEN_EINVAL);
}

}  // namespace
}  // namespace pvhv::dom0
