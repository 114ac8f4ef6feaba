// Checks and defaults for a domain's configured PV devices.
#include "dom0-tools/pvd/device_config.h"

#include <set>

#include "pvdrivers/back/net/mac.h"

namespace pvhv::dom0 {

Result<void> validate_disk(const back::DiskSpec& d) {
    if (d.target.empty() || d.target.front() != '/')
        return fail(XEN_EINVAL, "disk target must be an absolute path, not '" + d.target + "'");
    if (d.target.find('\0') != std::string::npos)
        return fail(XEN_EINVAL, "disk target contains a NUL byte");
    if (!back::vdev_number(d.vdev))
        return fail(XEN_EINVAL, "disk vdev '" + d.vdev + "' is not a virtual device name");
    return {};
}

Result<void> validate_vif(const back::VifSpec& v) {
    if (!v.mac.empty()) {
        auto m = net::parse_mac(v.mac);
        if (!m) return fail(XEN_EINVAL, "vif mac '" + v.mac + "' is not a MAC address");
        if (m->is_multicast()) return fail(XEN_EINVAL, "vif mac " + v.mac + " is a multicast address");
    }
    if (!back::is_valid_ifname(v.bridge))
        return fail(XEN_EINVAL, "vif bridge '" + v.bridge + "' is not a network interface name");
    if (!v.vifname.empty() && !back::is_valid_ifname(v.vifname))
        return fail(XEN_EINVAL, "vifname '" + v.vifname + "' is not a network interface name");
    if (v.mtu < 68 || v.mtu > 65535)
        return fail(XEN_EINVAL, "vif mtu " + std::to_string(v.mtu) + " is not from 68 to 65535");
    if (v.devid && *v.devid > 65535)
        return fail(XEN_EINVAL, "vif devid " + std::to_string(*v.devid) + " is out of range");
    return {};
}

Result<void> validate_device_config(const DeviceConfig& c) {
    if (c.disks.size() > kMaxDisksPerDomain)
        return fail(XEN_E2BIG, "more than " + std::to_string(kMaxDisksPerDomain) + " disks");
    if (c.vifs.size() > kMaxVifsPerDomain)
        return fail(XEN_E2BIG, "more than " + std::to_string(kMaxVifsPerDomain) + " vifs");
    std::set<uint32_t> numbers;
    for (const auto& d : c.disks) {
        if (auto r = validate_disk(d); !r) return r;
        if (!numbers.insert(*back::vdev_number(d.vdev)).second)
            return fail(XEN_EEXIST, "two disks are virtual device " + d.vdev);
    }
    std::set<uint32_t> devids;
    std::set<std::string> macs;
    for (const auto& v : c.vifs) {
        if (auto r = validate_vif(v); !r) return r;
        if (v.devid && !devids.insert(*v.devid).second)
            return fail(XEN_EEXIST, "two vifs have devid " + std::to_string(*v.devid));
        if (!v.mac.empty() && !macs.insert(net::parse_mac(v.mac)->to_string()).second)
            return fail(XEN_EEXIST, "two vifs have mac " + v.mac);
    }
    return {};
}

void assign_vif_defaults(back::VifSpec& vif, const std::vector<back::VifSpec>& existing,
                         const std::function<uint32_t()>& random) {
    if (!vif.devid) {
        uint32_t next = 0;
        for (const auto& v : existing)
            if (v.devid && *v.devid >= next) next = *v.devid + 1;
        vif.devid = next;
    }
    if (vif.mac.empty()) {
        // A collision among 2^23 addresses is unlikely, but a domain must not get two vifs
        // with one MAC.
        for (int tries = 0; tries < 16; ++tries) {
            const uint32_t r = random();
            vif.mac = net::xen_mac_from_bytes({static_cast<uint8_t>(r >> 16), static_cast<uint8_t>(r >> 8),
                                               static_cast<uint8_t>(r)})
                          .to_string();
            bool taken = false;
            for (const auto& v : existing) taken = taken || v.mac == vif.mac;
            if (!taken) break;
        }
    }
}

void assign_device_defaults(DeviceConfig& c, const std::function<uint32_t()>& random) {
    for (size_t i = 0; i < c.vifs.size(); ++i) {
        // Each vif sees those before it (already assigned) and the explicit ones after it.
        std::vector<back::VifSpec> others;
        for (size_t j = 0; j < c.vifs.size(); ++j)
            if (j != i && (j < i || c.vifs[j].devid)) others.push_back(c.vifs[j]);
        assign_vif_defaults(c.vifs[i], others, random);
    }
}

}  // namespace pvhv::dom0
