// Maps a domain's disk and vif specs to pvd's back-ends: blkback's Vbd, netback's VifBackend.
#include "dom0-tools/pvd/real_device_backends.h"

#include "pvdrivers/back/blk/vbd.h"
#include "pvdrivers/back/net/vif_backend.h"

namespace pvhv::dom0 {
namespace {

class RealDeviceBackends final : public DeviceBackends {
  public:
    // Opens the image or block device now, so a missing or unreadable target fails the attach
    // with its path.
    Result<std::unique_ptr<back::BackendDevice>> make_vbd(DomId domid, uint32_t,
                                                          const back::DiskSpec& disk) override {
        blk::VbdOptions o;
        o.path = disk.target;
        o.read_only = disk.readonly || disk.cdrom;
        o.cdrom = disk.cdrom;
        o.discard = disk.discard;
        o.label = "dom" + std::to_string(domid.value) + " " + disk.vdev;
        auto v = blk::Vbd::create(std::move(o));
        if (!v) return std::unexpected(v.error());
        return std::unique_ptr<back::BackendDevice>(std::move(*v));
    }
    // Creates the TAP (vif<domid>.<devid> or vifname) on its bridge now, in pvd's network
    // namespace: a missing bridge fails the attach with its name.
    Result<std::unique_ptr<back::BackendDevice>> make_vif(DomId domid, uint32_t devid,
                                                          const back::VifSpec& vif) override {
        auto mac = net::parse_mac(vif.mac);
        if (!mac) return fail(XEN_EINVAL, "vif " + std::to_string(devid) + " has no valid mac");
        net::VifOptions o;
        o.domid = domid;
        o.devid = devid;
        o.mac = *mac;
        o.bridge = vif.bridge;
        o.vif_name = vif.vifname;
        o.mtu = vif.mtu;
        auto v = net::VifBackend::create(o);
        if (!v) return std::unexpected(v.error());
        return std::unique_ptr<back::BackendDevice>(std::move(*v));
    }
};

}  // namespace

std::unique_ptr<DeviceBackends> make_device_backends() {
    return std::make_unique<RealDeviceBackends>();
}

}  // namespace pvhv::dom0
