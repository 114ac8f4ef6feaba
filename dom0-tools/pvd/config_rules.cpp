// Validation of DomainConfig values and the names of its enums, shared by pvctl and pvd.
#include "dom0-tools/pvd/config_rules.h"

#include <array>
#include <cctype>
#include <utility>

namespace pvhv::dom0 {

std::optional<std::string> domain_name_problem(std::string_view name) {
    if (name.empty()) return "the domain name is empty";
    if (name.size() > kMaxDomainNameLength)
        return "the domain name is longer than " + std::to_string(kMaxDomainNameLength) +
               " characters";
    bool all_digits = true;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isdigit(u)) all_digits = false;
        if (!(std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '+'))
            return "the domain name may only contain letters, digits and - _ . +";
    }
    if (all_digits) return "the domain name must not be a number (numbers are domain ids)";
    if (name == "." || name == ".." || name.front() == '-' || name.front() == '.')
        return "the domain name must not start with '-' or '.'";
    return std::nullopt;
}

Result<void> validate_domain_config(const DomainConfig& c) {
    if (auto p = domain_name_problem(c.name)) return fail(XEN_EINVAL, *p);
    if (c.memory_mib == 0 || c.memory_mib > kMaxMemoryMib)
        return fail(XEN_EINVAL,
                    "memory must be between 1 and " + std::to_string(kMaxMemoryMib) + " MiB");
    if (c.vcpus == 0 || c.vcpus > kMaxVcpus)
        return fail(XEN_EINVAL, "vcpus must be between 1 and " + std::to_string(kMaxVcpus));
    if (c.kernel.empty()) return fail(XEN_EINVAL, "no kernel given");
    // pvd runs with / as its working directory; a relative path would silently mean
    // something other than what the user had in mind.
    if (c.kernel.front() != '/')
        return fail(XEN_EINVAL, "kernel path is not absolute: " + c.kernel);
    if (!c.ramdisk.empty() && c.ramdisk.front() != '/')
        return fail(XEN_EINVAL, "ramdisk path is not absolute: " + c.ramdisk);
    if (c.cmdline.find('\0') != std::string::npos)
        return fail(XEN_EINVAL, "the kernel command line contains a NUL byte");
    return {};
}

namespace {
constexpr std::array<std::pair<ShutdownAction, const char*>, 6> kActions{{
    {ShutdownAction::Destroy, "destroy"},
    {ShutdownAction::Restart, "restart"},
    {ShutdownAction::Preserve, "preserve"},
    {ShutdownAction::RenameRestart, "rename-restart"},
    {ShutdownAction::CoredumpDestroy, "coredump-destroy"},
    {ShutdownAction::CoredumpRestart, "coredump-restart"},
}};
}  // namespace

const char* action_name(ShutdownAction a) {
    for (const auto& [v, n] : kActions)
        if (v == a) return n;
    return "?";
}

std::optional<ShutdownAction> parse_action(std::string_view s) {
    for (const auto& [v, n] : kActions)
        if (s == n) return v;
    return std::nullopt;
}

const char* guest_type_name(GuestType t) {
    return t == GuestType::Hvm ? "hvm" : "pvh";
}

}  // namespace pvhv::dom0
