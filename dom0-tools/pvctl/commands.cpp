// The handlers behind pvctl's command table; each talks to pvd through CliEnv::connector.
#include "dom0-tools/pvctl/commands.h"

#include <charconv>
#include <filesystem>
#include <ostream>

#include "dom0-tools/pvctl/cli_format.h"
#include "dom0-tools/pvctl/console_stream.h"
#include "dom0-tools/pvctl/terminal.h"
#include "dom0-tools/pvctl/xl_cfg.h"
#include "dom0-tools/pvctl/xl_device_spec.h"
#include "dom0-tools/pvd/config_codec.h"
#include "dom0-tools/pvd/exit_codes.h"
#include "dom0-tools/pvd/version.h"

namespace pvhv::dom0 {
namespace {

// Connects and sends one request; prints pvd's warnings and error. nullopt on failure.
std::optional<control::Response> request(CliEnv& env, const control::Request& req) {
    auto conn = env.connector.connect(false);
    if (!conn) {
        env.err << "pvctl: " << conn.error().message << "\n";
        return std::nullopt;
    }
    auto r = call(**conn, req);
    if (!r) {
        env.err << "pvctl: " << r.error().message << "\n";
        return std::nullopt;
    }
    for (const auto& w : r->warnings()) env.err << w << "\n";
    if (!r->error().empty()) {
        env.err << "pvctl: " << r->error() << "\n";
        return std::nullopt;
    }
    return std::move(*r);
}

std::optional<control::DomainRef> domain_arg(CliEnv& env, const std::string& arg) {
    auto ref = parse_domain_ref(arg);
    if (!ref) env.err << "pvctl: '" << arg << "' is neither a domain name nor a domain id\n";
    return ref;
}

int cmd_create(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("create", args, "Fcq", env.err);
    if (!p || p->positional.empty()) return kUsageError;
    const bool foreground = p->has('F');
    const bool attach = foreground || p->has('c');
    const bool quiet = p->has('q');
    const std::string& cfg = p->positional[0];
    std::vector<std::string> overrides(p->positional.begin() + 1, p->positional.end());
    for (const auto& o : overrides) {
        if (o.find('=') == std::string::npos) {
            env.err << "pvctl create: expected KEY=VALUE after the config file, got '" << o
                    << "'\n";
            return kUsageError;
        }
    }

    if (!quiet) env.err << "Parsing config from " << cfg << "\n";
    auto text = env.read_file(cfg);
    if (!text) {
        env.err << "pvctl: " << text.error().message << "\n";
        return kExitCreateFailed;
    }
    auto parsed = parse_xl_cfg(XlCfgInput{std::move(*text), cfg, overrides, env.cwd});
    const auto& warnings = parsed ? parsed->warnings : parsed.error().warnings;
    for (const auto& w : warnings) env.err << w << "\n";
    if (!parsed) {
        for (const auto& e : parsed.error().errors) env.err << e << "\n";
        return kExitCreateFailed;
    }

    auto conn = env.connector.connect(true);
    if (!conn) {
        env.err << "pvctl: " << conn.error().message << "\n";
        return kExitCreateFailed;
    }
    control::Request req;
    auto* c = req.mutable_create();
    *c->mutable_config() = to_proto(parsed->config);
    devices_to_proto(parsed->devices, *c->mutable_config());
    c->set_attach_console(attach);
    c->set_destroy_on_disconnect(foreground);
    auto reply = call(**conn, req);
    if (!reply) {
        env.err << "pvctl: " << reply.error().message << "\n";
        return kExitCreateFailed;
    }
    for (const auto& w : reply->warnings()) env.err << w << "\n";
    if (!reply->error().empty() || !reply->has_create()) {
        env.err << "pvctl: "
                << (reply->error().empty() ? "unexpected reply from pvd" : reply->error()) << "\n";
        return kExitCreateFailed;
    }
    const auto& created = reply->create();
    if (!quiet)
        env.err << "Started domain " << created.name() << " (id=" << created.domid()
                << "), console log " << created.console_log() << "\n";
    if (!attach) return 0;
    if (!foreground && !quiet && is_foreground_terminal(env.console_input_fd))
        env.err << "Connected to domain " << created.name() << " (id=" << created.domid()
                << "); " << kDetachHint << "\n";

    // -F: the domain lives as long as this process (pvd destroys it if we go away), so
    // Ctrl-] detaching is not offered; Ctrl-C ends both.
    const StreamOutcome o = stream_console(**conn, env, !foreground, quiet);
    switch (o.kind) {
        case StreamOutcome::Kind::Exited:
            if (!quiet)
                env.err << "pvctl: domain " << created.name() << ": " << o.detail << " (exit code "
                        << o.exit_code << ")\n";
            return foreground ? o.exit_code : 0;
        case StreamOutcome::Kind::Detached:
            return 0;
        case StreamOutcome::Kind::Interrupted:
            if (foreground && !quiet)
                env.err << "pvctl: interrupted; pvd destroys domain " << created.name() << "\n";
            return foreground ? kExitInterrupted : 0;
        case StreamOutcome::Kind::Lost:
            env.err << "pvctl: "
                    << lost_pvd_message(
                           **conn, created.name() + " (id=" + std::to_string(created.domid()) + ")",
                           o.detail)
                    << "\n";
            return foreground ? kExitDestroyed : kExitFailure;
    }
    return kExitFailure;
}

int cmd_list(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("list", args, "l", env.err);
    if (!p || !p->positional.empty()) return kUsageError;
    control::ListResponse list;
    auto conn = env.connector.connect(false);
    if (!conn && conn.error().xen_errno != XEN_ENOENT) {
        env.err << "pvctl: " << conn.error().message << "\n";
        return kExitFailure;
    }
    if (conn) {
        control::Request req;
        req.mutable_list();
        auto r = call(**conn, req);
        if (!r || !r->error().empty()) {
            env.err << "pvctl: " << (r ? r->error() : r.error().message) << "\n";
            return kExitFailure;
        }
        list = r->list();
    }
    // No pvd means no domains: say so on stderr, but the listing itself is just empty.
    if (!conn) env.err << "pvctl: " << conn.error().message << "\n";
    env.out << (p->has('l') ? format_list_json(list) : format_list_table(list));
    return 0;
}

// A verb whose whole request is the domain it names (destroy, pause, unpause): `slot` picks
// the request kind and returns where its DomainRef goes.
int simple_domain_verb(CliEnv& env, std::span<const std::string> args, std::string_view name,
                       control::DomainRef* (*slot)(control::Request&)) {
    auto p = parse_args(name, args, "", env.err);
    if (!p || p->positional.size() != 1) return kUsageError;
    auto ref = domain_arg(env, p->positional[0]);
    if (!ref) return kExitFailure;
    control::Request req;
    *slot(req) = *ref;
    return request(env, req) ? 0 : kExitFailure;
}

int cmd_destroy(CliEnv& env, std::span<const std::string> args) {
    return simple_domain_verb(env, args, "destroy", [](control::Request& r) {
        return r.mutable_destroy()->mutable_domain();
    });
}

int cmd_pause(CliEnv& env, std::span<const std::string> args) {
    return simple_domain_verb(env, args, "pause", [](control::Request& r) {
        return r.mutable_pause()->mutable_domain();
    });
}

int cmd_unpause(CliEnv& env, std::span<const std::string> args) {
    return simple_domain_verb(env, args, "unpause", [](control::Request& r) {
        return r.mutable_unpause()->mutable_domain();
    });
}

// shutdown and reboot: [-w] [-F] [-t SECONDS] DOMAIN. parse_args knows flags only, so the
// value-taking -t is taken out first.
int request_shutdown(CliEnv& env, std::span<const std::string> args, std::string_view command,
                     control::ShutdownReason reason) {
    std::vector<std::string> rest;
    uint32_t timeout_s = 0;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--") {
            rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
            break;
        }
        if (args[i] != "-t") {
            rest.push_back(args[i]);
            continue;
        }
        const std::string v = i + 1 < args.size() ? args[++i] : std::string();
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), timeout_s);
        if (ec != std::errc{} || end != v.data() + v.size() || timeout_s == 0 || timeout_s > 86400) {
            env.err << "pvctl " << command << ": -t takes a number of seconds from 1 to 86400\n";
            return kUsageError;
        }
    }
    auto p = parse_args(command, rest, "wF", env.err);
    if (!p || p->positional.size() != 1) return kUsageError;
    auto ref = domain_arg(env, p->positional[0]);
    if (!ref) return kExitFailure;
    control::Request req;
    auto* s = req.mutable_shutdown();
    *s->mutable_domain() = *ref;
    s->set_wait(p->has('w'));
    s->set_reason(reason);
    s->set_force(p->has('F'));
    s->set_timeout_ms(timeout_s * 1000);
    return request(env, req) ? 0 : kExitFailure;
}

