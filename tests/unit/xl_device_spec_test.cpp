// Unit tests of xl's DISKSPEC and VIFSPEC parsers, the disk/vif keys of xl.cfg, device checks
// and defaults, and their control.proto round trip.
#include <gtest/gtest.h>

#include "dom0-tools/pvctl/xl_cfg.h"
#include "dom0-tools/pvctl/xl_device_spec.h"
#include "dom0-tools/pvd/config_codec.h"
#include "dom0-tools/pvd/device_config.h"

namespace pvhv::dom0 {
namespace {

back::DiskSpec disk_ok(std::string_view text) {
    auto r = parse_disk_spec(text);
    if (!r) {
        ADD_FAILURE() << text << ": " << r.error();
        return {};
    }
    return r->spec;
}

std::string disk_error(std::string_view text) {
    auto r = parse_disk_spec(text);
    if (r) {
        ADD_FAILURE() << text << ": expected an error";
        return {};
    }
    return r.error();
}

TEST(XlDiskSpec, EquivalentFormsFromTheManPage) {
    const back::DiskSpec expect{"/dev/vg/guest-volume", "hda", false, false, true};
    for (const char* s : {"/dev/vg/guest-volume,,hda", "/dev/vg/guest-volume,raw,hda,rw",
                          "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
                          "raw:/dev/vg/guest-volume,hda,w", "phy:/dev/vg/guest-volume,hda,w",
                          "vdev=hda,/dev/vg/guest-volume", "  /dev/vg/guest-volume , , hda "})
        EXPECT_EQ(disk_ok(s), expect) << s;
    const back::DiskSpec cd{"/root/image.iso", "hdc", true, true, true};
    for (const char* s : {"/root/image.iso,,hdc,cdrom", "/root/image.iso,,hdc,,cdrom",
                          "/root/image.iso,raw,hdc,devtype=cdrom",
                          "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso",
                          "raw:/root/image.iso,hdc:cdrom,ro"})
        EXPECT_EQ(disk_ok(s), cd) << s;
}

TEST(XlDiskSpec, PositionalFormAndFlags) {
    auto d = disk_ok("/img/a.raw,raw,xvda,rw");
    EXPECT_EQ(d.target, "/img/a.raw");
    EXPECT_EQ(d.vdev, "xvda");
    EXPECT_FALSE(d.readonly);
    EXPECT_TRUE(d.discard);
    EXPECT_TRUE(disk_ok("/img/a.raw,raw,xvdb,ro").readonly);
    EXPECT_TRUE(disk_ok("/img/a.raw,,xvdb,r").readonly);
    EXPECT_FALSE(disk_ok("vdev=xvdb,no-discard,target=/img/a.raw").discard);
    EXPECT_TRUE(disk_ok("vdev=xvdb,discard,target=/img/a.raw").discard);
    // target= takes the rest of the string, commas and all.
    EXPECT_EQ(disk_ok("vdev=xvdc, target=/img/odd,name.raw").target, "/img/odd,name.raw");
    // Ignored flags are accepted with a warning.
    auto r = parse_disk_spec("/img/a.raw,,xvda,direct-io-safe");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_NE(r->warnings[0].find("direct-io-safe"), std::string::npos);
    EXPECT_EQ(disk_ok("backendtype=phy,vdev=xvda,target=/dev/sdb").target, "/dev/sdb");
}

TEST(XlDiskSpec, RefusalsSayWhy) {
    EXPECT_NE(disk_error("/img/a.qcow2,qcow2,xvda").find("format=qcow2 is not supported"), std::string::npos);
    EXPECT_NE(disk_error("qcow2:/img/a.qcow2,xvda,w").find("format=qcow2"), std::string::npos);
    EXPECT_NE(disk_error("/img/a,zip,xvda").find("unknown disk format"), std::string::npos);
    EXPECT_NE(disk_error("/img/a.raw").find("no vdev"), std::string::npos);
    EXPECT_NE(disk_error("/img/a.raw,,floppy").find("not a virtual device name"), std::string::npos);
    EXPECT_NE(disk_error("vdev=xvda").find("no target"), std::string::npos);
    EXPECT_NE(disk_error(",,hdc,cdrom").find("empty cdrom"), std::string::npos);
    EXPECT_NE(disk_error("/img/a.iso,,hdc,rw,cdrom").find("read-only"), std::string::npos);
    EXPECT_NE(disk_error("/img/a.raw,,xvda,rwx").find("access must be"), std::string::npos);
    EXPECT_NE(disk_error("/img/a.raw,,xvda,rw,extra").find("too many positional"), std::string::npos);
    EXPECT_NE(disk_error("vdev=xvda,vdev=xvdb,target=/a").find("given twice"), std::string::npos);
    EXPECT_NE(disk_error("/a,,xvda,backendtype=qdisk").find("backendtype=qdisk"), std::string::npos);
    EXPECT_NE(disk_error("/a,,xvda,backend=3").find("control domain"), std::string::npos);
    EXPECT_NE(disk_error("/a,,xvda,script=block-iscsi").find("script"), std::string::npos);
    EXPECT_NE(disk_error("/a,,xvda,devtype=floppy").find("devtype"), std::string::npos);
    EXPECT_NE(disk_error("/a,,xvda,frob=1").find("unknown disk parameter 'frob'"), std::string::npos);
    EXPECT_NE(disk_error("/a,,xvda,discard,no-discard").find("contradict"), std::string::npos);
}

TEST(XlVifSpec, KeysAndDefaults) {
    auto r = parse_vif_spec("mac=00:16:3E:AA:bb:01, bridge=br0,vifname=web0 ,ip=10.0.0.2,mtu=9000,devid=3");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->spec.mac, "00:16:3e:aa:bb:01");
    EXPECT_EQ(r->spec.bridge, "br0");
    EXPECT_EQ(r->spec.vifname, "web0");
    EXPECT_EQ(r->spec.ip, "10.0.0.2");
    EXPECT_EQ(r->spec.mtu, 9000u);
    EXPECT_EQ(r->spec.devid, 3u);
    auto d = parse_vif_spec("");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->spec, back::VifSpec{});
    EXPECT_EQ(d->spec.bridge, "xenbr0");
    auto w = parse_vif_spec("type=vif,model=e1000,script=vif-bridge,backend=0");
    ASSERT_TRUE(w) << w.error();
    EXPECT_EQ(w->warnings.size(), 2u);
}

