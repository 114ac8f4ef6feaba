// Snapshot of the per-domain counters with names for display.
#include "hv/domain/domain_counters.h"

#include <linux/kvm.h>

#include "hv/hypercall/hypercall_names.h"
#include "hv/cpu/exit_names.h"

namespace pvhv {

CountersSnapshot DomainCounters::snapshot() const {
    CountersSnapshot s;
    for (size_t i = 0; i < kMaxExitReason; ++i)
        if (auto n = exits[i].load(std::memory_order_relaxed)) s.exits[kvm_exit_name(i)] = n;
    for (size_t i = 0; i < kMaxHypercall; ++i)
        if (auto n = hypercalls[i].load(std::memory_order_relaxed)) s.hypercalls[hypercall_name(i)] = n;
    if (auto n = hypercall_unknown_number.load(std::memory_order_relaxed)) s.hypercalls["unknown"] = n;
    s.hypercall_enosys = hypercall_enosys.load(std::memory_order_relaxed);
    s.mmio_unclaimed = mmio_unclaimed.load(std::memory_order_relaxed);
    return s;
}

}  // namespace pvhv