int cmd_shutdown(CliEnv& env, std::span<const std::string> args) {
    return request_shutdown(env, args, "shutdown", control::SHUTDOWN_POWEROFF);
}

int cmd_reboot(CliEnv& env, std::span<const std::string> args) {
    return request_shutdown(env, args, "reboot", control::SHUTDOWN_REBOOT);
}

int cmd_console(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("console", args, "", env.err);
    if (!p || p->positional.size() != 1) return kUsageError;
    auto ref = domain_arg(env, p->positional[0]);
    if (!ref) return kExitFailure;
    auto conn = env.connector.connect(false);
    if (!conn) {
        env.err << "pvctl: " << conn.error().message << "\n";
        return kExitFailure;
    }
    control::Request req;
    *req.mutable_console_attach()->mutable_domain() = *ref;
    auto r = call(**conn, req);
    if (!r || !r->error().empty() || !r->has_console_attach()) {
        env.err << "pvctl: "
                << (!r                   ? r.error().message
                    : r->error().empty() ? "unexpected reply"
                                         : r->error())
                << "\n";
        return kExitFailure;
    }
    if (is_foreground_terminal(env.console_input_fd))
        env.err << "Connected to domain " << r->console_attach().name()
                << " (id=" << r->console_attach().domid() << "); " << kDetachHint << "\n";
    const StreamOutcome o = stream_console(**conn, env, true, false);
    switch (o.kind) {
        case StreamOutcome::Kind::Exited:
            env.err << "pvctl: domain " << r->console_attach().name() << ": " << o.detail << "\n";
            return 0;
        case StreamOutcome::Kind::Detached:
        case StreamOutcome::Kind::Interrupted:
            return 0;
        case StreamOutcome::Kind::Lost:
            env.err << "pvctl: "
                    << lost_pvd_message(**conn,
                                        r->console_attach().name() + " (id=" +
                                            std::to_string(r->console_attach().domid()) + ")",
                                        o.detail)
                    << "\n";
            return kExitFailure;
    }
    return kExitFailure;
}

