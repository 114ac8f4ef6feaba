// A domain's PV devices as configured (disk = [...], vif = [...]): pvd's, not the hv core's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hv/error.h"
#include "pvdrivers/back/xenbus/device_spec.h"

namespace pvhv::dom0 {

// Kept next to DomainConfig (the hv core builds the VM from that) rather than inside it: pvd
// adds these devices to the domain through xenstore and its back-ends; the hv core never sees
// them, and a Domain::create that silently ignored a disk would be a trap. The manager keeps it
// per domain, with what block-attach/network-attach added and the MACs it picked, so that a
// restarted domain gets the same devices (as libxl keeps the domain's JSON config).
struct DeviceConfig {
    std::vector<back::DiskSpec> disks;
    std::vector<back::VifSpec> vifs;
    bool empty() const { return disks.empty() && vifs.empty(); }
    bool operator==(const DeviceConfig&) const = default;
};

inline constexpr size_t kMaxDisksPerDomain = 64;
inline constexpr size_t kMaxVifsPerDomain = 32;

// Checks one spec as it arrives from outside pvd (a control client): absolute target, a vdev
// with a number, a unicast MAC, interface names the kernel takes, an MTU in range.
Result<void> validate_disk(const back::DiskSpec& d);
Result<void> validate_vif(const back::VifSpec& v);
// Every spec, plus: no two disks with one virtual-device number, no two vifs with one devid
// or MAC, no more than the per-domain limits.
Result<void> validate_device_config(const DeviceConfig& c);

// What xl fills in when the config leaves it out: the next vif index (one past the highest in
// use, as libxl__device_nextid) and a random MAC in Xen's OUI. `random` returns random bits.
void assign_vif_defaults(back::VifSpec& vif, const std::vector<back::VifSpec>& existing,
                         const std::function<uint32_t()>& random);
void assign_device_defaults(DeviceConfig& c, const std::function<uint32_t()>& random);

}  // namespace pvhv::dom0
