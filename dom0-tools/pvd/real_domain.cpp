// Adapts pvhv::Domain (the hv core) to pvd's GuestDomain; part of the pvd executable only.
#include "dom0-tools/pvd/domain_console.h"
#include "dom0-tools/pvd/domain_devices.h"
#include "dom0-tools/pvd/domain_factory.h"
#include "dom0-tools/pvd/real_device_backends.h"
#include "dom0-tools/pvd/xenstore_link.h"
#include "dom0-tools/pvd/xenstore_service.h"
#include "hv/boot/guest_layout.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"

namespace pvhv::dom0 {
namespace {

class RealDomain final : public GuestDomain {
  public:
    RealDomain(std::unique_ptr<DomainConsole> console, std::unique_ptr<Domain> d,
               std::unique_ptr<XenstoreLink> store, std::unique_ptr<DomainDevices> devices)
        : console_(std::move(console)),
          d_(std::move(d)),
          store_(std::move(store)),
          devices_(std::move(devices)) {}
    ~RealDomain() override { destroy(); }  // devices, console, store go before the memory does
    Result<void> start() override { return d_->start(); }
    Result<void> pause() override { return d_->pause(); }
    Result<void> unpause() override { return d_->unpause(); }
    // The vCPUs stop first, so the guest no longer touches its rings; then its PV devices go
    // without a handshake (back-end threads joined, grant mappings and ports released, their
    // directories removed), its console stops (last output flushed, port closed) and its
    // xenstore connection goes (@releaseDomain); its memory goes with d_, last.
    void destroy() override {
        d_->destroy();
        devices_->destroy_all();
        console_->stop();
        store_.reset();
    }
    DomainState state() const override { return d_->state(); }
    CountersSnapshot counters() const override { return d_->counters(); }
    std::string transport() const override { return d_->transport(); }
    std::optional<std::chrono::nanoseconds> cpu_time() const override { return d_->cpu_time(); }
    std::string debug_dump() const override { return d_->debug_dump(); }
    bool has_pv_control() const override { return store_ && store_->has_pv_control(); }
    Result<void> request_shutdown(ShutdownReason reason) override {
        if (!store_) return fail(XEN_EOPNOTSUPP, "no PV control interface");
        return store_->request_shutdown(reason);
    }
    Result<size_t> console_input(std::string_view bytes) override {
        return console_->input(*d_, bytes);
    }
    Result<uint32_t> attach_disk(const back::DiskSpec& disk) override {
        return devices_->attach_disk(disk);
    }
    Result<uint32_t> attach_vif(const back::VifSpec& vif) override { return devices_->attach_vif(vif); }
    void detach_device(DeviceKind kind, uint32_t devid, back::DetachDone done) override {
        devices_->detach(kind, devid, std::move(done));
    }
    std::vector<DeviceStatus> devices() const override { return devices_->list(); }

  private:
    std::unique_ptr<DomainConsole> console_;  // d_'s observer: declared first, outlives it
    std::unique_ptr<Domain> d_;
    std::unique_ptr<XenstoreLink> store_;  // declared after d_: gone before guest memory
    // Declared last: its devices go first, while the guest's tree and grant table still exist.
    std::unique_ptr<DomainDevices> devices_;
};

class RealFactory final : public DomainFactory {
  public:
    explicit RealFactory(boost::asio::io_context& io) : io_(io) {}
    static Result<std::unique_ptr<RealFactory>> create(boost::asio::io_context& io) {
        // Two steps: dom0's event channels register in the registry the factory owns.
        auto f = std::make_unique<RealFactory>(io);
        auto channels = Dom0EventChannels::create(f->registry_);
        if (!channels) return std::unexpected(channels.error());
        f->dom0_channels_ = std::move(*channels);
        auto xenstore = XenstoreService::create(io, f->dom0_channels_);
        if (!xenstore) return std::unexpected(xenstore.error());
        f->xenstore_ = std::move(*xenstore);
        f->backends_ = make_device_backends();
        return f;
    }

    Result<std::unique_ptr<GuestDomain>> create(DomId id, const DomainConfig& config,
                                                DomainObserver& observer) override {
        auto console = std::make_unique<DomainConsole>(id, config.name, observer);
        auto d = Domain::create(id, config, console.get(), registry_);
        if (!d) return std::unexpected(d.error());
        // A guest without the Xen leaves cannot make hypercalls: COM1 is its console.
        if (config.xen_cpuid)
            if (auto c = console->connect(**d, io_, *dom0_channels_); !c)
                return std::unexpected(c.error());
        auto store = connect_xenstore(**d, config, *console);
        if (!store) {
            console->stop();  // before the domain's memory goes, when d does
            (*d)->destroy();
            return std::unexpected(store.error());
        }
        // Empty until the manager attaches the configured disks and vifs, before start().
        auto devices = std::make_unique<DomainDevices>(DomainDevices::Context{
            io_, xenstore_->store(), *backends_, id,
            back::FrontendResources{(*d)->grant_table(), dom0_channels_.get()}});
        return std::unique_ptr<GuestDomain>(std::make_unique<RealDomain>(
            std::move(console), std::move(*d), std::move(*store), std::move(devices)));
    }
    std::string description() const override { return "kvm (hv core)"; }

  private:
    // Before the domain starts: its store ring, event channel, params and xenstore tree.
    Result<std::unique_ptr<XenstoreLink>> connect_xenstore(Domain& d, const DomainConfig& config,
                                                           const DomainConsole& console) {
        constexpr uint32_t kRing = layout::special::kXenstoreRing;
        auto page = d.special_page(kRing);
        if (!page) return std::unexpected(page.error());
        StoreGuest guest;
        guest.id = d.id();
        guest.name = config.name;
        guest.memory_kib = config.memory_mib * 1024;
        guest.vcpus = config.vcpus;
        guest.ring_page = *page;
        guest.ring_gfn = GuestLayout::special_page(kRing).value;
        guest.set_hvm_param = [&d](uint32_t index, uint64_t value) { d.set_hvm_param(index, value); };
        if (auto c = console.pv_console())
            guest.console = xs::DomainTreeSpec::Console{c->ring_gfn.value, c->port.value};
        return XenstoreLink::connect(*xenstore_, guest);
    }

    boost::asio::io_context& io_;  // where back-ends wait for guest kicks
    // Declared in construction order; the registry outlives everything registered in it.
    DomainRegistry registry_;  // every domain this factory built, while it lives, and dom0
    std::shared_ptr<Dom0EventChannels> dom0_channels_;
    std::unique_ptr<XenstoreService> xenstore_;  // pvd's xenstored; every link is gone first
    std::unique_ptr<DeviceBackends> backends_;   // blkback and netback, for every domain
};

}  // namespace

Result<std::unique_ptr<DomainFactory>> make_domain_factory(boost::asio::io_context& io) {
    auto f = RealFactory::create(io);
    if (!f) return std::unexpected(f.error());
    return std::unique_ptr<DomainFactory>(std::move(*f));
}

}  // namespace pvhv::dom0
