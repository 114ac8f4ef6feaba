// Human-readable names of KVM exit reasons, for counters and logs.
#pragma once

#include <cstdint>
#include <string>

namespace pvhv {
std::string kvm_exit_name(uint32_t reason);
}
