// The one hypercall dispatch table, indexed by Xen hypercall number.
#pragma once

#include <cstdint>

#include "hv/domain/domain_counters.h"
#include "hv/hypercall/hypercall.h"

namespace pvhv {

// Runs hypercall `a.nr`; unknown numbers return -ENOSYS. Counts the call, and counts
// -ENOSYS results (unknown numbers and unknown sub-ops alike) as `hypercall_enosys`.
int64_t dispatch_hypercall(HypercallContext& ctx, const HypercallArgs& a, DomainCounters& counters);

}  // namespace pvhv
