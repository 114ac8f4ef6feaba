// The console-streaming loop shared by `pvctl console`, `create -c` and `create -F`.
#include "dom0-tools/pvctl/console_stream.h"

#include <unistd.h>

#include <optional>
#include <ostream>

#include "dom0-tools/pvctl/terminal.h"

namespace pvhv::dom0 {

StreamOutcome stream_console(ControlConnection& conn, CliEnv& env, bool allow_detach, bool quiet) {
    int input = allow_detach ? env.console_input_fd : -1;
    std::optional<TerminalMode> tty;
    if (input >= 0) tty.emplace(input);
    InterruptGuard interrupts;
    for (;;) {
        auto in = conn.receive(input);
        if (!in) return {StreamOutcome::Kind::Lost, 0, in.error().message};
        switch (in->kind) {
            case Incoming::Kind::Closed:
                return {StreamOutcome::Kind::Lost, 0, "pvd closed the connection"};
            case Incoming::Kind::Interrupted:
                return {StreamOutcome::Kind::Interrupted, 0, "interrupted"};
            case Incoming::Kind::Input: {
                char buf[256];
                const ssize_t n = ::read(input, buf, sizeof buf);
                if (n <= 0) {
                    input = -1;  // stdin closed: keep streaming, stop watching it
                    break;
                }
                // No console input path into the guest yet: only Ctrl-] means something.
                for (ssize_t i = 0; i < n; ++i)
                    if (buf[i] == kDetachChar)
                        return {StreamOutcome::Kind::Detached, 0, "detached"};
                break;
            }
            case Incoming::Kind::Message: {
                const control::Response& r = in->message;
                if (!r.error().empty()) return {StreamOutcome::Kind::Lost, 0, r.error()};
                if (r.has_console_data()) {
                    env.out.write(r.console_data().data().data(),
                                  static_cast<std::streamsize>(r.console_data().data().size()));
                    env.out.flush();
                } else if (r.has_domain_restarted()) {
                    if (!quiet)
                        env.err << "pvctl: domain " << r.domain_restarted().name()
                                << " restarted as id " << r.domain_restarted().new_domid() << "\n";
                } else if (r.has_domain_exited()) {
                    const auto& e = r.domain_exited();
                    return {StreamOutcome::Kind::Exited, e.exit_code(), e.detail()};
                }
                break;
            }
        }
    }
}

}  // namespace pvhv::dom0
