// Follows a console stream from pvd (ConsoleData ... DomainExited) and types into it.
#pragma once

#include <string>

#include "dom0-tools/pvctl/command_table.h"

namespace pvhv::dom0 {

struct StreamOutcome {
    enum class Kind {
        Exited,       // DomainExited arrived; exit_code is pvd's
        Detached,     // Ctrl-] on the terminal, or the end of piped input
        Lost,         // pvd closed the connection or failed
        Interrupted,  // SIGINT/SIGTERM/SIGHUP
    };
    Kind kind = Kind::Lost;
    int exit_code = 0;
    std::string detail;
};

// Writes console bytes to env.out as they come and sends what arrives on
// env.console_input_fd to the guest (ConsoleInput), as `xl console` does:
//  * a terminal (in the foreground) is put in raw mode for the duration; Ctrl-] detaches
//    when `allow_detach`, and keystrokes, Ctrl-C included, go to the guest. Without
//    `allow_detach` (create -F: the domain lives as long as pvctl) the terminal keeps its
//    signal keys, so Ctrl-C ends pvctl and the domain, and Ctrl-] only prints a reminder.
//  * anything else (a pipe, a file) is forwarded byte for byte; its end detaches when
//    `allow_detach` and it delivered anything, else input just stops (so `< /dev/null` streams
//    output only, until the domain exits).
// Restarts are reported on env.err unless `quiet`.
StreamOutcome stream_console(ControlConnection& conn, CliEnv& env, bool allow_detach, bool quiet);

// The hint printed when a console is attached on a terminal.
inline constexpr const char* kDetachHint = "Ctrl-] detaches";

}  // namespace pvhv::dom0
