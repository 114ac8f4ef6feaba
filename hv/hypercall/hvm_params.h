// HVM parameters (HVMOP_get/set_param): values and who may set which.
#include "hv/xen_public.h"
#pragma once

#include <array>
#include <cstdint>
#include <mutex>


#include "hv/error.h"

namespace pvhv {

// The toolstack sets params before the domain runs (set_by_toolstack); a guest may read
// every param and set only those whose effect pvhv implements (HVM_PARAM_CALLBACK_IRQ, which
// the domain applies: hvm_op.cpp). Unset params read as 0, as in Xen.
class HvmParams {
public:
    void set_by_toolstack(uint32_t index, uint64_t value);
    Result<uint64_t> get(uint32_t index) const;
    Result<void> set_by_guest(uint32_t index, uint64_t value);

private:
    mutable std::mutex mu_;                      // guards values_
    std::array<uint64_t, HVM_NR_PARAMS> values_{};
};

}  // namespace pvhv