TEST(XlVifSpec, Refusals) {
    auto error = [](std::string_view s) {
        auto r = parse_vif_spec(s);
        return r ? std::string("accepted") : r.error();
    };
    EXPECT_NE(error("mac=00:16:3e").find("not a MAC"), std::string::npos);
    EXPECT_NE(error("mac=01:00:5e:00:00:01").find("multicast"), std::string::npos);
    EXPECT_NE(error("bridge=br 0").find("bridge"), std::string::npos);
    EXPECT_NE(error("vifname=averyveryverylongname").find("vifname"), std::string::npos);
    EXPECT_NE(error("type=ioemu").find("emulated NIC"), std::string::npos);
    EXPECT_NE(error("mtu=10").find("mtu"), std::string::npos);
    EXPECT_NE(error("devid=x").find("devid"), std::string::npos);
    EXPECT_NE(error("backend=2").find("control domain"), std::string::npos);
    EXPECT_NE(error("bridge").find("key=value"), std::string::npos);
    EXPECT_NE(error("bridge=a,bridge=b").find("twice"), std::string::npos);
    EXPECT_NE(error("colour=blue").find("unknown vif parameter 'colour'"), std::string::npos);
}

// --- xl.cfg keys --------------------------------------------------------------------------

std::expected<XlCfgResult, XlCfgFailure> parse(const std::string& extra) {
    return parse_xl_cfg(XlCfgInput{"name = 'g'\nkernel = '/boot/k'\n" + extra,
                                   "/etc/pvhv/g.cfg", {}, "/home/u"});
}

TEST(XlCfgDevices, DiskAndVifListsWithRelativeTargets) {
    auto r = parse("disk = [ 'a.raw,raw,xvda,rw',\n  'format=raw, vdev=xvdb, access=ro, target=/srv/b.img' ]\n"
                   "vif = [ 'bridge=br0', 'mac=00:16:3e:00:00:01,bridge=br1' ]\n");
    ASSERT_TRUE(r) << r.error().errors[0];
    ASSERT_EQ(r->devices.disks.size(), 2u);
    EXPECT_EQ(r->devices.disks[0].target, "/etc/pvhv/a.raw");  // like kernel: the cfg's directory
    EXPECT_EQ(r->devices.disks[1].target, "/srv/b.img");
    EXPECT_TRUE(r->devices.disks[1].readonly);
    ASSERT_EQ(r->devices.vifs.size(), 2u);
    EXPECT_EQ(r->devices.vifs[0].bridge, "br0");
    EXPECT_TRUE(r->devices.vifs[0].mac.empty());  // pvd picks it
    EXPECT_TRUE(r->warnings.empty());
    // A command-line override's relative target is relative to the working directory.
    auto o = parse_xl_cfg(XlCfgInput{"name='g'\nkernel='/k'\n", "/etc/pvhv/g.cfg",
                                     {"disk=['c.raw,,xvda']"}, "/home/u"});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->devices.disks[0].target, "/home/u/c.raw");
}

