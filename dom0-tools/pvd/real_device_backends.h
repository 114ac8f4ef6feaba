// pvd's DeviceBackends: the real blkback and netback; part of the pvd executable only.
#pragma once

#include <memory>

#include "dom0-tools/pvd/device_backends.h"

namespace pvhv::dom0 {

std::unique_ptr<DeviceBackends> make_device_backends();

}  // namespace pvhv::dom0
