// Adapts pvhv::Domain (the hv core) to pvd's GuestDomain; part of the pvd executable only.
#include "dom0-tools/pvd/domain_factory.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"

namespace pvhv::dom0 {
namespace {

class RealDomain final : public GuestDomain {
  public:
    explicit RealDomain(std::unique_ptr<Domain> d) : d_(std::move(d)) {}
    Result<void> start() override { return d_->start(); }
    void destroy() override { d_->destroy(); }
    DomainState state() const override { return d_->state(); }
    CountersSnapshot counters() const override { return d_->counters(); }
    std::string transport() const override { return d_->transport(); }
    std::optional<std::chrono::nanoseconds> cpu_time() const override { return d_->cpu_time(); }
    std::string debug_dump() const override { return d_->debug_dump(); }
    // No xenstore yet, so no control/shutdown node the guest would watch.
    bool has_pv_control() const override { return false; }
    Result<void> request_shutdown(ShutdownReason) override {
        return fail(XEN_EOPNOTSUPP, "no PV control interface");
    }

  private:
    std::unique_ptr<Domain> d_;
};

class RealFactory final : public DomainFactory {
  public:
    RealFactory(boost::asio::io_context& io, std::shared_ptr<Dom0EventChannels> channels)
        : io_(io), dom0_channels_(std::move(channels)) {}
    static Result<std::unique_ptr<RealFactory>> create(boost::asio::io_context& io) {
        // Two steps: dom0's event channels register in the registry the factory owns.
        auto f = std::make_unique<RealFactory>(io, nullptr);
        auto channels = Dom0EventChannels::create(f->registry_);
        if (!channels) return std::unexpected(channels.error());
        f->dom0_channels_ = std::move(*channels);
        return f;
    }

    Result<std::unique_ptr<GuestDomain>> create(DomId id, const DomainConfig& config,
                                                DomainObserver& observer) override {
        auto d = Domain::create(id, config, &observer, registry_);
        if (!d) return std::unexpected(d.error());
        return std::unique_ptr<GuestDomain>(std::make_unique<RealDomain>(std::move(*d)));
    }
    std::string description() const override { return "kvm (hv core)"; }

  private:
    [[maybe_unused]] boost::asio::io_context& io_;  // where back-ends wait for guest kicks
    // Declared in construction order; the registry outlives everything registered in it.
    DomainRegistry registry_;  // every domain this factory built, while it lives, and dom0
    std::shared_ptr<Dom0EventChannels> dom0_channels_;
};

}  // namespace

Result<std::unique_ptr<DomainFactory>> make_domain_factory(boost::asio::io_context& io) {
    auto f = RealFactory::create(io);
    if (!f) return std::unexpected(f.error());
    return std::unique_ptr<DomainFactory>(std::move(*f));
}

}  // namespace pvhv::dom0
