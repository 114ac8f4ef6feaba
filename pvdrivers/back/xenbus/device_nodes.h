// A PV device's two xenstore directories, created and removed as libxl does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dom0-tools/xenstore/client.h"
#include "hv/error.h"
#include "hv/types.h"
#include "pvdrivers/back/xenbus/backend_device.h"
#include "pvdrivers/back/xenbus/device_spec.h"

namespace pvhv::back {

inline constexpr std::string_view kVbd = "vbd";
inline constexpr std::string_view kVif = "vif";

// /local/domain/<domid>/device/<type>/<devid>: the front-end's (the guest's) directory.
std::string frontend_path(DomId domid, std::string_view type, uint32_t devid);
// /local/domain/0/backend/<type>/<domid>/<devid>: the back-end's (pvd's) directory.
std::string backend_path(DomId domid, std::string_view type, uint32_t devid);

// Everything libxl__device_generic_add writes for one device, besides the generic keys
// (the front-end's backend, backend-id, state; the back-end's frontend, frontend-id, online,
// state), which add_device_nodes adds itself.
struct DeviceNodes {
    std::string type;  // "vbd", "vif"
    DomId frontend;    // the guest
    uint32_t devid = 0;
    XenbusKeys front;  // type-specific keys of the front-end directory
    XenbusKeys back;   // type-specific keys of the back-end directory
};

// libxl_device_disk_add's keys for a disk: devid is the virtual-device number.
// Front: virtual-device, device-type. Back: params, type (phy), mode (r/w), device-type
// (disk/cdrom), dev, removable, bootable, discard-enable. Fails for a vdev that has no number.
Result<DeviceNodes> vbd_nodes(DomId domid, const DiskSpec& disk);
// libxl__set_xenstore_nic's keys for a vif (devid set): front handle, mac, mtu; back mac,
// bridge, handle, type (vif), mtu, and vifname and ip when given. Fails without devid or mac.
Result<DeviceNodes> vif_nodes(DomId domid, const VifSpec& vif);

// In one transaction (retried on conflict), as libxl__device_generic_add: the front-end
// directory owned by the guest with read access for dom0, the back-end directory owned by
// dom0 with read access for the guest, both at state 1 (Initialising), the back-end online.
// EEXIST when the back-end directory already exists (libxl's "device already exists").
Result<void> add_device_nodes(xs::XsClient& dom0, const DeviceNodes& nodes);
// Removes both directories in one transaction, and the then empty device/<type> and
// backend/<type>/<domid> parents (libxl__xs_path_cleanup). Missing nodes are not an error.
Result<void> remove_device_nodes(xs::XsClient& dom0, DomId domid, std::string_view type,
                                 uint32_t devid);

}  // namespace pvhv::back
