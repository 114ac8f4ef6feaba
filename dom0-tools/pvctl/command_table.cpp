// Command dispatch, usage/help printing and flag parsing for pvctl.
#include "dom0-tools/pvctl/command_table.h"

#include <iomanip>
#include <ostream>

namespace pvhv::dom0 {

void print_usage(const Command& c, std::ostream& out) {
    out << "usage: pvctl " << c.name << (c.usage.empty() ? "" : " ") << c.usage << "\n  " << c.help
        << "\n";
}

void print_command_list(std::span<const Command> table, std::ostream& out) {
    out << "usage: pvctl COMMAND [ARGS]\n\ncommands:\n";
    for (const auto& c : table)
        out << "  " << std::left << std::setw(16) << c.name << c.help << "\n";
    out << "\n'pvctl help COMMAND' shows a command's usage. Set PVHV_RUNTIME_DIR to use another "
           "pvd.\n";
}

int dispatch(std::span<const Command> table, std::span<const std::string> args, CliEnv& env) {
    if (args.empty()) {
        print_command_list(table, env.err);
        return 2;
    }
    const std::string& name = args[0];
    if (name == "-h" || name == "--help") {
        print_command_list(table, env.out);
        return 0;
    }
    for (const auto& c : table) {
        if (c.name != name) continue;
        for (const auto& a : args.subspan(1)) {
            if (a == "--") break;
            if (a == "--help" || a == "-h") {
                print_usage(c, env.out);
                return 0;
            }
        }
        const int rc = c.handler(env, args.subspan(1));
        if (rc == kUsageError) {
            print_usage(c, env.err);
            return c.usage_exit;
        }
        return rc;
    }
    env.err << "pvctl: unknown command '" << name << "'\n";
    print_command_list(table, env.err);
    return 2;
}

std::optional<ParsedArgs> parse_args(std::string_view command, std::span<const std::string> args,
                                     std::string_view allowed_flags, std::ostream& err) {
    ParsedArgs p;
    bool only_positional = false;
    for (const auto& a : args) {
        if (only_positional || a.size() < 2 || a[0] != '-') {
            p.positional.push_back(a);
            continue;
        }
        if (a == "--") {
            only_positional = true;
            continue;
        }
        if (a[1] == '-') {
            err << "pvctl " << command << ": unknown option " << a << "\n";
            return std::nullopt;
        }
        for (size_t i = 1; i < a.size(); ++i) {
            if (allowed_flags.find(a[i]) == std::string_view::npos) {
                err << "pvctl " << command << ": unknown option -" << a[i] << "\n";
                return std::nullopt;
            }
            p.flags.insert(a[i]);
        }
    }
    return p;
}

}  // namespace pvhv::dom0
