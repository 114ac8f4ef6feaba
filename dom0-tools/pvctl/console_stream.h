// Follows a console stream from pvd (ConsoleData ... DomainExited) onto pvctl's stdout.
#pragma once

#include <string>

#include "dom0-tools/pvctl/command_table.h"

namespace pvhv::dom0 {

struct StreamOutcome {
    enum class Kind {
        Exited,       // DomainExited arrived; exit_code is pvd's
        Detached,     // Ctrl-] on the terminal
        Lost,         // pvd closed the connection or failed
        Interrupted,  // SIGINT/SIGTERM
    };
    Kind kind = Kind::Lost;
    int exit_code = 0;
    std::string detail;
};

// Writes console bytes to env.out as they come. With `allow_detach` and a terminal on
// env.console_input_fd, Ctrl-] ends the stream. Restarts are reported on env.err unless
// `quiet`.
StreamOutcome stream_console(ControlConnection& conn, CliEnv& env, bool allow_detach, bool quiet);

}  // namespace pvhv::dom0
