// Shutdown and reboot requests that outlive their pvctl: a watcher on the domain and a deadline.
#include "dom0-tools/pvd/shutdown_request.h"

#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "dom0-tools/pvd/domain_manager.h"
#include "dom0-tools/pvd/log.h"

namespace pvhv::dom0 {

namespace {

const char* verb(ShutdownReason r) { return r == ShutdownReason::Reboot ? "reboot" : "shut down"; }

std::string seconds(std::chrono::milliseconds t) {
    const auto ms = t.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// Kept alive by its timer's pending wait; the manager holds it only weakly (as a watcher).
// Every entry point checks `finished_` first, so nothing touches the manager once the
// request is over (the manager is gone before the loop's last handlers are destroyed).
class PendingShutdown final : public DomainWatcher,
                              public std::enable_shared_from_this<PendingShutdown> {
  public:
    PendingShutdown(boost::asio::any_io_executor loop, DomainManager& manager, DomId id,
                    std::string name, ShutdownOptions options, ShutdownDone done)
        : manager_(manager),
          id_(id),
          name_(std::move(name)),
          options_(options),
          done_(std::move(done)),
          timer_(loop) {}

    void arm() {
        timer_.expires_after(options_.timeout);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->expired();
        });
    }

    void on_console(DomId, std::string_view) override {}
    // Restarted (reboot, or on_poweroff = "restart") or gone: either way it stopped.
    void on_restarted(DomId, DomId, ShutdownReason, const std::string&) override {
        finish(std::string());
    }
    void on_exited(DomId, const ExitInfo&) override { finish(std::string()); }

  private:
    void finish(const Result<std::string>& outcome) {
        if (finished_) return;
        finished_ = true;
        timer_.cancel();
        if (done_) done_(outcome);
    }

    void expired() {
        if (finished_) return;
        const std::string late = "domain " + name_ + " did not " + verb(options_.reason) +
                                 " within " + seconds(options_.timeout) + " of the request";
        if (!options_.force) {
            log_warn(late);
            finish(fail(XEN_ETIMEDOUT, late + " (it still runs: -F stops it, or destroy)"));
            return;
        }
        finished_ = true;  // the fallback's own on_exited/on_restarted must not report first
        const std::string why = late + "; forced (-F)";
        auto r = manager_.force_shutdown(id_, options_.reason, why);
        if (done_) done_(r ? Result<std::string>(why) : Result<std::string>(std::unexpected(r.error())));
    }

    DomainManager& manager_;
    const DomId id_;
    const std::string name_;
    const ShutdownOptions options_;
    ShutdownDone done_;
    boost::asio::steady_timer timer_;
    bool finished_ = false;
};

}  // namespace

Result<ShutdownStarted> start_shutdown(boost::asio::any_io_executor loop, DomainManager& manager,
                                       DomId id, const ShutdownOptions& options, ShutdownDone done) {
    if (options.reason != ShutdownReason::Poweroff && options.reason != ShutdownReason::Reboot)
        return fail(XEN_EINVAL, "only poweroff and reboot can be requested");
    const std::string name = manager.name_of(id);
    if (auto r = manager.shutdown(id, options.reason); !r) {
        if (r.error().xen_errno != XEN_EOPNOTSUPP || !options.force) return std::unexpected(r.error());
        const std::string why =
            "domain " + name + " has no PV control interface; forced (-F) to " + verb(options.reason);
        if (auto f = manager.force_shutdown(id, options.reason, why); !f) return std::unexpected(f.error());
        return ShutdownStarted{true, why};
    }
    auto pending = std::make_shared<PendingShutdown>(loop, manager, id, name, options, std::move(done));
    if (auto w = manager.watch(id, pending, false); !w) return std::unexpected(w.error());
    pending->arm();
    return ShutdownStarted{};
}

}  // namespace pvhv::dom0
