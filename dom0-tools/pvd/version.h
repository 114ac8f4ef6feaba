// Version of the pvhv toolstack (pvd and pvctl report it).
#pragma once

namespace pvhv::dom0 {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace pvhv::dom0
