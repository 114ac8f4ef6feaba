// The toolstack's half of control/shutdown: write the command, notice the guest clearing it.
#include "dom0-tools/pvd/pv_shutdown.h"

#include "dom0-tools/pvd/log.h"
#include "dom0-tools/xenstore/path.h"

namespace pvhv::dom0 {

std::optional<std::string_view> shutdown_command(ShutdownReason reason) {
    switch (reason) {
        case ShutdownReason::Poweroff:
            return "poweroff";
        case ShutdownReason::Reboot:
            return "reboot";
        case ShutdownReason::Suspend:
        case ShutdownReason::Crash:
        case ShutdownReason::Watchdog:
        case ShutdownReason::SoftReset:
            break;
    }
    return std::nullopt;
}

PvShutdown::PvShutdown(xs::XsClient& dom0, DomId id, std::string name)
    : dom0_(dom0),
      id_(id),
      name_(std::move(name)),
      path_(xs::domain_path(id) + "/control/shutdown"),
      token_("pvd-shutdown-" + std::to_string(id.value)) {}

Result<std::unique_ptr<PvShutdown>> PvShutdown::watch(xs::XsClient& dom0, DomId id, std::string name) {
    std::unique_ptr<PvShutdown> p(new PvShutdown(dom0, id, std::move(name)));
    // The callback runs on the loop through the executor; unwatch() in the destructor
    // guarantees it never runs after the object is gone.
    auto w = dom0.watch(p->path_, p->token_, [raw = p.get()](std::string_view, std::string_view) {
        raw->changed();
    });
    if (!w) return std::unexpected(w.error());
    p->watching_ = true;
    return p;
}

PvShutdown::~PvShutdown() {
    if (watching_) (void)dom0_.unwatch(path_, token_);
}

Result<void> PvShutdown::request(ShutdownReason reason) {
    const auto cmd = shutdown_command(reason);
    if (!cmd)
        return fail(XEN_EINVAL, std::string("a guest cannot be asked for ") + to_string(reason) +
                                    " through control/shutdown");
    if (auto w = dom0_.write(path_, *cmd); !w) return w;
    outstanding_ = std::string(*cmd);
    log_info("asked domain " + name_ + " (id " + std::to_string(id_.value) + ") to " +
             outstanding_ + " through " + path_);
    return {};
}

void PvShutdown::changed() {
    if (outstanding_.empty()) return;
    auto v = dom0_.read(path_);
    // Cleared, or removed by a guest that tidies up: either way it took the request.
    if (v && !v->empty()) return;
    if (!v && v.error().xen_errno != XEN_ENOENT) return;
    log_info("domain " + name_ + " (id " + std::to_string(id_.value) + ") acknowledged the " +
             outstanding_ + " request");
    outstanding_.clear();
}

}  // namespace pvhv::dom0
