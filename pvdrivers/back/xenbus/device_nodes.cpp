// libxl's device directories for vbd and vif: keys, permissions, one transaction each way.
#include "pvdrivers/back/xenbus/device_nodes.h"

#include "dom0-tools/xenstore/path.h"
#include "pvdrivers/back/net/mac.h"

namespace pvhv::back {

std::string frontend_path(DomId domid, std::string_view type, uint32_t devid) {
    return xs::domain_path(domid) + "/device/" + std::string(type) + "/" + std::to_string(devid);
}

std::string backend_path(DomId domid, std::string_view type, uint32_t devid) {
    return "/local/domain/0/backend/" + std::string(type) + "/" + std::to_string(domid.value) +
           "/" + std::to_string(devid);
}

Result<DeviceNodes> vbd_nodes(DomId domid, const DiskSpec& disk) {
    const auto number = vdev_number(disk.vdev);
    if (!number) return fail(XEN_EINVAL, "'" + disk.vdev + "' is not a virtual device name");
    const std::string devtype = disk.cdrom ? "cdrom" : "disk";
    DeviceNodes n;
    n.type = std::string(kVbd);
    n.frontend = domid;
    n.devid = *number;
    n.front = {{"virtual-device", std::to_string(*number)}, {"device-type", devtype}};
    n.back = {
        {"params", disk.target},
        {"type", "phy"},
        {"mode", disk.readonly || disk.cdrom ? "r" : "w"},
        {"device-type", devtype},
        {"dev", disk.vdev},
        {"removable", disk.cdrom ? "1" : "0"},
        {"bootable", "1"},
        {"discard-enable", disk.discard ? "1" : "0"},
    };
    return n;
}

Result<DeviceNodes> vif_nodes(DomId domid, const VifSpec& vif) {
    if (!vif.devid) return fail(XEN_EINVAL, "vif without a device index");
    if (!net::parse_mac(vif.mac)) return fail(XEN_EINVAL, "vif without a valid mac ('" + vif.mac + "')");
    const std::string handle = std::to_string(*vif.devid);
    const std::string mtu = std::to_string(vif.mtu);
    DeviceNodes n;
    n.type = std::string(kVif);
    n.frontend = domid;
    n.devid = *vif.devid;
    n.front = {{"handle", handle}, {"mac", vif.mac}, {"mtu", mtu}};
    n.back = {{"mac", vif.mac}, {"bridge", vif.bridge}, {"handle", handle}, {"type", "vif"}, {"mtu", mtu}};
    if (!vif.vifname.empty()) n.back.emplace_back("vifname", vif.vifname);
    if (!vif.ip.empty()) n.back.emplace_back("ip", vif.ip);
    return n;
}

Result<void> add_device_nodes(xs::XsClient& dom0, const DeviceNodes& nodes) {
    if (dom0.domid() != kDom0) return fail(XEN_EPERM, "only dom0 adds devices");
    const std::string fe = frontend_path(nodes.frontend, nodes.type, nodes.devid);
    const std::string be = backend_path(nodes.frontend, nodes.type, nodes.devid);
    // libxl's frontend_perms and backend_perms. Keys written below inherit them.
    const xs::Perms fe_perms{xs::Perm{nodes.frontend, xs::kPermNone}, xs::Perm{kDom0, xs::kPermRead}};
    const xs::Perms be_perms{xs::Perm{kDom0, xs::kPermNone}, xs::Perm{nodes.frontend, xs::kPermRead}};
    return dom0.transact([&](xs::TxId t) -> Result<void> {
        if (auto r = dom0.read(be + "/state", t); r || r.error().xen_errno != XEN_ENOENT)
            return fail(XEN_EEXIST, "device " + be + " already exists");
        auto dir = [&](const std::string& path, const xs::Perms& perms, const XenbusKeys& keys) -> Result<void> {
            if (auto r = dom0.rm(path, t); !r && r.error().xen_errno != XEN_ENOENT) return r;
            if (auto r = dom0.mkdir(path, t); !r) return r;
            if (auto r = dom0.set_perms(path, perms, t); !r) return r;
            for (const auto& [k, v] : keys)
                if (auto r = dom0.write(path + "/" + k, v, t); !r) return r;
            return {};
        };
        const std::string id = std::to_string(nodes.frontend.value);
        XenbusKeys front{{"backend", be}, {"backend-id", "0"}, {"state", "1"}};
        front.insert(front.end(), nodes.front.begin(), nodes.front.end());
        XenbusKeys back{{"frontend", fe}, {"frontend-id", id}, {"online", "1"}, {"state", "1"}};
        back.insert(back.end(), nodes.back.begin(), nodes.back.end());
        if (auto r = dir(fe, fe_perms, front); !r) return r;
        return dir(be, be_perms, back);
    });
}

Result<void> remove_device_nodes(xs::XsClient& dom0, DomId domid, std::string_view type,
                                 uint32_t devid) {
    if (dom0.domid() != kDom0) return fail(XEN_EPERM, "only dom0 removes devices");
    const std::string fe = frontend_path(domid, type, devid);
    const std::string be = backend_path(domid, type, devid);
    return dom0.transact([&](xs::TxId t) -> Result<void> {
        for (const std::string& path : {fe, be}) {
            if (auto r = dom0.rm(path, t); !r && r.error().xen_errno != XEN_ENOENT) return r;
            // The parent goes with its last device, as libxl__xs_path_cleanup leaves no empty
            // device/<type> or backend/<type>/<domid> behind.
            const std::string parent(xs::parent_of(path));
            auto children = dom0.directory(parent, t);
            if (children && children->empty()) (void)dom0.rm(parent, t);
        }
        return {};
    });
}

}  // namespace pvhv::back