TEST(XlCfgDevices, ErrorsNameTheEntryLine) {
    auto r = parse("disk = [ '/a.raw,,xvda',\n         '/b.qcow2,qcow2,xvdb' ]\n");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().errors[0].find("/etc/pvhv/g.cfg:4: disk '/b.qcow2,qcow2,xvdb': format=qcow2"),
              std::string::npos)
        << r.error().errors[0];
    auto dup = parse("disk = [ '/a,,xvda', '/b,,51712' ]\n");
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.error().errors[0].find("g.cfg:3: two disks are virtual device"), std::string::npos)
        << dup.error().errors[0];
    auto macs = parse("vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3E:00:00:01' ]\n");
    ASSERT_FALSE(macs);
    EXPECT_NE(macs.error().errors[0].find("two vifs have mac"), std::string::npos);
    auto notlist = parse("disk = '/a,,xvda'\n");
    ASSERT_FALSE(notlist);
    EXPECT_NE(notlist.error().errors[0].find("expects a list of strings"), std::string::npos);
    auto notstr = parse("vif = [ 3 ]\n");
    ASSERT_FALSE(notstr);
    EXPECT_NE(notstr.error().errors[0].find("entries must be strings"), std::string::npos);
    auto warned = parse("vif = [ 'model=e1000' ]\n");
    ASSERT_TRUE(warned);
    ASSERT_EQ(warned->warnings.size(), 1u);
    EXPECT_NE(warned->warnings[0].find("g.cfg:3: warning: vif 'model=e1000': vif parameter model"),
              std::string::npos)
        << warned->warnings[0];
}

// --- checks, defaults, wire -----------------------------------------------------------------

TEST(DeviceConfig, ValidationOfSpecsFromOutside) {
    DeviceConfig c;
    c.disks.push_back(back::DiskSpec{"relative.raw", "xvda"});
    EXPECT_FALSE(validate_device_config(c));
    c.disks[0].target = "/ok.raw";
    EXPECT_TRUE(validate_device_config(c));
    c.disks[0].vdev = "nonsense";
    EXPECT_FALSE(validate_device_config(c));
    c.disks[0].vdev = "xvda";
    back::VifSpec v;
    v.mtu = 20;
    c.vifs.push_back(v);
    EXPECT_FALSE(validate_device_config(c));
    c.vifs[0].mtu = 1500;
    c.vifs[0].bridge = "";
    EXPECT_FALSE(validate_device_config(c));
    c.vifs[0].bridge = "br0";
    c.vifs[0].vifname = "x/y";
    EXPECT_FALSE(validate_device_config(c));
    c.vifs[0].vifname = "";
    c.vifs[0].devid = 1;
    c.vifs.push_back(c.vifs[0]);
    EXPECT_EQ(validate_device_config(c).error().xen_errno, XEN_EEXIST);
}

TEST(DeviceConfig, DefaultsPickNextIndexAndXenMacs) {
    DeviceConfig c;
    c.vifs.resize(3);
    c.vifs[1].devid = 4;
    c.vifs[2].mac = "00:16:3e:00:00:09";
    uint32_t n = 0;
    assign_device_defaults(c, [&n] { return 0x010203u * ++n; });
    EXPECT_EQ(c.vifs[0].devid, 5u);  // one past the highest given
    EXPECT_EQ(c.vifs[1].devid, 4u);
    EXPECT_EQ(c.vifs[2].devid, 6u);
    EXPECT_EQ(c.vifs[0].mac, "00:16:3e:01:02:03");
    EXPECT_EQ(c.vifs[1].mac, "00:16:3e:02:04:06");
    EXPECT_EQ(c.vifs[2].mac, "00:16:3e:00:00:09");  // given: kept
    EXPECT_TRUE(validate_device_config(c));
    // Defaults are stable: assigning again changes nothing.
    const DeviceConfig before = c;
    assign_device_defaults(c, [] { return 0x777777u; });
    EXPECT_EQ(c, before);
    // Without any index in use, vifs count from 0 as in xl.
    DeviceConfig fresh;
    fresh.vifs.resize(2);
    assign_device_defaults(fresh, [] { return 0u; });
    EXPECT_EQ(fresh.vifs[0].devid, 0u);
    EXPECT_EQ(fresh.vifs[1].devid, 1u);
}

TEST(DeviceConfig, ProtoRoundTrip) {
    DeviceConfig c;
    c.disks.push_back(back::DiskSpec{"/a.raw", "xvda", false, false, true});
    c.disks.push_back(back::DiskSpec{"/b.iso", "hdc", true, true, false});
    back::VifSpec v;
    v.devid = 2;
    v.mac = "00:16:3e:00:00:01";
    v.bridge = "br7";
    v.vifname = "g0";
    v.ip = "10.1.1.1";
    v.mtu = 9000;
    c.vifs.push_back(v);
    c.vifs.push_back(back::VifSpec{});
    control::DomainConfig p;
    devices_to_proto(c, p);
    std::string wire;
    ASSERT_TRUE(p.SerializeToString(&wire));
    control::DomainConfig q;
    ASSERT_TRUE(q.ParseFromString(wire));
    EXPECT_EQ(devices_from_proto(q), c);
    EXPECT_FALSE(q.vifs(1).has_devid());
    // proto3 zeros take the defaults.
    control::VifSpec empty;
    EXPECT_EQ(from_proto(empty), back::VifSpec{});
}

}  // namespace
}  // namespace pvhv::dom0
