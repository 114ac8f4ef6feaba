// A toolstack shutdown or reboot of one domain, followed to its end: timeout and -F fallback.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "dom0-tools/pvd/guest_domain.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::dom0 {

class DomainManager;

// libxl waits 60 s for a guest to acknowledge control/shutdown.
inline constexpr std::chrono::milliseconds kDefaultShutdownTimeout{60'000};

struct ShutdownOptions {
    ShutdownReason reason = ShutdownReason::Poweroff;  // Poweroff or Reboot
    // xl's -F. xl falls back to an ACPI power button (or reset) event; pvhv has no such
    // device for PVH guests, so the fallback is the toolstack's own: poweroff destroys the
    // domain, reboot resets it (DomainManager::force_shutdown).
    bool force = false;
    std::chrono::milliseconds timeout = kDefaultShutdownTimeout;
};

struct ShutdownStarted {
    bool finished = false;  // the fallback already ran (no PV control, force): nothing follows
    std::string note;       // for the user: what pvd did instead of asking, if anything
};

// Success (with a note for the user, possibly empty) or why the request failed.
using ShutdownDone = std::function<void(const Result<std::string>&)>;

// Asks domain `id` to power off or reboot through control/shutdown and follows it until it
// stops or is restarted (`done` gets success) or `timeout` passes first: then with force the
// fallback runs and `done` gets success with a note; without, `done` gets an error and the
// domain is left running. A domain without PV control fails at once, unless force, when the
// fallback runs at once (finished = true, `done` is not called). `done` may be empty; it runs
// on the loop, at most once, never inside start_shutdown. Loop thread only.
Result<ShutdownStarted> start_shutdown(boost::asio::any_io_executor loop, DomainManager& manager,
                                       DomId id, const ShutdownOptions& options, ShutdownDone done);

}  // namespace pvhv::dom0
