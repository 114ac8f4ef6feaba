// Renders list/info/top replies as xl-like tables and JSON.
#include "dom0-tools/pvctl/cli_format.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "dom0-tools/pvd/config_codec.h"
#include "dom0-tools/pvd/config_rules.h"

namespace pvhv::dom0 {

std::string xl_state_flags(const control::DomainInfo& d) {
    std::string f = "------";
    switch (d.state()) {
        case control::DOMAIN_STATE_RUNNING:
            f[0] = 'r';
            break;
        case control::DOMAIN_STATE_PAUSED:
            f[2] = 'p';
            break;
        case control::DOMAIN_STATE_SHUTDOWN:
            if (d.has_shutdown_reason() && d.shutdown_reason() == control::SHUTDOWN_CRASH)
                f[4] = 'c';
            else
                f[3] = 's';
            break;
        case control::DOMAIN_STATE_DYING:
        case control::DOMAIN_STATE_DEAD:
            f[5] = 'd';
            break;
        default:
            break;  // created, not yet running
    }
    return f;
}

std::string format_list_table(const control::ListResponse& list) {
    std::string out =
        "Name                                        ID   Mem VCPUs\tState\tTime(s)\n";
    for (const auto& d : list.domains()) {
        char time[32];
        if (d.has_cpu_time_ns())
            std::snprintf(time, sizeof time, "%8.1f", static_cast<double>(d.cpu_time_ns()) / 1e9);
        else
            std::snprintf(time, sizeof time, "%8s", "-");
        char line[256];
        std::snprintf(line, sizeof line, "%-40s %5u %5llu %5u     %s  %s\n", d.name().c_str(),
                      d.domid(), static_cast<unsigned long long>(d.config().memory_mib()),
                      d.config().vcpus(), xl_state_flags(d).c_str(), time);
        out += line;
    }
    return out;
}

std::string json_escape(std::string_view s) {
    std::string o = "\"";
    for (char c : s) {
        switch (c) {
            case '"':
                o += "\\\"";
                break;
            case '\\':
                o += "\\\\";
                break;
            case '\n':
                o += "\\n";
                break;
            case '\r':
                o += "\\r";
                break;
            case '\t':
                o += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(c));
                    o += b;
                } else {
                    o += c;
                }
        }
    }
    return o + "\"";
}

std::string format_list_json(const control::ListResponse& list) {
    std::string o = "[";
    bool first = true;
    for (const auto& d : list.domains()) {
        const DomainConfig c = from_proto(d.config());
        o += first ? "\n" : ",\n";
        first = false;
        o += "  {\n";
        o += "    \"domid\": " + std::to_string(d.domid()) + ",\n";
        o += "    \"name\": " + json_escape(d.name()) + ",\n";
        o += "    \"state\": " + json_escape(to_string(from_proto(d.state()))) + ",\n";
        std::string reason = "null";
        if (d.has_shutdown_reason())
            if (auto r = from_proto(d.shutdown_reason())) reason = json_escape(to_string(*r));
        o += "    \"shutdown_reason\": " + reason + ",\n";
        o += "    \"uptime_ms\": " + std::to_string(d.uptime_ms()) + ",\n";
        o += "    \"cpu_time_ns\": " +
             (d.has_cpu_time_ns() ? std::to_string(d.cpu_time_ns()) : "null") + ",\n";
        o += "    \"transport\": " + json_escape(d.transport()) + ",\n";
        o += "    \"console_log\": " + json_escape(d.console_log()) + ",\n";
        o += "    \"config\": {\n";
        o += "      \"name\": " + json_escape(c.name) + ",\n";
        o += "      \"type\": " + json_escape(guest_type_name(c.type)) + ",\n";
        o += "      \"memory\": " + std::to_string(c.memory_mib) + ",\n";
        o += "      \"vcpus\": " + std::to_string(c.vcpus) + ",\n";
        o += "      \"kernel\": " + json_escape(c.kernel) + ",\n";
        o += "      \"ramdisk\": " + json_escape(c.ramdisk) + ",\n";
        o += "      \"cmdline\": " + json_escape(c.cmdline) + ",\n";
        o += "      \"xen_cpuid\": " + std::string(c.xen_cpuid ? "true" : "false") + ",\n";
        o += "      \"on_poweroff\": " + json_escape(action_name(c.on_poweroff)) + ",\n";
        o += "      \"on_reboot\": " + json_escape(action_name(c.on_reboot)) + ",\n";
        o += "      \"on_crash\": " + json_escape(action_name(c.on_crash)) + "\n";
        o += "    }\n  }";
    }
    o += first ? "]\n" : "\n]\n";
    return o;
}

std::string format_info(const control::InfoResponse& info, const std::string& pvctl_version) {
    std::vector<std::pair<std::string, std::string>> rows = {
        {"pvctl version", pvctl_version},        {"pvd version", info.version()},
        {"pvd pid", std::to_string(info.pid())}, {"runtime dir", info.runtime_dir()},
        {"control socket", info.socket()},       {"domains", std::to_string(info.domains())},
        {"domain builder", info.hv_core()},
    };
    for (const auto& kv : info.host()) rows.emplace_back(kv.key(), kv.value());
    size_t w = 0;
    for (const auto& [k, v] : rows) w = std::max(w, k.size());
    std::string o;
    for (const auto& [k, v] : rows) o += k + std::string(w - k.size(), ' ') + " : " + v + "\n";
    return o;
}

namespace {
void counter_row(std::string& o, const char* kind, const std::string& name, uint64_t n) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-10s %-24s %14llu\n", kind, name.c_str(),
                  static_cast<unsigned long long>(n));
    o += line;
}

void counter_rows(std::string& o, const char* kind,
                  const google::protobuf::Map<std::string, uint64_t>& m) {
    std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (const auto& [k, n] : v) counter_row(o, kind, k, n);
}
}  // namespace

std::string format_top(const control::TopResponse& top) {
    std::string o;
    for (const auto& d : top.domains()) {
        o += d.name() + " (id " + std::to_string(d.domid()) + ")\n";
        if (d.exits().empty() && d.hypercalls().empty())
            o += "  (no exits or hypercalls counted yet)\n";
        counter_rows(o, "exit", d.exits());
        counter_rows(o, "hypercall", d.hypercalls());
        counter_row(o, "hypercall", "(-ENOSYS)", d.hypercall_enosys());
        counter_row(o, "mmio", "(unclaimed)", d.mmio_unclaimed());
    }
    if (top.domains().empty()) o = "no domains\n";
    return o;
}

}  // namespace pvhv::dom0
