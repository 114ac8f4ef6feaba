// Unit tests of the xenbus device layer: libxl's directories and permissions, the state machine
// against a second xenstore client acting as the guest's front-end (cooperating and hostile),
// detach with and without the front-end's help, destroy mid-handshake.
#include <gtest/gtest.h>

#include <thread>

#include "pvdrivers/back/xenbus/device_nodes.h"
#include "pvdrivers/back/xenbus/xenbus_device.h"
#include "xenbus_test_fakes.h"

namespace pvhv::back {
namespace {

using testing::FakeBackend;
using testing::FakeBackendLog;

int err(const auto& r) { return r ? 0 : r.error().xen_errno; }

class XenbusDeviceTest : public testing::XenbusFixture {
  protected:
    static constexpr uint32_t kXvda = 51712;
    const std::string fe = frontend_path(kGuest, kVbd, kXvda);
    const std::string be = backend_path(kGuest, kVbd, kXvda);

    std::shared_ptr<FakeBackendLog> log = std::make_shared<FakeBackendLog>();
    std::unique_ptr<XenbusDevice> dev;

    DiskSpec disk() const {
        DiskSpec d;
        d.target = "/images/a.raw";
        d.vdev = "xvda";
        return d;
    }
    void add(XenbusOptions options = {}) {
        auto nodes = vbd_nodes(kGuest, disk());
        ASSERT_TRUE(nodes) << nodes.error().message;
        auto d = XenbusDevice::add(io, *store, *nodes, std::make_unique<FakeBackend>("vbd", log),
                                   FrontendResources{}, options);
        ASSERT_TRUE(d) << d.error().message;
        dev = std::move(*d);
        settle();
    }
    // A well-behaved blkfront up to Connected.
    void connect_front() {
        front_write(fe + "/ring-ref", "8");
        front_write(fe + "/event-channel", "9");
        front_write(fe + "/state", "3");
        ASSERT_EQ(read(be + "/state"), "4");
        front_write(fe + "/state", "4");
    }
};

TEST_F(XenbusDeviceTest, AddWritesLibxlDirectoriesWithXlPermissions) {
    add();
    // Front-end directory: the guest's, dom0 may read.
    EXPECT_EQ(read(fe + "/backend"), be);
    EXPECT_EQ(read(fe + "/backend-id"), "0");
    EXPECT_EQ(read(fe + "/state"), "1");
    EXPECT_EQ(read(fe + "/virtual-device"), "51712");
    EXPECT_EQ(read(fe + "/device-type"), "disk");
    EXPECT_EQ(xs::format_perms_text(*dom0->get_perms(fe)), "n5,r0");
    EXPECT_EQ(xs::format_perms_text(*dom0->get_perms(fe + "/state")), "n5,r0");
    // Back-end directory: dom0's, the guest may read.
    EXPECT_EQ(read(be + "/frontend"), fe);
    EXPECT_EQ(read(be + "/frontend-id"), "5");
    EXPECT_EQ(read(be + "/online"), "1");
    EXPECT_EQ(read(be + "/params"), "/images/a.raw");
    EXPECT_EQ(read(be + "/type"), "phy");
    EXPECT_EQ(read(be + "/mode"), "w");
    EXPECT_EQ(read(be + "/device-type"), "disk");
    EXPECT_EQ(read(be + "/dev"), "xvda");
    EXPECT_EQ(read(be + "/removable"), "0");
    EXPECT_EQ(read(be + "/bootable"), "1");
    EXPECT_EQ(xs::format_perms_text(*dom0->get_perms(be)), "n0,r5");
    // The probe ran: the back-end's features, then InitWait.
    EXPECT_EQ(read(be + "/feature-fake"), "1");
    EXPECT_EQ(read(be + "/state"), "2");
    EXPECT_EQ(dev->status().backend, XenbusStateInitWait);
    // The guest reads the back-end (as its xenbus does), but cannot write there.
    EXPECT_TRUE(guest->read(be + "/state"));
    EXPECT_EQ(err(guest->write(be + "/state", "4")), XEN_EACCES);
    EXPECT_EQ(err(guest->write(be + "/params", "/etc/shadow")), XEN_EACCES);
    EXPECT_EQ(err(guest->rm(be)), XEN_EACCES);
    EXPECT_EQ(read(be + "/state"), "2");
    // ... and owns its own directory.
    EXPECT_TRUE(guest->write(fe + "/ring-ref", "8"));
}

TEST_F(XenbusDeviceTest, VifNodesFollowLibxl) {
    VifSpec v;
    v.devid = 0;
    v.mac = "00:16:3e:01:02:03";
    v.bridge = "br0";
    v.vifname = "web0";
    auto n = vif_nodes(kGuest, v);
    ASSERT_TRUE(n);
    ASSERT_TRUE(add_device_nodes(*dom0, *n));
    const std::string vfe = frontend_path(kGuest, kVif, 0);
    const std::string vbe = backend_path(kGuest, kVif, 0);
    EXPECT_EQ(vfe, "/local/domain/5/device/vif/0");
    EXPECT_EQ(vbe, "/local/domain/0/backend/vif/5/0");
    EXPECT_EQ(read(vfe + "/handle"), "0");
    EXPECT_EQ(read(vfe + "/mac"), "00:16:3e:01:02:03");
    EXPECT_EQ(read(vbe + "/mac"), "00:16:3e:01:02:03");
    EXPECT_EQ(read(vbe + "/bridge"), "br0");
    EXPECT_EQ(read(vbe + "/handle"), "0");
    EXPECT_EQ(read(vbe + "/type"), "vif");
    EXPECT_EQ(read(vbe + "/vifname"), "web0");
    EXPECT_EQ(read(vbe + "/mtu"), "1500");
    EXPECT_FALSE(exists(vbe + "/ip"));
    // Incomplete specs are refused rather than written half.
    v.devid.reset();
    EXPECT_EQ(err(vif_nodes(kGuest, v)), XEN_EINVAL);
    v.devid = 1;
    v.mac = "bogus";
    EXPECT_EQ(err(vif_nodes(kGuest, v)), XEN_EINVAL);
    ASSERT_TRUE(remove_device_nodes(*dom0, kGuest, kVif, 0));
    EXPECT_FALSE(exists(vfe));
    EXPECT_FALSE(exists("/local/domain/5/device/vif"));       // empty parents go too
    EXPECT_FALSE(exists("/local/domain/0/backend/vif/5"));
    EXPECT_TRUE(exists("/local/domain/5/device"));
}

TEST_F(XenbusDeviceTest, FullHandshakeThenCloseAndReconnect) {
    add();
    connect_front();
    EXPECT_EQ(log->connects, 1);
    EXPECT_TRUE(log->connected);
    EXPECT_EQ(log->ring_ref, "8");
    EXPECT_EQ(read(be + "/sectors"), "2048");
    EXPECT_EQ(read(be + "/state"), "4");
    EXPECT_TRUE(dev->status().connected);
    // A repeated Connected (Linux's blkfront may write it again) changes nothing.
    front_write(fe + "/state", "4");
    EXPECT_EQ(log->connects, 1);

    front_write(fe + "/state", "5");  // the front-end closes
    EXPECT_FALSE(log->connected);
    EXPECT_EQ(log->disconnects, 1);
    EXPECT_EQ(read(be + "/state"), "5");
    front_write(fe + "/state", "6");
    EXPECT_EQ(read(be + "/state"), "6");
    EXPECT_EQ(read(be + "/online"), "1");  // still there for the front-end to come back

    front_write(fe + "/state", "1");  // reconnect (kexec, a driver reload)
    EXPECT_EQ(read(be + "/state"), "2");
    front_write(fe + "/ring-ref", "77");
    front_write(fe + "/state", "3");
    EXPECT_EQ(log->connects, 2);
    EXPECT_EQ(log->ring_ref, "77");
    EXPECT_EQ(read(be + "/state"), "4");
}

TEST_F(XenbusDeviceTest, NetfrontStyleConnectedWithoutInitialised) {
    add();
    front_write(fe + "/state", "4");
    EXPECT_EQ(log->connects, 1);
    EXPECT_EQ(read(be + "/state"), "4");
}

TEST_F(XenbusDeviceTest, FrontendRestartingWhileConnectedIsNotWedged) {
    add();
    connect_front();
    front_write(fe + "/state", "1");  // rebooted without closing: its old rings are gone
    EXPECT_FALSE(log->connected);
    EXPECT_EQ(read(be + "/state"), "2");
    front_write(fe + "/state", "3");
    EXPECT_EQ(log->connects, 2);
    EXPECT_EQ(read(be + "/state"), "4");
}

TEST_F(XenbusDeviceTest, GarbageStatesCloseTheDeviceUntilTheFrontendStartsOver) {
    add();
    connect_front();
    for (const char* bad : {"99", "abc", "", "4 ", "-1", "04"}) {
        SCOPED_TRACE(bad);
        front_write(fe + "/state", bad);
        EXPECT_FALSE(log->connected);
        EXPECT_EQ(read(be + "/state"), "5");
        EXPECT_NE(read(be + "/error").find("not a xenbus state"), std::string::npos);
    }
    EXPECT_EQ(log->disconnects, 1);
    EXPECT_EQ(log->connects, 1);
    front_write(fe + "/state", "3");  // not from Closing: must start over
    EXPECT_EQ(log->connects, 1);
    front_write(fe + "/state", "6");
    EXPECT_EQ(read(be + "/state"), "6");
    front_write(fe + "/state", "1");
    EXPECT_EQ(read(be + "/state"), "2");
    EXPECT_FALSE(exists(be + "/error"));
    front_write(fe + "/state", "3");
    EXPECT_EQ(log->connects, 2);
}

TEST_F(XenbusDeviceTest, OddButValidStatesAreIgnored) {
    add();
    for (const char* s : {"2", "7", "8"}) front_write(fe + "/state", s);
    EXPECT_EQ(log->connects, 0);
    EXPECT_EQ(read(be + "/state"), "2");
}

TEST_F(XenbusDeviceTest, FrontendDeletingItsDirectoryClosesTheDevice) {
    add();
    connect_front();
    ASSERT_TRUE(guest->rm(fe));
    settle();
    EXPECT_FALSE(log->connected);
    EXPECT_EQ(read(be + "/state"), "6");
    EXPECT_NE(read(be + "/error").find("removed"), std::string::npos);
    // It cannot put it back (device/vbd is dom0's), and the device can still be removed.
    EXPECT_EQ(err(guest->write(fe + "/state", "1")), XEN_EACCES);
    bool done = false;
    dev->detach([&](Result<DetachOutcome> r) {
        ASSERT_TRUE(r);
        EXPECT_FALSE(r->forced);
        done = true;
    });
    settle();
    EXPECT_TRUE(done);
    EXPECT_FALSE(exists(be));
}

TEST_F(XenbusDeviceTest, ConnectFailureWritesErrorAndCloses) {
    log->fail_connect = true;
    add();
    front_write(fe + "/state", "3");
    EXPECT_EQ(log->connects, 1);
    EXPECT_FALSE(log->connected);
    EXPECT_EQ(read(be + "/state"), "5");
    EXPECT_EQ(read(be + "/error"), "no ring-ref in the front-end directory");
    EXPECT_EQ(dev->status().error, "no ring-ref in the front-end directory");
}

TEST_F(XenbusDeviceTest, BackendFailFromAnotherThreadIsPostedToTheLoop) {
    add();
    connect_front();
    auto fail = log->fail;
    std::thread t([fail] {
        fail("hostile ring: producer 4096 past consumer");
        fail("and again");
    });
    t.join();
    EXPECT_TRUE(log->connected);  // nothing happens until the loop runs
    settle();
    EXPECT_FALSE(log->connected);
    EXPECT_EQ(log->disconnects, 1);
    EXPECT_EQ(read(be + "/state"), "5");
    EXPECT_EQ(read(be + "/error"), "hostile ring: producer 4096 past consumer");
    // The front-end starts over; a late fail() of the old connection does not touch the new one.
    front_write(fe + "/state", "6");
    front_write(fe + "/state", "1");
    front_write(fe + "/state", "3");
    ASSERT_TRUE(log->connected);
    fail("stale");
    settle();
    EXPECT_TRUE(log->connected);
    EXPECT_EQ(read(be + "/state"), "4");
}

TEST_F(XenbusDeviceTest, DetachWithCooperatingFrontend) {
    add();
    connect_front();
    std::optional<Result<DetachOutcome>> outcome;
    dev->detach([&](Result<DetachOutcome> r) { outcome = std::move(r); });
    settle();
    EXPECT_EQ(read(be + "/online"), "0");
    EXPECT_EQ(read(be + "/state"), "5");
    EXPECT_TRUE(log->connected);  // still serving until the front-end lets go
    EXPECT_FALSE(outcome);
    bool again = false;
    dev->detach([&](Result<DetachOutcome> r) {
        EXPECT_EQ(err(r), XEN_EBUSY);
        again = true;
    });
    front_write(fe + "/state", "5");
    EXPECT_FALSE(outcome);
    front_write(fe + "/state", "6");
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_FALSE((*outcome)->forced);
    EXPECT_TRUE(again);
    EXPECT_FALSE(log->connected);
    EXPECT_TRUE(dev->gone());
    EXPECT_FALSE(exists(fe));
    EXPECT_FALSE(exists(be));
    EXPECT_FALSE(exists("/local/domain/5/device/vbd"));
    EXPECT_FALSE(exists("/local/domain/0/backend/vbd/5"));
}

TEST_F(XenbusDeviceTest, DetachWithSilentFrontendIsForcedAfterTheTimeout) {
    add(XenbusOptions{std::chrono::milliseconds(50)});
    connect_front();
    std::optional<Result<DetachOutcome>> outcome;
    dev->detach([&](Result<DetachOutcome> r) { outcome = std::move(r); });
    settle();
    EXPECT_FALSE(outcome);
    front_write(fe + "/state", "zzz");  // garbage while detaching does not cut it short
    EXPECT_FALSE(outcome);
    run_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_TRUE((*outcome)->forced);
    EXPECT_FALSE(log->connected);
    EXPECT_FALSE(exists(be));
    EXPECT_FALSE(exists(fe));
}

TEST_F(XenbusDeviceTest, DetachOfAnUnconnectedDeviceIsImmediate) {
    add();
    std::optional<Result<DetachOutcome>> outcome;
    dev->detach([&](Result<DetachOutcome> r) { outcome = std::move(r); });
    EXPECT_FALSE(outcome);  // posted, never inline
    settle();
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_FALSE((*outcome)->forced);
    EXPECT_EQ(log->connects, 0);
    EXPECT_FALSE(exists(be));
    // The front-end writing into the removed directory changes nothing for us.
    EXPECT_EQ(err(guest->write(fe + "/state", "3")), XEN_EACCES);
    settle();
    EXPECT_EQ(log->connects, 0);
}

TEST_F(XenbusDeviceTest, DestroyMidHandshakeDisconnectsAndRemovesAtOnce) {
    add();
    front_write(fe + "/ring-ref", "8");
    dev->destroy();
    EXPECT_FALSE(exists(be));
    EXPECT_FALSE(exists(fe));
    front_write("/local/domain/5/data/x", "1");  // unrelated guest activity afterwards
    EXPECT_EQ(log->connects, 0);
    dev->destroy();  // idempotent
    dev.reset();
}

TEST_F(XenbusDeviceTest, DestroyWhileConnectedAndDetaching) {
    add();
    connect_front();
    std::optional<Result<DetachOutcome>> outcome;
    dev->detach([&](Result<DetachOutcome> r) { outcome = std::move(r); });
    settle();
    dev.reset();  // the domain goes: destructor destroys
    EXPECT_FALSE(log->connected);
    EXPECT_EQ(log->disconnects, 1);
    EXPECT_FALSE(exists(be));
    settle();
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_TRUE((*outcome)->forced);
}

TEST_F(XenbusDeviceTest, AddRefusesDuplicatesAndMismatchedBackends) {
    add();
    auto nodes = vbd_nodes(kGuest, disk());
    auto again = XenbusDevice::add(io, *store, *nodes, std::make_unique<FakeBackend>("vbd", log),
                                   FrontendResources{});
    EXPECT_EQ(err(again), XEN_EEXIST);
    EXPECT_EQ(read(be + "/state"), "2");  // the first one is untouched
    auto wrong = XenbusDevice::add(io, *store, *nodes, std::make_unique<FakeBackend>("vif", log),
                                   FrontendResources{});
    EXPECT_EQ(err(wrong), XEN_EINVAL);
    DiskSpec bad = disk();
    bad.vdev = "floppy";
    EXPECT_EQ(err(vbd_nodes(kGuest, bad)), XEN_EINVAL);
}

TEST_F(XenbusDeviceTest, ReadOnlyCdromKeys) {
    DiskSpec d = disk();
    d.vdev = "hdc";
    d.cdrom = true;
    d.discard = false;
    auto n = vbd_nodes(kGuest, d);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->devid, 5632u);
    ASSERT_TRUE(add_device_nodes(*dom0, *n));
    const std::string b = backend_path(kGuest, kVbd, 5632);
    EXPECT_EQ(read(b + "/mode"), "r");
    EXPECT_EQ(read(b + "/device-type"), "cdrom");
    EXPECT_EQ(read(b + "/removable"), "1");
    EXPECT_EQ(read(b + "/discard-enable"), "0");
    EXPECT_EQ(read(frontend_path(kGuest, kVbd, 5632) + "/device-type"), "cdrom");
}

// --- device specs -------------------------------------------------------------------------

TEST(DeviceSpec, VdevNumbersFollowVbdInterface) {
    EXPECT_EQ(vdev_number("xvda"), 51712u);
    EXPECT_EQ(vdev_number("xvdb"), 51728u);
    EXPECT_EQ(vdev_number("xvda1"), 51713u);
    EXPECT_EQ(vdev_number("xvdp15"), (202u << 8) | (15u << 4) | 15u);
    EXPECT_EQ(vdev_number("xvdq"), (1u << 28) | (16u << 8));          // extended
    EXPECT_EQ(vdev_number("xvda16"), (1u << 28) | 16u);
    EXPECT_EQ(vdev_number("xvdaa"), (1u << 28) | (26u << 8));
    EXPECT_EQ(vdev_number("d0p1"), 51713u);
    EXPECT_EQ(vdev_number("d16p0"), (1u << 28) | (16u << 8));
    EXPECT_EQ(vdev_number("hda"), 768u);
    EXPECT_EQ(vdev_number("hdb"), 832u);
    EXPECT_EQ(vdev_number("hdc"), 5632u);
    EXPECT_EQ(vdev_number("hdd1"), (22u << 8) | 64u | 1u);
    EXPECT_EQ(vdev_number("sda"), 2048u);
    EXPECT_EQ(vdev_number("sdb2"), 2066u);
    EXPECT_EQ(vdev_number("51712"), 51712u);
    EXPECT_EQ(vdev_number("0xca00"), 51712u);
    for (const char* bad : {"", "xvd", "xvda0", "xvda01", "xvda256", "xvdA", "hde", "hda64", "sdq",
                            "sda16", "abc", "012", "0", "d1", "dxp1", "xvda-1", "4294967296"})
        EXPECT_FALSE(vdev_number(bad)) << bad;
}

TEST(DeviceSpec, InterfaceNames) {
    EXPECT_TRUE(is_valid_ifname("vif3.0"));
    EXPECT_TRUE(is_valid_ifname("web-0_a"));
    EXPECT_TRUE(is_valid_ifname("abcdefghijklmno"));
    for (const char* bad : {"", ".", "..", "abcdefghijklmnop", "a b", "a/b", "a:0"})
        EXPECT_FALSE(is_valid_ifname(bad)) << bad;
}

}  // namespace
}  // namespace pvhv::back
