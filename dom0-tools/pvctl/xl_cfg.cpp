// xl.cfg semantics: key table, value checks, path resolution and xl's cmdline rules.
#include "dom0-tools/pvctl/xl_cfg.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "dom0-tools/pvctl/xl_cfg_syntax.h"
#include "dom0-tools/pvctl/xl_device_spec.h"
#include "dom0-tools/pvd/config_rules.h"

namespace pvhv::dom0 {
namespace {

// Keys pvhv reads. Keep in sync with the list in xl_cfg.h.
const std::set<std::string_view> kSupported = {
    "name",  "type", "memory",      "vcpus",     "kernel",   "ramdisk",   "cmdline",
    "extra", "root", "on_poweroff", "on_reboot", "on_crash", "xen_cpuid", "disk", "vif",
};

// Keys from man xl.cfg that pvhv does not implement (yet): warned about, then ignored.
const std::set<std::string_view> kKnownUnsupported = {
    "vtpm",
    "p9",
    "pvcalls",
    "vfb",
    "vkb",
    "vdispl",
    "vsnd",
    "channel",
    "usbctrl",
    "usbdev",
    "pci",
    "pci_permissive",
    "pci_msitranslate",
    "pci_seize",
    "pci_power_mgmt",
    "rdm",
    "rdm_mem_boundary",
    "iomem",
    "ioports",
    "irqs",
    "dtdev",
    "gfx_passthru",
    "maxmem",
    "builder",
    "pvh",
    "maxvcpus",
    "cpus",
    "cpus_soft",
    "cpu_weight",
    "cap",
    "vnuma",
    "bootloader",
    "bootloader_args",
    "firmware",
    "bios",
    "bios_path_override",
    "boot",
    "uuid",
    "pool",
    "seclabel",
    "init_seclabel",
    "max_grant_frames",
    "max_maptrack_frames",
    "max_grant_version",
    "max_event_channels",
    "nomigrate",
    "driver_domain",
    "device_tree",
    "passthrough",
    "on_watchdog",
    "on_soft_reset",
    "device_model",
    "device_model_version",
    "device_model_override",
    "device_model_stubdomain_override",
    "device_model_user",
    "device_model_args",
    "device_model_args_hvm",
    "device_model_args_pv",
    "serial",
    "vga",
    "videoram",
    "stdvga",
    "vnc",
    "vnclisten",
    "vncdisplay",
    "vncpasswd",
    "vncunused",
    "vncconsole",
    "sdl",
    "opengl",
    "keymap",
    "spice",
    "spicehost",
    "spiceport",
    "spicetls_port",
    "spicedisable_ticketing",
    "spicepasswd",
    "spiceagent_mouse",
    "spicevdagent",
    "spice_clipboard_sharing",
    "spiceusbredirection",
    "usb",
    "usbdevice",
    "usbversion",
    "soundhw",
    "xen_platform_pci",
    "hap",
    "oos",
    "shadow_memory",
    "acpi",
    "acpi_s3",
    "acpi_s4",
    "acpi_laptop_slate",
    "apic",
    "pae",
    "nx",
    "hpet",
    "viridian",
    "localtime",
    "rtc_timeoffset",
    "timer_mode",
    "tsc_mode",
    "nestedhvm",
    "altp2m",
    "cpuid",
    "vpt_align",
    "mmio_hole",
    "e820_host",
    "smbios_firmware",
    "acpi_firmware",
    "ms_vm_genid",
    "gic_version",
    "vuart",
    "tee",
    "dm_restrict",
    "hdtype",
    "vpmu",
    "vscsi",
    "claim_mode",
};

constexpr uint64_t kNoLimit = ~uint64_t{0};

class Builder {
  public:
    explicit Builder(const XlCfgInput& in) : in_(in) {}

    std::expected<XlCfgResult, XlCfgFailure> run() {
        if (auto r = parse_xl_settings(in_.text, in_.path, false, settings_); !r)
            return failure(r.error());
        for (size_t i = 0; i < in_.overrides.size(); ++i) {
            // Padding with newlines makes line N of "command line" the N-th override.
            const std::string text = std::string(i, '\n') + in_.overrides[i];
            if (auto r = parse_xl_settings(text, std::string(kOverrideSource), true, settings_); !r)
                return failure(r.error() + " (in override '" + in_.overrides[i] +
                               "'; quote strings for the shell: 'name=\"x\"')");
        }
        for (const auto& n : settings_.notes()) warnings_.push_back(n);
        report_unsupported_and_unknown();
        build();
        if (!errors_.empty()) return std::unexpected(XlCfgFailure{errors_, warnings_});
        return XlCfgResult{std::move(c_), std::move(devices_), std::move(warnings_)};
    }

