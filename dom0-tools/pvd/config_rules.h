// Rules every DomainConfig must satisfy, and the user-facing names of its enum values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hv/domain/domain.h"
#include "hv/domain/domain_config.h"
#include "hv/error.h"

namespace pvhv::dom0 {

inline constexpr uint32_t kMaxVcpus = 128;             // Xen's HVM_MAX_VCPUS
inline constexpr uint64_t kMaxMemoryMib = 1ull << 22;  // 4 TiB: far above any host here
inline constexpr size_t kMaxDomainNameLength = 64;

// Why `name` cannot name a domain, or nullopt if it can. Names become file names
// (console logs) and must not look like a domid, which pvctl accepts in the same place.
std::optional<std::string> domain_name_problem(std::string_view name);

// Checks a config that arrives from outside pvd (the control socket is trusted only as
// far as its file permissions go; a buggy client must still get a clear error).
Result<void> validate_domain_config(const DomainConfig& c);

// xl spellings: "destroy", "restart", "preserve", "rename-restart", "coredump-destroy",
// "coredump-restart".
const char* action_name(ShutdownAction a);
std::optional<ShutdownAction> parse_action(std::string_view s);

const char* guest_type_name(GuestType t);   // "pvh", "hvm"

}  // namespace pvhv::dom0
