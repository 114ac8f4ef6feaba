// pvctl's xl-style command table: name, usage, one-line help, handler; dispatch and flags.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dom0-tools/pvctl/control_client.h"

namespace pvhv::dom0 {

// Everything a handler may touch; pvctl_main wires the real ones, tests substitute them.
struct CliEnv {
    std::ostream& out;
    std::ostream& err;
    ControlConnector& connector;
    std::string cwd;            // absolute; base of relative cfg paths
    // What console streams read keystrokes from (pvctl: stdin; a terminal goes raw and Ctrl-]
    // detaches, anything else is forwarded until its end); -1: none.
    int console_input_fd = -1;
    std::function<Result<std::string>(const std::string& path)> read_file;
};

// A handler returns an exit code, or kUsageError to have dispatch() print the usage.
inline constexpr int kUsageError = -1;

struct Command {
    std::string_view name;
    std::string_view usage;  // arguments after the name, e.g. "[-l]"
    std::string_view help;   // one line
    int (*handler)(CliEnv& env, std::span<const std::string> args);
    int usage_exit = 2;  // exit code for usage errors (create uses 126, see exit_codes.h)
};

// argv without the program name. No command: the list on stderr (exit 2); "-h"/"--help":
// the list (exit 0); "CMD --help": CMD's usage (exit 0); an unknown command: an error plus
// the list (exit 2).
int dispatch(std::span<const Command> table, std::span<const std::string> args, CliEnv& env);
void print_command_list(std::span<const Command> table, std::ostream& out);
void print_usage(const Command& c, std::ostream& out);

// getopt-style single-letter flags for one command: "-Fc" clusters, flags anywhere before
// "--". Anything else starting with '-' is an error ("-" alone is positional).
struct ParsedArgs {
    std::set<char> flags;
    std::vector<std::string> positional;
    bool has(char f) const { return flags.contains(f); }
};
// nullopt after printing "pvctl NAME: unknown option -x" to err.
std::optional<ParsedArgs> parse_args(std::string_view command, std::span<const std::string> args,
                                     std::string_view allowed_flags, std::ostream& err);

}  // namespace pvhv::dom0
