// xl.cfg semantics: turns a cfg file plus KEY=VALUE overrides into a pvhv::DomainConfig.
//
// Keys (man xl.cfg, pvhv differences marked):
//   name        required; letters, digits, - _ . + (not all digits: digits are domids)
//   type        "pvh" (default; xl's default "pv" is refused) or "hvm"
//   memory      MiB, integer (decimal, 0x hex, 0 octal as in xl)
//   vcpus       1..128
//   kernel      required; ramdisk optional. pvhv: a relative path is resolved against the
//               directory of the cfg file (xl uses the working directory); a relative path
//               given as a command-line override is resolved against the working directory.
//   cmdline     the kernel command line. Without it xl's rule applies: root and extra give
//               "root=<root> <extra>", "root=<root>" or "<extra>"; with it, root and extra
//               are ignored with a warning.
//   on_poweroff/on_reboot/on_crash  destroy | restart | preserve | rename-restart |
//               coredump-destroy | coredump-restart (coredump-* act without the dump, warned)
//   xen_cpuid   pvhv's own: 1 advertises Xen's CPUID leaves, 0 hides them. Default 1 for
//               pvh, 0 for hvm.
//   disk        [ 'DISKSPEC', ... ] (xl-disk-configuration(5); xl_device_spec.h): raw images
//               and block devices. A relative target is resolved like kernel.
//   vif         [ 'VIFSPEC', ... ] (xl-network-configuration(5); xl_device_spec.h). A vif
//               without mac= gets a random one in 00:16:3e when pvd creates the domain.
// Other keys xl knows produce "key X is not supported yet, ignored"; keys xl does not know
// produce "unknown key X". Both are warnings with file:line, never silent.
#pragma once

#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dom0-tools/pvd/device_config.h"
#include "hv/domain/domain_config.h"

namespace pvhv::dom0 {

struct XlCfgInput {
    std::string text;                    // contents of the cfg file
    std::string path;                    // as the user wrote it; used in messages
    std::vector<std::string> overrides;  // trailing KEY=VALUE words of `pvctl create`
    std::string cwd;                     // absolute; base for relative paths
};

struct XlCfgResult {
    DomainConfig config;
    DeviceConfig devices;  // disk = [...], vif = [...]
    std::vector<std::string> warnings;  // "file:line: warning: ..."
};

struct XlCfgFailure {
    std::vector<std::string> errors;    // "file:line: ..." (or "file: ..." when not per line)
    std::vector<std::string> warnings;  // found before giving up; still worth showing
};

std::expected<XlCfgResult, XlCfgFailure> parse_xl_cfg(const XlCfgInput& in);

// Source name of overrides in messages: "command line:N:" is the N-th KEY=VALUE word.
inline constexpr std::string_view kOverrideSource = "command line";

}  // namespace pvhv::dom0
