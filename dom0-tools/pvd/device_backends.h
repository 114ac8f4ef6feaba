// Where pvd's back-ends come from: one factory for every domain's vbds and vifs.
#pragma once

#include <cstdint>
#include <memory>

#include "hv/error.h"
#include "hv/types.h"
#include "pvdrivers/back/xenbus/backend_device.h"
#include "pvdrivers/back/xenbus/device_spec.h"

namespace pvhv::dom0 {

// Makes the back-end of one device before its directories are written (blkback opens the
// image, netback creates the TAP on its bridge), so that a bad target or bridge fails the
// attach (or the domain's creation) with the back-end's reason. pvd's is real_device_backends
// (the real blkback and netback); unit tests use fakes. Called on pvd's loop thread.
class DeviceBackends {
  public:
    virtual ~DeviceBackends() = default;
    // `devid` is the virtual-device number of disk.vdev.
    virtual Result<std::unique_ptr<back::BackendDevice>> make_vbd(DomId domid, uint32_t devid,
                                                                  const back::DiskSpec& disk) = 0;
    // `vif` has its devid and mac filled in.
    virtual Result<std::unique_ptr<back::BackendDevice>> make_vif(DomId domid, uint32_t devid,
                                                                  const back::VifSpec& vif) = 0;
};

}  // namespace pvhv::dom0
