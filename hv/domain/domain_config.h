// What a domain is built from: the toolstack's parsed configuration, free of xl.cfg syntax.
#pragma once

#include <cstdint>
#include <string>

namespace pvhv {

enum class GuestType { Pvh, Hvm };

// What happens when the guest shuts down with a given reason (xl.cfg on_poweroff etc.).
enum class ShutdownAction { Destroy, Restart, Preserve, RenameRestart, CoredumpDestroy, CoredumpRestart };

struct DomainConfig {
    std::string name;
    GuestType type = GuestType::Pvh;
    uint64_t memory_mib = 128;
    uint32_t vcpus = 1;
    std::string kernel;   // path on the host
    std::string ramdisk;  // optional
    std::string cmdline;  // cmdline/extra/root combined as xl does
    // The kernel's System.map, to find Linux's hypercall sites for the pio rewrite
    // (DESIGN §1). Empty: "System.map" next to the kernel, if there is one.
    std::string system_map;
    // pvhv key `xen_cpuid`: advertise Xen's CPUID leaves (0x40000000...). On by default for
    // pvh; off gives a "plain PVH" guest that boots without knowing it runs on Xen.
    bool xen_cpuid = true;
    ShutdownAction on_poweroff = ShutdownAction::Destroy;
    ShutdownAction on_reboot = ShutdownAction::Restart;
    ShutdownAction on_crash = ShutdownAction::Destroy;
};

}  // namespace pvhv
