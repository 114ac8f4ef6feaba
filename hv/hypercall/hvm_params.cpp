// HVM parameter store and its guest write policy.
#include "hv/hypercall/hvm_params.h"

namespace pvhv {

void HvmParams::set_by_toolstack(uint32_t index, uint64_t value) {
    if (index >= HVM_NR_PARAMS) return;
    std::lock_guard lock(mu_);
    values_[index] = value;
}

Result<uint64_t> HvmParams::get(uint32_t index) const {
    if (index >= HVM_NR_PARAMS) return fail(XEN_EINVAL, "HVM param index out of range");
    std::lock_guard lock(mu_);
    return values_[index];
}

Result<void> HvmParams::set_by_guest(uint32_t index, uint64_t value) {
    if (index >= HVM_NR_PARAMS) return fail(XEN_EINVAL, "HVM param index out of range");
    if (index != HVM_PARAM_CALLBACK_IRQ) return fail(XEN_EPERM, "HVM param is not guest-writable");
    // Its effect (the domain's upcall routing) is applied by the caller before it is stored.
    std::lock_guard lock(mu_);
    values_[index] = value;
    return {};
}

}  // namespace pvhv
