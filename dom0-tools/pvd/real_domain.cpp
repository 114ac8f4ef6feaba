// Adapts pvhv::Domain (the hv core) to pvd's GuestDomain; part of the pvd executable only.
#include "dom0-tools/pvd/domain_factory.h"

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
    Result<std::unique_ptr<GuestDomain>> create(DomId id, const DomainConfig& config,
                                                DomainObserver& observer) override {
        auto d = Domain::create(id, config, &observer);
        if (!d) return std::unexpected(d.error());
        return std::unique_ptr<GuestDomain>(std::make_unique<RealDomain>(std::move(*d)));
    }
    std::string description() const override { return "kvm (hv core)"; }
};

}  // namespace

std::unique_ptr<DomainFactory> make_domain_factory() {
    return std::make_unique<RealFactory>();
}

}  // namespace pvhv::dom0
