// One domain's PV devices in pvd: a XenbusDevice per vbd and vif, attach, detach, status.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dom0-tools/pvd/device_backends.h"
#include "dom0-tools/xenstore/client.h"
#include "pvdrivers/back/xenbus/xenbus_device.h"

namespace pvhv::dom0 {

enum class DeviceKind { Vbd, Vif };
const char* device_kind_name(DeviceKind k);  // "vbd", "vif": also the xenstore type

// What pvctl block-list / network-list / top show of one device.
struct DeviceStatus {
    DeviceKind kind = DeviceKind::Vbd;
    uint32_t devid = 0;
    std::string name;  // the vdev of a vbd, the mac of a vif
    back::XenbusStatus xenbus;
    std::string backend_path;
    // From the front-end's directory, for display only (guest data: printable, bounded; ""
    // when absent): event-channel (or event-channel-tx), and ring-ref (vbd: ring-ref or
    // ring-ref0) or tx-ring-ref/rx-ring-ref (vif).
    std::string event_channel;
    std::string ring_ref;
    std::vector<std::pair<std::string, uint64_t>> counters;
};

// Threading: pvd's loop thread only (XenbusDevice's rules). Owned by the domain (RealDomain),
// destroyed, with every device disconnected and its directories removed, after the vCPUs
// stopped and before the guest's memory and xenstore tree go.
class DomainDevices {
  public:
    struct Context {
        boost::asio::io_context& io;
        xs::Xenstore& store;
        DeviceBackends& backends;
        DomId domid;
        back::FrontendResources resources;  // the guest's grant table, dom0's event channels
        back::XenbusOptions options{};
    };
    explicit DomainDevices(Context ctx);
    ~DomainDevices();  // destroy_all()
    DomainDevices(const DomainDevices&) = delete;
    DomainDevices& operator=(const DomainDevices&) = delete;

    // The back-end is made (DeviceBackends), then the device added (XenbusDevice::add).
    // EEXIST for a virtual-device number or vif index in use. A disk's devid is its vdev's
    // number; a vif must come with devid and mac.
    Result<uint32_t> attach_disk(const back::DiskSpec& disk);
    Result<uint32_t> attach_vif(const back::VifSpec& vif);
    // XenbusDevice::detach; the device is forgotten before `done` runs (posted). ENODEV for
    // a device that does not exist.
    void detach(DeviceKind kind, uint32_t devid, back::DetachDone done);
    std::vector<DeviceStatus> list() const;
    // Domain destroy: every device disconnected and removed at once.
    void destroy_all();

  private:
    using Key = std::pair<DeviceKind, uint32_t>;
    struct Entry {
        std::string name;
        std::unique_ptr<back::XenbusDevice> device;
    };
    bool in_use(const Key& key);
    Result<uint32_t> add(DeviceKind kind, uint32_t devid, std::string name,
                         Result<back::DeviceNodes> nodes,
                         Result<std::unique_ptr<back::BackendDevice>> backend);

    Context ctx_;
    std::unique_ptr<xs::XsClient> xs_;  // dom0: reads the front-ends' keys for list()
    std::map<Key, Entry> devices_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // detach completions check it
};

}  // namespace pvhv::dom0
