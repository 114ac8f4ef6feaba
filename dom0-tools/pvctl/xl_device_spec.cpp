// Parsers of xl's disk and vif specs: positional and keyword forms, checks, clear refusals.
#include "dom0-tools/pvctl/xl_device_spec.h"

#include <array>
#include <charconv>
#include <optional>

#include "pvdrivers/back/net/mac.h"

namespace pvhv::dom0 {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

std::optional<uint32_t> parse_uint(std::string_view s) {
    uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

// xl's image formats; only raw has a back-end here.
bool is_known_format(std::string_view f) {
    return f == "raw" || f == "qcow" || f == "qcow2" || f == "vhd" || f == "qed" || f == "empty";
}

// The deprecated "<prefix>:<target>" forms (libxlu_disk_l.l): the prefix names a format.
struct Prefix {
    std::string_view text;
    std::string_view format;
};
constexpr std::array<Prefix, 11> kPrefixes{{
    {"tap2:tapdisk:aio:", "raw"}, {"tap:tapdisk:aio:", "raw"}, {"tap2:aio:", "raw"},
    {"tap:aio:", "raw"},          {"aio:", "raw"},             {"phy:", "raw"},
    {"file:", "raw"},             {"raw:", "raw"},             {"qcow2:", "qcow2"},
    {"qcow:", "qcow"},            {"vhd:", "vhd"},
}};

class DiskParser {
  public:
    std::expected<ParsedSpec<back::DiskSpec>, std::string> run(std::string_view text) {
        while (true) {
            const size_t comma = text.find(',');
            std::string_view item = trim(text.substr(0, comma));
            if (item.starts_with("target=")) {
                // Takes the rest, commas included (and so must come last).
                if (auto r = set_named("target", trim(text).substr(7)); !r) return std::unexpected(r.error());
                break;
            }
            if (auto r = take(item); !r) return std::unexpected(r.error());
            if (comma == std::string_view::npos) break;
            text.remove_prefix(comma + 1);
        }
        return finish();
    }

  private:
    enum Slot { kTarget, kFormat, kVdev, kAccess, kSlots };
    static constexpr std::array<std::string_view, kSlots> kSlotNames{"target", "format", "vdev", "access"};

    std::expected<void, std::string> take(std::string_view item) {
        if (const size_t eq = item.find('='); eq != std::string_view::npos)
            return keyword(trim(item.substr(0, eq)), trim(item.substr(eq + 1)));
        if (item == "cdrom") return flag_cdrom();
        if (item == "discard") return set_flag(discard_, true, "discard");
        if (item == "no-discard") return set_flag(discard_, false, "discard");
        if (item == "direct-io-safe" || item == "trusted" || item == "untrusted") {
            warnings_.push_back("disk parameter " + std::string(item) + " has no effect in pvhv, ignored");
            return {};
        }
        if (item == "colo") return std::unexpected("disk parameter colo (COLO replication) is not supported");
        // Positional: the first slot not yet given.
        for (int s = 0; s < kSlots; ++s)
            if (!slots_[s]) return set_slot(static_cast<Slot>(s), item);
        return std::unexpected("too many positional disk parameters ('" + std::string(item) +
                               "' after target, format, vdev and access)");
    }

    std::expected<void, std::string> keyword(std::string_view key, std::string_view value) {
        if (key == "target" || key == "format" || key == "vdev" || key == "access")
            return set_named(key, value);
        if (key == "devtype") {
            if (value == "cdrom") return flag_cdrom();
            if (value == "disk" || value.empty()) return {};
            return std::unexpected("devtype must be cdrom or disk, not '" + std::string(value) + "'");
        }
        if (key == "backendtype") {
            if (value.empty() || value == "phy") return {};
            return std::unexpected("backendtype=" + std::string(value) +
                                   " is not supported: pvhv has one disk back-end, its blkback "
                                   "(backendtype=phy)");
        }
        if (key == "backend") {
            if (value.empty() || value == "0" || value == "Domain-0") return {};
            return std::unexpected("backend=" + std::string(value) +
                                   ": only the control domain (0) serves disks in pvhv");
        }
        if (key == "specification") {
            if (value.empty() || value == "xen") return {};
            return std::unexpected("specification=" + std::string(value) +
                                   " is not supported: pvhv's disks are Xen PV (specification=xen)");
        }
        if (key == "script")
            return std::unexpected("disk script= is not supported: pvhv's blkback opens the target itself");
        if (key == "discard-enable") return std::unexpected("unknown disk parameter discard-enable (use discard or no-discard)");
        if (key.starts_with("colo"))
            return std::unexpected("disk parameter " + std::string(key) + " (COLO) is not supported");
        return std::unexpected("unknown disk parameter '" + std::string(key) + "'");
    }

    std::expected<void, std::string> set_named(std::string_view key, std::string_view value) {
        for (int s = 0; s < kSlots; ++s)
            if (kSlotNames[s] == key) return set_slot(static_cast<Slot>(s), value);
        return std::unexpected("unknown disk parameter '" + std::string(key) + "'");
    }

    std::expected<void, std::string> set_slot(Slot s, std::string_view value) {
        if (slots_[s])
            return std::unexpected("disk parameter " + std::string(kSlotNames[s]) + " given twice");
        if (s == kTarget) {
            for (const auto& p : kPrefixes) {
                if (!value.starts_with(p.text)) continue;
                value.remove_prefix(p.text.size());
                if (auto r = set_slot(kFormat, p.format); !r) return r;
                break;
            }
        }
        if (s == kVdev) {
            // Deprecated "hdc:cdrom" / "xvda:disk".
            if (value.ends_with(":cdrom")) {
                value.remove_suffix(6);
                if (auto r = flag_cdrom(); !r) return r;
            } else if (value.ends_with(":disk")) {
                value.remove_suffix(5);
            }
        }
        slots_[s] = std::string(value);
        return {};
    }

    std::expected<void, std::string> flag_cdrom() {
        cdrom_ = true;
        return {};
    }

    std::expected<void, std::string> set_flag(std::optional<bool>& f, bool v, const char* name) {
        if (f && *f != v) return std::unexpected(std::string("disk parameters ") + name + " and no-" + name + " contradict each other");
        f = v;
        return {};
    }

    std::expected<ParsedSpec<back::DiskSpec>, std::string> finish() {
        ParsedSpec<back::DiskSpec> out;
        back::DiskSpec& d = out.spec;
        const std::string format = slots_[kFormat].value_or("");
        if (!format.empty() && format != "raw") {
            if (is_known_format(format))
                return std::unexpected("format=" + format +
                                       " is not supported: pvhv's blkback serves raw images and "
                                       "block devices only (format=raw)");
            return std::unexpected("unknown disk format '" + format + "'");
        }
        d.vdev = slots_[kVdev].value_or("");
        if (d.vdev.empty()) return std::unexpected("no vdev given (the guest's device name, e.g. vdev=xvda)");
        if (!back::vdev_number(d.vdev))
            return std::unexpected("vdev '" + d.vdev +
                                   "' is not a virtual device name (xvda, xvdb1, hda..hdd, sda..sdp, "
                                   "d0p1 or a number)");
        const std::string access = slots_[kAccess].value_or("");
        d.cdrom = cdrom_;
        if (access.empty()) {
            d.readonly = cdrom_;
        } else if (access == "ro" || access == "r") {
            d.readonly = true;
        } else if (access == "rw" || access == "w") {
            if (cdrom_) return std::unexpected("a cdrom is read-only: access=" + access + " contradicts devtype=cdrom");
            d.readonly = false;
        } else {
            return std::unexpected("access must be ro, r, rw or w, not '" + access + "'");
        }
        d.target = slots_[kTarget].value_or("");
        if (d.target.empty())
            return std::unexpected(cdrom_ ? "an empty cdrom drive (no target) is not supported"
                                          : "no target given (the image file or block device)");
        d.discard = discard_.value_or(true);
        out.warnings = std::move(warnings_);
        return out;
    }

    std::array<std::optional<std::string>, kSlots> slots_;
    bool cdrom_ = false;
    std::optional<bool> discard_;
    std::vector<std::string> warnings_;
};

}  // namespace

std::expected<ParsedSpec<back::DiskSpec>, std::string> parse_disk_spec(std::string_view text) {
    return DiskParser().run(text);
}

std::expected<ParsedSpec<back::VifSpec>, std::string> parse_vif_spec(std::string_view text) {
    ParsedSpec<back::VifSpec> out;
    back::VifSpec& v = out.spec;
    std::vector<std::string> seen;
    while (!trim(text).empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos)
            return std::unexpected("vif parameter '" + std::string(item) + "' is not key=value");
        const std::string key(trim(item.substr(0, eq)));
        const std::string value(trim(item.substr(eq + 1)));
        for (const auto& k : seen)
            if (k == key) return std::unexpected("vif parameter " + key + " given twice");
        seen.push_back(key);
        if (key == "mac") {
            auto m = net::parse_mac(value);
            if (!m) return std::unexpected("mac=" + value + " is not a MAC address (aa:bb:cc:dd:ee:ff)");
            if (m->is_multicast())
                return std::unexpected("mac=" + value + " is a multicast address; a NIC needs a unicast one");
            v.mac = m->to_string();
        } else if (key == "bridge") {
            if (!back::is_valid_ifname(value))
                return std::unexpected("bridge=" + value + " is not a network interface name");
            v.bridge = value;
        } else if (key == "vifname") {
            if (!back::is_valid_ifname(value))
                return std::unexpected("vifname=" + value +
                                       " is not a network interface name (at most 15 of "
                                       "A-Z a-z 0-9 _ . -)");
            v.vifname = value;
        } else if (key == "type") {
            if (value == "ioemu")
                return std::unexpected("type=ioemu (an emulated NIC) is not supported: pvhv's vifs are PV (type=vif)");
            if (value != "vif") return std::unexpected("type must be vif, not '" + value + "'");
        } else if (key == "ip") {
            v.ip = value;
        } else if (key == "mtu") {
            auto m = parse_uint(value);
            if (!m || *m < 68 || *m > 65535) return std::unexpected("mtu=" + value + " is not a number from 68 to 65535");
            v.mtu = *m;
        } else if (key == "devid") {
            auto d = parse_uint(value);
            if (!d || *d > 65535) return std::unexpected("devid=" + value + " is not a number from 0 to 65535");
            v.devid = *d;
        } else if (key == "backend") {
            if (value != "0" && value != "Domain-0")
                return std::unexpected("backend=" + value + ": only the control domain (0) serves vifs in pvhv");
        } else if (key == "model" || key == "script" || key == "rate" || key == "gatewaydev" ||
                   key == "accel" || key == "trusted" || key == "untrusted") {
            out.warnings.push_back("vif parameter " + key +
                                   (key == "script" ? " is not used: pvhv attaches the vif to its bridge itself"
                                                    : " has no effect in pvhv") +
                                   ", ignored");
        } else {
            return std::unexpected("unknown vif parameter '" + key + "'");
        }
    }
    return out;
}

}  // namespace pvhv::dom0
