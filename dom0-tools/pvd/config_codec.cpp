// Conversions between hv types and control.proto messages.
#include "dom0-tools/pvd/config_codec.h"

#include <xen/xen.h>

#include <cctype>

namespace pvhv::dom0 {
namespace {

control::ShutdownAction action_to_proto(ShutdownAction a) {
    switch (a) {
        case ShutdownAction::Destroy:
            return control::ACTION_DESTROY;
        case ShutdownAction::Restart:
            return control::ACTION_RESTART;
        case ShutdownAction::Preserve:
            return control::ACTION_PRESERVE;
        case ShutdownAction::RenameRestart:
            return control::ACTION_RENAME_RESTART;
        case ShutdownAction::CoredumpDestroy:
            return control::ACTION_COREDUMP_DESTROY;
        case ShutdownAction::CoredumpRestart:
            return control::ACTION_COREDUMP_RESTART;
    }
    return control::ACTION_DESTROY;
}

ShutdownAction action_from_proto(control::ShutdownAction a) {
    switch (a) {
        case control::ACTION_RESTART:
            return ShutdownAction::Restart;
        case control::ACTION_PRESERVE:
            return ShutdownAction::Preserve;
        case control::ACTION_RENAME_RESTART:
            return ShutdownAction::RenameRestart;
        case control::ACTION_COREDUMP_DESTROY:
            return ShutdownAction::CoredumpDestroy;
        case control::ACTION_COREDUMP_RESTART:
            return ShutdownAction::CoredumpRestart;
        default:
            return ShutdownAction::Destroy;
    }
}

}  // namespace

control::DomainConfig to_proto(const DomainConfig& c) {
    control::DomainConfig p;
    p.set_name(c.name);
    p.set_type(c.type == GuestType::Hvm ? control::GUEST_TYPE_HVM : control::GUEST_TYPE_PVH);
    p.set_memory_mib(c.memory_mib);
    p.set_vcpus(c.vcpus);
    p.set_kernel(c.kernel);
    p.set_ramdisk(c.ramdisk);
    p.set_cmdline(c.cmdline);
    p.set_xen_cpuid(c.xen_cpuid);
    p.set_on_poweroff(action_to_proto(c.on_poweroff));
    p.set_on_reboot(action_to_proto(c.on_reboot));
    p.set_on_crash(action_to_proto(c.on_crash));
    return p;
}

DomainConfig from_proto(const control::DomainConfig& p) {
    DomainConfig c;
    c.name = p.name();
    c.type = p.type() == control::GUEST_TYPE_HVM ? GuestType::Hvm : GuestType::Pvh;
    c.memory_mib = p.memory_mib();
    c.vcpus = p.vcpus();
    c.kernel = p.kernel();
    c.ramdisk = p.ramdisk();
    c.cmdline = p.cmdline();
    c.xen_cpuid = p.xen_cpuid();
    c.on_poweroff = action_from_proto(p.on_poweroff());
    c.on_reboot = action_from_proto(p.on_reboot());
    c.on_crash = action_from_proto(p.on_crash());
    return c;
}

control::DiskSpec to_proto(const back::DiskSpec& d) {
    control::DiskSpec p;
    p.set_target(d.target);
    p.set_vdev(d.vdev);
    p.set_readonly(d.readonly);
    p.set_cdrom(d.cdrom);
    p.set_no_discard(!d.discard);
    return p;
}

control::VifSpec to_proto(const back::VifSpec& v) {
    control::VifSpec p;
    if (v.devid) p.set_devid(*v.devid);
    p.set_mac(v.mac);
    p.set_bridge(v.bridge);
    p.set_vifname(v.vifname);
    p.set_ip(v.ip);
    p.set_mtu(v.mtu);
    return p;
}

back::DiskSpec from_proto(const control::DiskSpec& p) {
    back::DiskSpec d;
    d.target = p.target();
    d.vdev = p.vdev();
    d.readonly = p.readonly() || p.cdrom();
    d.cdrom = p.cdrom();
    d.discard = !p.no_discard();
    return d;
}

back::VifSpec from_proto(const control::VifSpec& p) {
    back::VifSpec v;
    if (p.has_devid()) v.devid = p.devid();
    v.mac = p.mac();
    if (!p.bridge().empty()) v.bridge = p.bridge();
    v.vifname = p.vifname();
    v.ip = p.ip();
    if (p.mtu() != 0) v.mtu = p.mtu();
    return v;
}

void devices_to_proto(const DeviceConfig& c, control::DomainConfig& p) {
    p.clear_disks();
    p.clear_vifs();
    for (const auto& d : c.disks) *p.add_disks() = to_proto(d);
    for (const auto& v : c.vifs) *p.add_vifs() = to_proto(v);
}

DeviceConfig devices_from_proto(const control::DomainConfig& p) {
    DeviceConfig c;
    for (const auto& d : p.disks()) c.disks.push_back(from_proto(d));
    for (const auto& v : p.vifs()) c.vifs.push_back(from_proto(v));
    return c;
}

control::DeviceKind to_proto(DeviceKind k) {
    return k == DeviceKind::Vif ? control::DEVICE_VIF : control::DEVICE_VBD;
}

DeviceKind from_proto(control::DeviceKind k) {
    return k == control::DEVICE_VIF ? DeviceKind::Vif : DeviceKind::Vbd;
}

control::DeviceInfo to_proto(const DeviceStatus& s) {
    control::DeviceInfo p;
    p.set_kind(to_proto(s.kind));
    p.set_devid(s.devid);
    p.set_name(s.name);
    p.set_backend_id(0);
    p.set_backend_state(static_cast<uint32_t>(s.xenbus.backend));
    p.set_frontend_state(s.xenbus.frontend);
    p.set_event_channel(s.event_channel);
    p.set_ring_ref(s.ring_ref);
    p.set_backend_path(s.backend_path);
    p.set_connected(s.xenbus.connected);
    p.set_error(s.xenbus.error);
    for (const auto& [k, v] : s.counters) (*p.mutable_counters())[k] = v;
    return p;
}

control::DomainState to_proto(DomainState s) {
    switch (s) {
        case DomainState::Created:
            return control::DOMAIN_STATE_CREATED;
        case DomainState::Running:
            return control::DOMAIN_STATE_RUNNING;
        case DomainState::Paused:
            return control::DOMAIN_STATE_PAUSED;
        case DomainState::Shutdown:
            return control::DOMAIN_STATE_SHUTDOWN;
        case DomainState::Dying:
            return control::DOMAIN_STATE_DYING;
        case DomainState::Dead:
            return control::DOMAIN_STATE_DEAD;
    }
    return control::DOMAIN_STATE_DEAD;
}

DomainState from_proto(control::DomainState s) {
    switch (s) {
        case control::DOMAIN_STATE_CREATED:
            return DomainState::Created;
        case control::DOMAIN_STATE_RUNNING:
            return DomainState::Running;
        case control::DOMAIN_STATE_PAUSED:
            return DomainState::Paused;
        case control::DOMAIN_STATE_SHUTDOWN:
            return DomainState::Shutdown;
        case control::DOMAIN_STATE_DYING:
            return DomainState::Dying;
        default:
            return DomainState::Dead;
    }
}

control::ShutdownReason to_proto(ShutdownReason r) {
    return static_cast<control::ShutdownReason>(static_cast<int>(r));
}

std::optional<ShutdownReason> from_proto(control::ShutdownReason r) {
    const int v = static_cast<int>(r);
    if (v < 0 || v > static_cast<int>(ShutdownReason::SoftReset)) return std::nullopt;
    return static_cast<ShutdownReason>(v);
}

std::optional<control::DomainRef> parse_domain_ref(std::string_view arg) {
    if (arg.empty()) return std::nullopt;
    control::DomainRef ref;
    bool digits = true;
    for (char c : arg) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits) {
        ref.set_name(std::string(arg));
        return ref;
    }
    if (arg.size() > 5) return std::nullopt;
    const unsigned long v = std::stoul(std::string(arg));
    if (v >= DOMID_FIRST_RESERVED) return std::nullopt;
    ref.set_id(static_cast<uint32_t>(v));
    return ref;
}

}  // namespace pvhv::dom0