int cmd_info(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("info", args, "", env.err);
    if (!p || !p->positional.empty()) return kUsageError;
    control::Request req;
    req.mutable_info();
    auto r = request(env, req);
    if (!r) return kExitFailure;
    env.out << format_info(r->info(), kVersion);
    return 0;
}

int cmd_top(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("top", args, "l", env.err);
    if (!p || !p->positional.empty()) return kUsageError;
    control::Request req;
    req.mutable_top();
    auto r = request(env, req);
    if (!r) return kExitFailure;
    env.out << (p->has('l') ? format_top_json(r->top()) : format_top(r->top()));
    return 0;
}

int cmd_debug_dump(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("debug-dump", args, "", env.err);
    if (!p || p->positional.size() != 1) return kUsageError;
    auto ref = domain_arg(env, p->positional[0]);
    if (!ref) return kExitFailure;
    control::Request req;
    *req.mutable_debug_dump()->mutable_domain() = *ref;
    auto r = request(env, req);
    if (!r) return kExitFailure;
    env.out << r->debug_dump().text();
    return 0;
}

// xl's block-attach and network-attach take the spec as one or more words, joined with commas:
// `block-attach g /img/b.raw,raw,xvdb,rw` or `block-attach g vdev=xvdb target=/img/b.raw`.
std::string join_spec(std::span<const std::string> words) {
    std::string s;
    for (const auto& w : words) s += (s.empty() ? "" : ",") + w;
    return s;
}

