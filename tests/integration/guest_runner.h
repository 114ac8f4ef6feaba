// Boots one guest through the hv library (no pvd) and collects its console and shutdown reason.
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include "hv/domain/domain.h"
#include "hv/domain/domain_registry.h"

namespace pvhv::testing {

struct GuestRun {
    std::string console;
    std::optional<ShutdownReason> reason;  // nullopt: timed out
    CountersSnapshot counters;
    std::string error;  // Domain::create failed
};

class CollectingObserver : public DomainObserver {
public:
    explicit CollectingObserver(bool echo) : echo_(echo) {}
    void console_output(DomId, std::string_view bytes) override {
        std::lock_guard lock(mu_);
        console_.append(bytes);
        if (echo_) std::fwrite(bytes.data(), 1, bytes.size(), stdout), std::fflush(stdout);
    }
    void state_changed(DomId, DomainState, std::optional<ShutdownReason>) override {}
    std::string console() const {
        std::lock_guard lock(mu_);
        return console_;
    }

private:
    const bool echo_;
    mutable std::mutex mu_;  // guards console_
    std::string console_;
};

inline GuestRun run_guest(const DomainConfig& config, std::chrono::milliseconds timeout,
                          bool echo = false) {
    CollectingObserver observer(echo);
    GuestRun run;
    DomainRegistry registry;
    auto domain = Domain::create(DomId{1}, config, &observer, registry);
    if (!domain) {
        run.error = domain.error().message;
        return run;
    }
    if (auto r = (*domain)->start(); !r) {
        run.error = r.error().message;
        return run;
    }
    if ((*domain)->wait_stopped(timeout)) run.reason = (*domain)->shutdown_reason();
    (*domain)->destroy();
    run.counters = (*domain)->counters();
    run.console = observer.console();
    return run;
}

}  // namespace pvhv::testing