  private:
    std::unexpected<XlCfgFailure> failure(std::string e) {
        errors_.push_back(std::move(e));
        return std::unexpected(XlCfgFailure{errors_, warnings_});
    }

    static std::string where(const XlSetting& s) {
        return s.source + ":" + std::to_string(s.line) + ": ";
    }
    void error(const XlSetting& s, const std::string& m) { errors_.push_back(where(s) + m); }
    void warn(const XlSetting& s, const std::string& m) {
        warnings_.push_back(where(s) + "warning: " + m);
    }
    void error_file(const std::string& m) { errors_.push_back(in_.path + ": " + m); }

    void report_unsupported_and_unknown() {
        for (const auto& s : settings_.all()) {
            if (kSupported.contains(s.key)) continue;
            if (kKnownUnsupported.contains(s.key))
                warn(s, "key " + s.key + " is not supported yet, ignored");
            else
                warn(s, "unknown key " + s.key);
        }
    }

    std::optional<std::string> get_string(std::string_view key) {
        const XlSetting* s = settings_.find(key);
        if (!s) return std::nullopt;
        if (s->value.kind == XlValue::Kind::List) {
            error(*s, std::string(key) + " expects a string, not a list");
            return std::nullopt;
        }
        return s->value.text;
    }

    // xl reads integers with strtol(base 0): decimal, 0x hex, leading-0 octal.
    std::optional<uint64_t> get_uint(std::string_view key, uint64_t min, uint64_t max) {
        const XlSetting* s = settings_.find(key);
        if (!s) return std::nullopt;
        if (s->value.kind == XlValue::Kind::List) {
            error(*s, std::string(key) + " expects a number, not a list");
            return std::nullopt;
        }
        const std::string& t = s->value.text;
        if (t.empty() || !std::isdigit(static_cast<unsigned char>(t.front()))) {
            error(*s, std::string(key) + " expects a non-negative integer, got \"" + t + "\"");
            return std::nullopt;
        }
        errno = 0;
        char* end = nullptr;
        const unsigned long long v = std::strtoull(t.c_str(), &end, 0);
        if (errno == ERANGE || *end != '\0') {
            error(*s, std::string(key) + " expects an integer, got \"" + t + "\"");
            return std::nullopt;
        }
        if (v < min || v > max) {
            error(*s, std::string(key) + " = " + t + " is out of range (" + std::to_string(min) +
                          (max == kNoLimit ? " or more" : ".." + std::to_string(max)) + ")");
            return std::nullopt;
        }
        return v;
    }

    std::string resolve_path(const XlSetting& s, const std::string& value) {
        namespace fs = std::filesystem;
        const fs::path p(value);
        if (p.is_absolute()) return p.lexically_normal().string();
        fs::path base;
        if (s.from_command_line) {
            base = fs::path(in_.cwd);
        } else {
            fs::path cfg(in_.path);
            if (cfg.is_relative()) cfg = fs::path(in_.cwd) / cfg;
            base = cfg.parent_path();
        }
        return (base / p).lexically_normal().string();
    }

    void build() {
        if (auto name = get_string("name")) {
            if (auto p = domain_name_problem(*name))
                error(*settings_.find("name"), *p + " (name = \"" + *name + "\")");
            c_.name = *name;
        } else if (!settings_.find("name")) {
            error_file("no name given (name = \"...\" is required)");
        }

        if (auto type = get_string("type")) {
            const XlSetting& s = *settings_.find("type");
            if (*type == "pvh") {
                c_.type = GuestType::Pvh;
            } else if (*type == "hvm") {
                c_.type = GuestType::Hvm;
            } else if (*type == "pv") {
                error(s,
                      "type \"pv\" (classic Xen PV guests) is not supported by pvhv; "
                      "use type = \"pvh\" (the same kernel, CONFIG_XEN_PVH) or \"hvm\"");
            } else {
                error(s, "type must be \"pvh\" or \"hvm\", not \"" + *type + "\"");
            }
        }
        c_.xen_cpuid = c_.type == GuestType::Pvh;

        if (auto m = get_uint("memory", 1, kMaxMemoryMib)) c_.memory_mib = *m;
        if (auto v = get_uint("vcpus", 1, kMaxVcpus)) c_.vcpus = static_cast<uint32_t>(*v);
        if (auto x = get_uint("xen_cpuid", 0, 1)) c_.xen_cpuid = *x == 1;

        if (auto k = get_string("kernel")) {
            if (k->empty())
                error(*settings_.find("kernel"), "kernel is empty");
            else
                c_.kernel = resolve_path(*settings_.find("kernel"), *k);
        } else if (!settings_.find("kernel")) {
            error_file("no kernel given (kernel = \"/path/to/vmlinux\" is required)");
        }
        if (auto r = get_string("ramdisk"); r && !r->empty())
            c_.ramdisk = resolve_path(*settings_.find("ramdisk"), *r);

        build_cmdline();

        action("on_poweroff", c_.on_poweroff);
        action("on_reboot", c_.on_reboot);
        action("on_crash", c_.on_crash);

        devices();
    }