// DOMAIN SPEC-WORDS... of block-attach / network-attach: the domain, and the spec parsed with
// `parse` (its warnings shown). nullopt after saying why.
template <class Parse>
auto attach_args(CliEnv& env, std::string_view command, const ParsedArgs& p, Parse parse)
    -> std::optional<std::pair<control::DomainRef, decltype(parse(std::string_view())->spec)>> {
    auto ref = domain_arg(env, p.positional[0]);
    if (!ref) return std::nullopt;
    auto parsed = parse(join_spec(std::span(p.positional).subspan(1)));
    if (!parsed) {
        env.err << "pvctl " << command << ": " << parsed.error() << "\n";
        return std::nullopt;
    }
    for (const auto& w : parsed->warnings) env.err << "pvctl " << command << ": warning: " << w << "\n";
    return std::pair(*ref, std::move(parsed->spec));
}

int cmd_block_attach(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("block-attach", args, "", env.err);
    if (!p || p->positional.size() < 2) return kUsageError;
    auto a = attach_args(env, "block-attach", *p, parse_disk_spec);
    if (!a) return kExitFailure;
    // pvd does not know our working directory (control.proto): the target goes absolute.
    auto& target = a->second.target;
    target = (std::filesystem::path(env.cwd) / target).lexically_normal().string();
    control::Request req;
    *req.mutable_device_attach()->mutable_domain() = a->first;
    *req.mutable_device_attach()->mutable_disk() = to_proto(a->second);
    return request(env, req) ? 0 : kExitFailure;
}

int cmd_network_attach(CliEnv& env, std::span<const std::string> args) {
    auto p = parse_args("network-attach", args, "", env.err);
    if (!p || p->positional.empty()) return kUsageError;
    auto a = attach_args(env, "network-attach", *p, parse_vif_spec);
    if (!a) return kExitFailure;
    control::Request req;
    *req.mutable_device_attach()->mutable_domain() = a->first;
    *req.mutable_device_attach()->mutable_vif() = to_proto(a->second);
    return request(env, req) ? 0 : kExitFailure;
}

int device_detach(CliEnv& env, std::span<const std::string> args, std::string_view name,
                  control::DeviceKind kind) {
    auto p = parse_args(name, args, "", env.err);
    if (!p || p->positional.size() != 2) return kUsageError;
    auto ref = domain_arg(env, p->positional[0]);
    if (!ref) return kExitFailure;
    control::Request req;
    auto* d = req.mutable_device_detach();
    *d->mutable_domain() = *ref;
    d->set_kind(kind);
    d->set_device(p->positional[1]);
    return request(env, req) ? 0 : kExitFailure;  // pvd's warning says when it was forced
}

int cmd_block_detach(CliEnv& env, std::span<const std::string> args) {
    return device_detach(env, args, "block-detach", control::DEVICE_VBD);
}

int cmd_network_detach(CliEnv& env, std::span<const std::string> args) {
    return device_detach(env, args, "network-detach", control::DEVICE_VIF);
}

