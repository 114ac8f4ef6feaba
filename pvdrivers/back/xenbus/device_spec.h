// What the toolstack configured for one PV disk or network device, free of xl syntax.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pvhv::back {

// One `disk = [...]` entry or `pvctl block-attach` spec (xl-disk-configuration(5)), after
// parsing: only what pvhv implements (raw images and block devices through blkback).
struct DiskSpec {
    std::string target;      // absolute host path: a raw image file or a block device
    std::string vdev;        // as the user wrote it: xvda, hdc, sdb1, d0p1, 51712
    bool readonly = false;   // access=ro (always for a cdrom)
    bool cdrom = false;      // devtype=cdrom: read-only and removable
    bool discard = true;     // discard-enable (xl's default), off with no-discard
    bool operator==(const DiskSpec&) const = default;
};

// One `vif = [...]` entry or `pvctl network-attach` spec (xl-network-configuration(5)).
struct VifSpec {
    std::optional<uint32_t> devid;   // the vif's index (handle); pvd picks the next free one
    std::string mac;                 // "00:16:3e:12:34:56" (lower case); pvd picks one if empty
    std::string bridge = "xenbr0";   // the Linux bridge the TAP joins (xl's default name)
    std::string vifname;             // TAP name; empty: vif<domid>.<devid>
    std::string ip;                  // informational, written to the back-end directory
    uint32_t mtu = 1500;
    bool operator==(const VifSpec&) const = default;
};

// Xen's virtual-device number for a vdev name (docs/misc/vbd-interface.txt, libxl's
// libxl__device_disk_dev_number): xvd<letters>[<partition>] and d<disk>p<partition> (disk
// < 2^20, partition < 256; 202<<8 | disk<<4 | partition while both are < 16, else the
// extended 1<<28 | disk<<8 | partition), hd[a-d] (majors 3 and 22, partition < 64), sd[a-p]
// (major 8, partition < 16), or a plain number (decimal, 0x hex). nullopt for anything else.
std::optional<uint32_t> vdev_number(std::string_view vdev);

// MAC addresses (parsing, formatting, Xen's OUI) are netback's pvhv_net_mac
// (pvdrivers/back/net/mac.h), which config code shares.

// A network interface name the kernel takes (IFNAMSIZ - 1 bytes of [A-Za-z0-9_.-], not "."
// or "..").
bool is_valid_ifname(std::string_view name);

}  // namespace pvhv::back
