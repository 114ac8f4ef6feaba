// Maps a domain's disk and vif specs to pvd's back-ends (blkback, netback).
#include "dom0-tools/pvd/real_device_backends.h"

namespace pvhv::dom0 {
namespace {

// blkback and netback are being written (pvdrivers/back/blk, pvdrivers/back/net). Until they
// are in the tree, a config with disk= or vif= is refused here, clearly, rather than the
// domain starting without its devices.
class RealDeviceBackends final : public DeviceBackends {
  public:
    Result<std::unique_ptr<back::BackendDevice>> make_vbd(DomId, uint32_t, const back::DiskSpec&) override {
        return fail(XEN_EOPNOTSUPP, "disk back-end not built yet (pvhv's blkback is not in this pvd)");
    }
    Result<std::unique_ptr<back::BackendDevice>> make_vif(DomId, uint32_t, const back::VifSpec&) override {
        return fail(XEN_EOPNOTSUPP, "network back-end not built yet (pvhv's netback is not in this pvd)");
    }
};

}  // namespace

std::unique_ptr<DeviceBackends> make_device_backends() {
    return std::make_unique<RealDeviceBackends>();
}

}  // namespace pvhv::dom0
