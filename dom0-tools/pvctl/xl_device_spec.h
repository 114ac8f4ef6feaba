// xl's DISKSPEC and VIFSPEC strings (xl-disk-configuration(5), xl-network-configuration(5)).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "pvdrivers/back/xenbus/device_spec.h"

namespace pvhv::dom0 {

template <class Spec>
struct ParsedSpec {
    Spec spec;
    std::vector<std::string> warnings;  // accepted but ignored parameters; no location prefix
};

// A DISKSPEC: `key=value` pairs, flags and positional parameters in the order target, format,
// vdev, access (each given at most once; an empty one takes the default), `target=` last and
// taking the rest of the string, commas included. Also the deprecated `raw:`/`phy:`/`file:`
// target prefixes and the `:cdrom` vdev suffix. pvhv serves raw images and block devices
// through its blkback: other formats and back-end types are refused with the reason.
// The target is returned as written (the caller makes it absolute).
std::expected<ParsedSpec<back::DiskSpec>, std::string> parse_disk_spec(std::string_view text);

// A VIFSPEC: comma-separated `key=value` (mac, bridge, vifname, type=vif, ip, mtu, devid;
// model, script, rate, gatewaydev, backend=0 accepted with a warning where pvhv ignores them).
// An empty string is a vif with every default. The mac is normalised to lower case.
std::expected<ParsedSpec<back::VifSpec>, std::string> parse_vif_spec(std::string_view text);

}  // namespace pvhv::dom0
