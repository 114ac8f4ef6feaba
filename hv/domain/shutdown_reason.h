// Why a domain stopped: Xen's SHUTDOWN_* reasons, also pvctl create -F's exit codes.
#pragma once

namespace pvhv {

enum class ShutdownReason : int {
    Poweroff = 0, Reboot = 1, Suspend = 2, Crash = 3, Watchdog = 4, SoftReset = 5,
};
const char* to_string(ShutdownReason r);

}  // namespace pvhv
