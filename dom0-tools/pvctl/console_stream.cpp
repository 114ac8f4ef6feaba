// The console loop shared by `pvctl console`, `create -c` and `create -F`: output and typing.
#include "dom0-tools/pvctl/console_stream.h"

#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <ostream>

#include "dom0-tools/pvctl/terminal.h"

namespace pvhv::dom0 {

namespace {

Result<void> send_input(ControlConnection& conn, std::string_view bytes) {
    control::Request req;
    req.mutable_console_input()->set_data(bytes.data(), bytes.size());
    return conn.send(req);
}

}  // namespace

StreamOutcome stream_console(ControlConnection& conn, CliEnv& env, bool allow_detach, bool quiet) {
    int input = env.console_input_fd;
    const bool tty = input >= 0 && ::isatty(input);
    if (tty && !is_foreground_terminal(input)) input = -1;  // a background job: output only
    std::optional<TerminalMode> raw;
    if (tty && input >= 0) raw.emplace(input, /*keep_signals=*/!allow_detach);
    InterruptGuard interrupts;
    bool reminded = false;
    bool typed = false;  // some input was forwarded
    for (;;) {
        auto in = conn.receive(input);
        if (!in) return {StreamOutcome::Kind::Lost, 0, in.error().message};
        switch (in->kind) {
            case Incoming::Kind::Closed:
                return {StreamOutcome::Kind::Lost, 0, "pvd closed the connection"};
            case Incoming::Kind::Interrupted:
                return {StreamOutcome::Kind::Interrupted, 0, "interrupted"};
            case Incoming::Kind::Input: {
                char buf[4096];
                const ssize_t n = ::read(input, buf, sizeof buf);
                if (n < 0 && (errno == EINTR || errno == EAGAIN)) break;
                if (n <= 0) {  // end of input (or a terminal that hung up)
                    // Piped keystrokes end the session when they end, as xl console does; an
                    // input that ends without a byte (/dev/null, as scripts and ctest give)
                    // is no typing session: the stream goes on, output only.
                    if (allow_detach && !tty && typed)
                        return {StreamOutcome::Kind::Detached, 0, "end of input"};
                    input = -1;  // keep streaming, stop reading
                    break;
                }
                std::string bytes(buf, static_cast<size_t>(n));
                bool detach = false;
                if (const size_t at = bytes.find(kDetachChar); tty && at != std::string::npos) {
                    if (allow_detach) {
                        bytes.resize(at);  // what was typed before it still goes
                        detach = true;
                    } else {
                        std::erase(bytes, kDetachChar);
                        if (!std::exchange(reminded, true))
                            env.err << "\r\npvctl: create -F cannot detach: the domain lives as long "
                                       "as pvctl (Ctrl-C ends both)\r\n"
                                    << std::flush;
                    }
                }
                if (!bytes.empty()) {
                    if (auto s = send_input(conn, bytes); !s)
                        return {StreamOutcome::Kind::Lost, 0, s.error().message};
                    typed = true;
                }
                if (detach) return {StreamOutcome::Kind::Detached, 0, "detached"};
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
