// Exit codes of `pvctl create -F` (and what pvd reports in DomainExited.exit_code).
//
//   0..5  the guest shut down with Xen's SHUTDOWN_* reason: 0 poweroff, 1 reboot,
//         2 suspend, 3 crash, 4 watchdog, 5 soft_reset
//   125   the domain was destroyed (pvctl destroy, pvd stopped, or it died without a
//         shutdown reason), or the connection to pvd was lost
//   126   the domain could not be created (usage, cfg errors, pvd unreachable, build errors)
//   130   pvctl was interrupted (SIGINT/SIGTERM); pvd destroys the bound domain
//
// Other pvctl commands exit 0 on success, 1 on failure, 2 on usage errors.
#pragma once

#include <optional>

#include "hv/domain/domain.h"

namespace pvhv::dom0 {

inline constexpr int kExitDestroyed = 125;
inline constexpr int kExitCreateFailed = 126;
inline constexpr int kExitInterrupted = 130;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

constexpr int exit_code_for(std::optional<ShutdownReason> reason) {
    return reason ? static_cast<int>(*reason) : kExitDestroyed;
}

}  // namespace pvhv::dom0
