// libFuzzer target: hostile time hypercalls (set_timer_op, vcpu_op timers and run state,
// SCHEDOP_poll and block) against DomainTime on a fake guest with event channels.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "hv/hypercall/dispatcher.h"
#include "hv/xen_public.h"
#include <xen/vcpu.h>

#include "tests/unit/fake_hypercall_domain.h"
#include "tests/unit/time_test_fakes.h"

namespace pvhv {
namespace {

using testing::TimeGuest;

constexpr uint64_t kArg = 0x8000;   // paging off: linear == physical
constexpr uint64_t kPorts = 0x9000;  // a ports array for SCHEDOP_poll
constexpr uint64_t kRam = 1 << 20;   // TimeGuest's RAM

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "time invariant broken: %s\n", what);
    std::abort();
}

class TimedDomain : public testing::FakeHypercallDomain {
public:
    explicit TimedDomain(TimeGuest& g) : guest(g) {}
    TimeDomain* time() override { return &guest.time; }
    void block(VcpuId v, bool ie) override { (void)guest.time.block(v, ie); }
    TimeGuest& guest;
};

void run(FuzzedDataProvider& in) {
    TimeGuest g;
    // Every sleep ends at once: the fuzzer checks arguments and results, it must never block.
    g.waiters.stop_all();
    TimedDomain dom(g);
    DomainCounters counters;
    std::vector<evtchn_port_t> bound;
    int steps = 0;
    while (in.remaining_bytes() > 0 && steps++ < 128) {
        const VcpuId caller{in.ConsumeIntegralInRange<uint32_t>(0, TimeGuest::kVcpus - 1)};
        g.clock.now += in.ConsumeIntegralInRange<uint64_t>(0, 10'000'000);
        uint8_t buf[32] = {};
        in.ConsumeData(buf, sizeof buf);
        (void)g.mem.write(Gpa{kArg}, std::span<const uint8_t>(buf, sizeof buf));
        uint8_t ports[64] = {};
        in.ConsumeData(ports, sizeof ports);
        (void)g.mem.write(Gpa{kPorts}, std::span<const uint8_t>(ports, sizeof ports));
        uint64_t where = kArg;
        switch (in.ConsumeIntegralInRange<int>(0, 5)) {
            case 0: where = kRam - in.ConsumeIntegralInRange<uint64_t>(1, 32); break;
            case 1: where = in.ConsumeIntegral<uint64_t>(); break;
            case 2: {  // a well-formed sched_poll on the ports array
                sched_poll_t p{};
                set_xen_guest_handle(p.ports, reinterpret_cast<evtchn_port_t*>(kPorts));
                p.nr_ports = in.ConsumeIntegralInRange<uint32_t>(0, 20);
                p.timeout = in.ConsumeBool() ? 0 : g.clock.now + in.ConsumeIntegralInRange<uint64_t>(0, 100);
                (void)g.mem.write(Gpa{kArg}, p);
                break;
            }
            default: break;
        }
        if (in.ConsumeBool()) {  // something to poll for
            if (auto p = g.table->bind_ipi(caller)) {
                bound.push_back(p->value);
                if (in.ConsumeBool()) (void)g.table->send(*p);
            }
        }

        GuestLinearAccess guest(g.mem, PagingMode{});
        HypercallContext ctx{guest, dom, caller, in.ConsumeBool()};
        HypercallArgs a{};
        switch (in.ConsumeIntegralInRange<int>(0, 3)) {
            case 0: a = {__HYPERVISOR_set_timer_op, {in.ConsumeIntegral<uint64_t>()}}; break;
            case 1:
                a = {__HYPERVISOR_vcpu_op,
                     {in.ConsumeIntegralInRange<uint64_t>(0, 14), in.ConsumeIntegralInRange<uint64_t>(0, 3), where}};
                break;
            case 2: a = {__HYPERVISOR_sched_op, {SCHEDOP_poll, where}}; break;
            default: a = {__HYPERVISOR_sched_op, {SCHEDOP_block, where}}; break;
        }
        const int64_t rc = dispatch_hypercall(ctx, a, counters);
        if (rc > 0) broken("a time hypercall returned a positive value");
        if (rc < 0 && rc != -XEN_EINVAL && rc != -XEN_EFAULT && rc != -XEN_ENOENT &&
            rc != -XEN_ETIME && rc != -XEN_ENOSYS)
            broken("an errno Xen would not return");
    }
}

}  // namespace
}  // namespace pvhv

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    pvhv::run(in);
    return 0;
}
