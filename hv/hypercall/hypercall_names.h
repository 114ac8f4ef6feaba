// Names of Xen hypercall numbers, for counters and logs.
#pragma once

#include <cstdint>
#include <string>

namespace pvhv {
std::string hypercall_name(uint64_t nr);
}
