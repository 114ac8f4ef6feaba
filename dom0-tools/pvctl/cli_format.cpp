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
        o += "      \"on_crash\": " + json_escape(action_name(c.on_crash)) + ",\n";
        const DeviceConfig dev = devices_from_proto(d.config());
        o += "      \"disks\": [";
        for (size_t k = 0; k < dev.disks.size(); ++k) {
            const auto& x = dev.disks[k];
            o += std::string(k ? ", " : "") + "{\"target\": " + json_escape(x.target) +
                 ", \"vdev\": " + json_escape(x.vdev) + ", \"access\": " +
                 json_escape(x.readonly ? "ro" : "rw") + ", \"devtype\": " +
                 json_escape(x.cdrom ? "cdrom" : "disk") + ", \"discard\": " +
                 (x.discard ? "true" : "false") + "}";
        }
        o += "],\n      \"vifs\": [";
        for (size_t k = 0; k < dev.vifs.size(); ++k) {
            const auto& x = dev.vifs[k];
            o += std::string(k ? ", " : "") + "{\"devid\": " +
                 (x.devid ? std::to_string(*x.devid) : "null") + ", \"mac\": " + json_escape(x.mac) +
                 ", \"bridge\": " + json_escape(x.bridge) + ", \"vifname\": " +
                 json_escape(x.vifname) + ", \"ip\": " + json_escape(x.ip) +
                 ", \"mtu\": " + std::to_string(x.mtu) + "}";
        }
        o += "]\n";
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
        for (const auto& dev : d.devices()) {
            // "vbd xvda", "vif 0": how the user named it; the counters sorted as the others.
            const std::string kind = dev.kind() == control::DEVICE_VIF ? "vif" : "vbd";
            const std::string label =
                kind + " " + (dev.kind() == control::DEVICE_VIF ? std::to_string(dev.devid()) : dev.name());
            if (dev.counters().empty()) counter_row(o, label.c_str(), "(no counters)", 0);
            counter_rows(o, label.c_str(), dev.counters());
        }
    }
    if (top.domains().empty()) o = "no domains\n";
    return o;
}

namespace {
std::string json_counters(const google::protobuf::Map<std::string, uint64_t>& m) {
    // Sorted by name, so the output is stable (protobuf maps have no order).
    std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());
    std::sort(v.begin(), v.end());
    std::string o = "{";
    for (size_t i = 0; i < v.size(); ++i)
        o += (i ? ", " : "") + json_escape(v[i].first) + ": " + std::to_string(v[i].second);
    return o + "}";
}
}  // namespace

std::string format_top_json(const control::TopResponse& top) {
    std::string o = "[";
    bool first = true;
    for (const auto& d : top.domains()) {
        o += first ? "\n" : ",\n";
        first = false;
        o += "  {\"domid\": " + std::to_string(d.domid()) + ", \"name\": " + json_escape(d.name()) +
             ",\n   \"exits\": " + json_counters(d.exits()) +
             ",\n   \"hypercalls\": " + json_counters(d.hypercalls()) +
             ",\n   \"hypercall_enosys\": " + std::to_string(d.hypercall_enosys()) +
             ", \"mmio_unclaimed\": " + std::to_string(d.mmio_unclaimed()) + ",\n   \"devices\": [";
        for (int i = 0; i < d.devices_size(); ++i) {
            const auto& dev = d.devices(i);
            o += std::string(i ? ", " : "") + "{\"kind\": " +
                 (dev.kind() == control::DEVICE_VIF ? "\"vif\"" : "\"vbd\"") +
                 ", \"devid\": " + std::to_string(dev.devid()) + ", \"name\": " +
                 json_escape(dev.name()) + ", \"counters\": " + json_counters(dev.counters()) + "}";
        }
        o += "]}";
    }
    return o + (first ? "]\n" : "\n]\n");
}

namespace {
// A number the guest wrote (event channel, ring ref, state) for xl's %d columns: -1 when absent.
std::string or_minus_one(const std::string& s) {
    return s.empty() ? "-1" : s;
}
}  // namespace

std::string format_block_list(const control::DeviceListResponse& list) {
    std::string o;
    char line[512];
    std::snprintf(line, sizeof line, "%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle",
                  "state", "evt-ch", "ring-ref", "BE-path");
    o += line;
    for (const auto& d : list.devices()) {
        std::snprintf(line, sizeof line, "%-5u %-3u %-6u %-5s %-6s %-8s %-30s\n", d.devid(),
                      d.backend_id(), list.domid(), or_minus_one(d.frontend_state()).c_str(),
                      or_minus_one(d.event_channel()).c_str(), or_minus_one(d.ring_ref()).c_str(),
                      d.backend_path().c_str());
        o += line;
    }
    return o;
}

std::string format_network_list(const control::DeviceListResponse& list) {
    std::string o;
    char line[512];
    std::snprintf(line, sizeof line, "%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE",
                  "Mac Addr.", "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
    o += line;
    for (const auto& d : list.devices()) {
        std::string tx = "-1", rx = "-1";
        if (const size_t slash = d.ring_ref().find('/'); slash != std::string::npos) {
            tx = or_minus_one(d.ring_ref().substr(0, slash));
            rx = or_minus_one(d.ring_ref().substr(slash + 1));
        }
        std::snprintf(line, sizeof line, "%-3u %-2u %-17s %6u %5s %6s %5s/%-11s %-30s\n", d.devid(),
                      d.backend_id(), d.name().c_str(), d.devid(),
                      or_minus_one(d.frontend_state()).c_str(), or_minus_one(d.event_channel()).c_str(),
                      tx.c_str(), rx.c_str(), d.backend_path().c_str());
        o += line;
    }
    return o;
}

}  // namespace pvhv::dom0