    // disk = [ 'DISKSPEC', ... ] and vif = [ 'VIFSPEC', ... ]: a list of strings, each parsed
    // on its own; errors and warnings name the line of the entry.
    template <class Parse, class Add>
    void device_list(std::string_view key, Parse parse, Add add) {
        const XlSetting* s = settings_.find(key);
        if (!s) return;
        if (s->value.kind != XlValue::Kind::List) {
            error(*s, std::string(key) + " expects a list of strings, e.g. " + std::string(key) +
                          " = [ '...' ]");
            return;
        }
        for (const XlValue& item : s->value.items) {
            XlSetting at = *s;
            at.line = item.line;
            if (item.kind != XlValue::Kind::String) {
                error(at, std::string(key) + " entries must be strings, not " + item.kind_name());
                continue;
            }
            auto parsed = parse(item.text);
            if (!parsed) {
                error(at, std::string(key) + " '" + item.text + "': " + parsed.error());
                continue;
            }
            for (const auto& w : parsed->warnings) warn(at, std::string(key) + " '" + item.text + "': " + w);
            add(at, std::move(parsed->spec));
        }
    }

    void devices() {
        device_list("disk", parse_disk_spec, [&](const XlSetting& at, back::DiskSpec d) {
            d.target = resolve_path(at, d.target);
            devices_.disks.push_back(std::move(d));
        });
        device_list("vif", parse_vif_spec, [&](const XlSetting&, back::VifSpec v) {
            devices_.vifs.push_back(std::move(v));
        });
        // Across entries: a vdev or a mac used twice, too many devices.
        if (auto r = validate_device_config(DeviceConfig{devices_.disks, {}}); !r)
            error(*settings_.find("disk"), r.error().message);
        if (auto r = validate_device_config(DeviceConfig{{}, devices_.vifs}); !r)
            error(*settings_.find("vif"), r.error().message);
    }

    // xl's parse_cmdline(): cmdline wins; otherwise "root=<root> <extra>".
    void build_cmdline() {
        auto cmdline = get_string("cmdline");
        auto root = get_string("root");
        auto extra = get_string("extra");
        if (cmdline) {
            c_.cmdline = *cmdline;
            if (root || extra) {
                const XlSetting& s = *settings_.find(root ? "root" : "extra");
                warn(s, "ignoring root= and extra= in favour of cmdline=");
            }
        } else if (root && extra) {
            c_.cmdline = "root=" + *root + " " + *extra;
        } else if (root) {
            c_.cmdline = "root=" + *root;
        } else if (extra) {
            c_.cmdline = *extra;
        }
    }

    void action(std::string_view key, ShutdownAction& out) {
        auto v = get_string(key);
        if (!v) return;
        const XlSetting& s = *settings_.find(key);
        auto a = parse_action(*v);
        if (!a) {
            error(s, std::string(key) +
                         " must be one of destroy, restart, preserve, rename-restart, "
                         "coredump-destroy, coredump-restart; not \"" +
                         *v + "\"");
            return;
        }
        if (*a == ShutdownAction::CoredumpDestroy || *a == ShutdownAction::CoredumpRestart)
            warn(s, std::string(key) + " = " + *v +
                        ": pvhv does not write core dumps yet; acts as " +
                        (*a == ShutdownAction::CoredumpDestroy ? "destroy" : "restart"));
        out = *a;
    }

    const XlCfgInput& in_;
    XlSettings settings_;
    DomainConfig c_;
    DeviceConfig devices_;
    std::vector<std::string> warnings_;
    std::vector<std::string> errors_;
};

}  // namespace

std::expected<XlCfgResult, XlCfgFailure> parse_xl_cfg(const XlCfgInput& in) {
    return Builder(in).run();
}

}  // namespace pvhv::dom0