// block-list / network-list DOMAIN...: one table per domain, as xl prints them.
int device_list(CliEnv& env, std::span<const std::string> args, std::string_view name,
                control::DeviceKind kind) {
    auto p = parse_args(name, args, "", env.err);
    if (!p || p->positional.empty()) return kUsageError;
    int rc = 0;
    for (const auto& arg : p->positional) {
        auto ref = domain_arg(env, arg);
        if (!ref) {
            rc = kExitFailure;
            continue;
        }
        control::Request req;
        auto* l = req.mutable_device_list();
        *l->mutable_domain() = *ref;
        l->set_kind(kind);
        auto r = request(env, req);
        if (!r) {
            rc = kExitFailure;
            continue;
        }
        env.out << (kind == control::DEVICE_VBD ? format_block_list(r->device_list())
                                                : format_network_list(r->device_list()));
    }
    return rc;
}

int cmd_block_list(CliEnv& env, std::span<const std::string> args) {
    return device_list(env, args, "block-list", control::DEVICE_VBD);
}

int cmd_network_list(CliEnv& env, std::span<const std::string> args) {
    return device_list(env, args, "network-list", control::DEVICE_VIF);
}

int cmd_help(CliEnv& env, std::span<const std::string> args) {
    const auto table = pvctl_commands();
    if (args.empty()) {
        print_command_list(table, env.out);
        return 0;
    }
    if (args.size() > 1) return kUsageError;
    for (const auto& c : table) {
        if (c.name == args[0]) {
            print_usage(c, env.out);
            return 0;
        }
    }
    env.err << "pvctl help: unknown command '" << args[0] << "'\n";
    return kExitUsage;
}

constexpr Command kCommands[] = {
    {"create", "[-F] [-c] [-q] CFG [KEY=VALUE...]",
     "create a domain from an xl.cfg file (-F foreground, -c console, -q quiet)", cmd_create,
     kExitCreateFailed},
    {"list", "[-l]", "list domains (-l: JSON with the full config)", cmd_list},
    {"destroy", "DOMAIN", "stop a domain at once", cmd_destroy},
    {"shutdown", "[-w] [-F] [-t SECONDS] DOMAIN",
     "ask a domain to power off (-w wait; -F destroy it if it does not within -t, default 60)",
     cmd_shutdown},
    {"reboot", "[-w] [-F] [-t SECONDS] DOMAIN",
     "ask a domain to reboot (-w wait; -F reset it if it does not within -t, default 60)",
     cmd_reboot},
    {"pause", "DOMAIN", "pause a domain: its vCPUs stop where they are", cmd_pause},
    {"unpause", "DOMAIN", "unpause a paused domain", cmd_unpause},
    {"console", "DOMAIN", "attach to a domain's console: output and typing (Ctrl-] detaches)",
     cmd_console},
    {"info", "", "show pvd and host information", cmd_info},
    {"top", "[-l]", "show per-domain exit, hypercall and PV device counters (one snapshot; -l: JSON)",
     cmd_top},
    {"debug-dump", "DOMAIN", "print a domain's event channels and grant table (cf. xl debug-keys)",
     cmd_debug_dump},
    {"block-attach", "DOMAIN DISKSPEC...",
     "add a disk to a domain (xl-disk-configuration: '/img/b.raw,raw,xvdb,rw' or vdev=... target=...)",
     cmd_block_attach},
    {"block-detach", "DOMAIN DEVID|VDEV",
     "remove a disk (waits up to 10 s for the guest to let go, then removes it anyway)",
     cmd_block_detach},
    {"block-list", "DOMAIN...", "list a domain's disks (as xl block-list)", cmd_block_list},
    {"network-attach", "DOMAIN [VIFSPEC...]",
     "add a network interface (mac=, bridge=, vifname=, mtu=...; default bridge xenbr0)",
     cmd_network_attach},
    {"network-detach", "DOMAIN DEVID|MAC",
     "remove a network interface (waits up to 10 s for the guest, then removes it anyway)",
     cmd_network_detach},
    {"network-list", "DOMAIN...", "list a domain's network interfaces (as xl network-list)",
     cmd_network_list},
    {"help", "[COMMAND]", "show commands or one command's usage", cmd_help},
};

}  // namespace

std::span<const Command> pvctl_commands() {
    return kCommands;
}

}  // namespace pvhv::dom0
