// Hypercall dispatch: the table of implemented hypercalls (see abi/README.md for the ABI rows).
#include "hv/hypercall/dispatcher.h"

#include <array>

#include "hv/evtchn/event_channel_op.h"
#include "hv/hypercall/handlers.h"

namespace pvhv {

namespace {

constexpr std::array<HypercallHandler, kMaxHypercall> make_table() {
    std::array<HypercallHandler, kMaxHypercall> t{};
    t[__HYPERVISOR_memory_op] = do_memory_op;      // 12
    t[__HYPERVISOR_set_timer_op] = do_set_timer_op;  // 15
    t[__HYPERVISOR_xen_version] = do_xen_version;  // 17
    t[__HYPERVISOR_console_io] = do_console_io;    // 18
    t[__HYPERVISOR_grant_table_op] = do_grant_table_op;  // 20
    t[__HYPERVISOR_vcpu_op] = do_vcpu_op;          // 24
    t[__HYPERVISOR_sched_op] = do_sched_op;        // 29
    t[__HYPERVISOR_event_channel_op] = do_event_channel_op;  // 32
    t[__HYPERVISOR_hvm_op] = do_hvm_op;            // 34
    return t;
}

constexpr auto kTable = make_table();

}  // namespace

int64_t dispatch_hypercall(HypercallContext& ctx, const HypercallArgs& a, DomainCounters& counters) {
    counters.count_hypercall(a.nr);
    const HypercallHandler h = a.nr < kTable.size() ? kTable[a.nr] : nullptr;
    const int64_t rc = h ? h(ctx, a) : err(XEN_ENOSYS);
    if (rc == err(XEN_ENOSYS)) counters.hypercall_enosys.fetch_add(1, std::memory_order_relaxed);
    return rc;
}

}  // namespace pvhv
