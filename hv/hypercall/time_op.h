// The time sub-operations of __HYPERVISOR_vcpu_op, shared by vcpu_op.cpp and time_op.cpp.
#pragma once

#include <cstdint>

#include "hv/hypercall/hypercall.h"

namespace pvhv {

// VCPUOP_set/stop_singleshot_timer, VCPUOP_set/stop_periodic_timer,
// VCPUOP_get_runstate_info and VCPUOP_register_runstate_memory_area on vCPU `target` (already
// checked to exist), with
// Xen's do_vcpu_op semantics. `arg` is the sub-op's linear address. -ENOSYS for anything else
// or a domain without time services.
int64_t vcpu_time_op(HypercallContext& ctx, uint64_t cmd, VcpuId target, uint64_t arg);

}  // namespace pvhv
