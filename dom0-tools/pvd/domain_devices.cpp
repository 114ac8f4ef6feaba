// A domain's vbds and vifs: back-ends from the factory, xenbus devices, detach, listing.
#include "dom0-tools/pvd/domain_devices.h"

#include <boost/asio/post.hpp>

#include "dom0-tools/pvd/log.h"

namespace pvhv::dom0 {
namespace {

// A front-end's key for display: guest data, so printable and bounded.
std::string shown(xs::XsClient& xs, const std::string& path) {
    auto v = xs.read(path);
    if (!v) return {};
    std::string s;
    for (char c : std::string_view(*v).substr(0, 24)) s += (c > 0x20 && c < 0x7f) ? c : '?';
    return s;
}

}  // namespace

const char* device_kind_name(DeviceKind k) {
    return k == DeviceKind::Vbd ? "vbd" : "vif";
}

DomainDevices::DomainDevices(Context ctx)
    : ctx_(std::move(ctx)), xs_(std::make_unique<xs::XsClient>(ctx_.store, kDom0)) {}

DomainDevices::~DomainDevices() {
    destroy_all();
    alive_.reset();
}

Result<uint32_t> DomainDevices::attach_disk(const back::DiskSpec& disk) {
    auto nodes = back::vbd_nodes(ctx_.domid, disk);
    if (!nodes) return std::unexpected(nodes.error());
    if (in_use({DeviceKind::Vbd, nodes->devid}))
        return fail(XEN_EEXIST, "the domain already has a disk " + disk.vdev + " (virtual device " +
                                    std::to_string(nodes->devid) + ")");
    const uint32_t devid = nodes->devid;
    return add(DeviceKind::Vbd, devid, disk.vdev, std::move(nodes),
               ctx_.backends.make_vbd(ctx_.domid, devid, disk));
}

Result<uint32_t> DomainDevices::attach_vif(const back::VifSpec& vif) {
    auto nodes = back::vif_nodes(ctx_.domid, vif);
    if (!nodes) return std::unexpected(nodes.error());
    if (in_use({DeviceKind::Vif, nodes->devid}))
        return fail(XEN_EEXIST, "the domain already has vif " + std::to_string(nodes->devid));
    const uint32_t devid = nodes->devid;
    return add(DeviceKind::Vif, devid, vif.mac, std::move(nodes),
               ctx_.backends.make_vif(ctx_.domid, devid, vif));
}

bool DomainDevices::in_use(const Key& key) {
    auto it = devices_.find(key);
    if (it == devices_.end()) return false;
    // Detached, its completion not yet run: the number is free again.
    if (!it->second.device->gone()) return true;
    devices_.erase(it);
    return false;
}

Result<uint32_t> DomainDevices::add(DeviceKind kind, uint32_t devid, std::string name,
                                    Result<back::DeviceNodes> nodes,
                                    Result<std::unique_ptr<back::BackendDevice>> backend) {
    if (!backend) return std::unexpected(backend.error());
    auto d = back::XenbusDevice::add(ctx_.io, ctx_.store, std::move(*nodes), std::move(*backend),
                                     ctx_.resources, ctx_.options);
    if (!d) return std::unexpected(d.error());
    log_info("domain " + std::to_string(ctx_.domid.value) + ": " + device_kind_name(kind) + " " +
             std::to_string(devid) + " (" + name + ") added at " + (*d)->backend_path());
    devices_.emplace(Key{kind, devid}, Entry{std::move(name), std::move(*d)});
    return devid;
}

void DomainDevices::detach(DeviceKind kind, uint32_t devid, back::DetachDone done) {
    auto it = devices_.find({kind, devid});
    if (it == devices_.end()) {
        boost::asio::post(ctx_.io, [done = std::move(done), kind, devid] {
            done(fail(XEN_ENODEV, std::string("no ") + device_kind_name(kind) + " " + std::to_string(devid)));
        });
        return;
    }
    it->second.device->detach([this, alive = std::weak_ptr<int>(alive_), key = it->first,
                               done = std::move(done)](Result<back::DetachOutcome> r) {
        // Posted by the device; forget it here, where nothing of it runs any more.
        if (!alive.expired()) {
            auto found = devices_.find(key);
            if (found != devices_.end() && found->second.device->gone()) devices_.erase(found);
        }
        done(std::move(r));
    });
}

std::vector<DeviceStatus> DomainDevices::list() const {
    std::vector<DeviceStatus> out;
    for (const auto& [key, e] : devices_) {
        if (e.device->gone()) continue;
        DeviceStatus s;
        s.kind = key.first;
        s.devid = key.second;
        s.name = e.name;
        s.xenbus = e.device->status();
        s.backend_path = e.device->backend_path();
        const std::string fe = e.device->frontend_path();
        if (s.kind == DeviceKind::Vbd) {
            s.event_channel = shown(*xs_, fe + "/event-channel");
            s.ring_ref = shown(*xs_, fe + "/ring-ref");
            if (s.ring_ref.empty()) s.ring_ref = shown(*xs_, fe + "/ring-ref0");
        } else {
            s.event_channel = shown(*xs_, fe + "/event-channel");
            if (s.event_channel.empty()) s.event_channel = shown(*xs_, fe + "/event-channel-tx");
            const std::string tx = shown(*xs_, fe + "/tx-ring-ref");
            const std::string rx = shown(*xs_, fe + "/rx-ring-ref");
            if (!tx.empty() || !rx.empty()) s.ring_ref = tx + "/" + rx;
        }
        s.counters = e.device->counters();
        out.push_back(std::move(s));
    }
    return out;
}

void DomainDevices::destroy_all() {
    for (auto& [key, e] : devices_) e.device->destroy();
    devices_.clear();
}

}  // namespace pvhv::dom0
