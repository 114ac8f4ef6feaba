// libFuzzer target: hostile EVTCHNOP sequences from two guests (plus dom0 and guest-side bit flips).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "hv/xen_public.h"
#include <xen/event_channel.h>

#include "tests/unit/evtchn_test_fakes.h"

namespace pvhv {
namespace {

using testing::FakeDirectory;
using testing::FakeEvtchnDomain;
using testing::FakeEvtchnGuest;

constexpr uint64_t kArg = 0x8000;  // paging off: linear == physical
constexpr uint32_t kVcpus = 3;
constexpr uint64_t kRam = 0x20000;  // enough for the argument page and shared_info

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "evtchn invariant broken: %s\n", what);
    std::abort();
}

// dom0 (pvd's back-end table), guest 1 and guest 2, all reachable through one directory.
struct World {
    World() {
        guests.push_back(std::make_unique<FakeEvtchnGuest>(DomId{0}, 1, true, kRam));
        guests.push_back(std::make_unique<FakeEvtchnGuest>(DomId{1}, kVcpus, true, kRam));
        guests.push_back(std::make_unique<FakeEvtchnGuest>(DomId{2}, kVcpus, true, kRam));
        for (auto& g : guests) {
            if (!g->table) broken("table creation");
            dir.tables[g->table->domid().value] = g->table;
        }
        doms.push_back(std::make_unique<FakeEvtchnDomain>(*guests[1], dir));
        doms.push_back(std::make_unique<FakeEvtchnDomain>(*guests[2], dir));
    }

    // The domain is destroyed and created again under the same domid (pvctl reboot).
    void recreate(size_t i) {
        FakeEvtchnGuest& g = *guests[i];
        const DomId id = g.table->domid();
        dir.tables.erase(id.value);
        g.table->destroy();
        auto t = PortTable::create(id, g.table->nr_vcpus(), &g.delivery);
        if (!t) broken("re-creation");
        g.table = *t;
        dir.tables[id.value] = g.table;
    }

    std::vector<std::unique_ptr<FakeEvtchnGuest>> guests;
    FakeDirectory dir;
    std::vector<std::unique_ptr<FakeEvtchnDomain>> doms;
};

// Both ends of every interdomain channel agree, VIRQ slots are unique, port 0 stays reserved.
void check_tables(const World& w) {
    for (const auto& g : w.guests) {
        const PortTable& t = *g->table;
        auto p0 = t.status(EvtchnPort{0});
        if (!p0 || p0->state != PortState::Reserved) broken("port 0 not reserved");
        std::map<std::pair<uint32_t, uint32_t>, int> virqs;
        for (const PortInfo& p : t.dump()) {
            if (p.vcpu.value >= t.nr_vcpus()) broken("notify vcpu out of range");
            if (p.state == PortState::Virq) {
                if (p.virq >= kNrVirqs) broken("virq out of range");
                const uint32_t owner = virq_is_global(p.virq) ? 0 : p.vcpu.value;
                if (++virqs[{p.virq, owner}] > 1) broken("two ports for one (virq, vcpu)");
            }
            if (p.state != PortState::Interdomain) continue;
            auto peer = w.dir.find_event_channels(p.remote_dom);
            if (!peer) broken("interdomain peer not found");
            auto q = peer->status(p.remote_port);
            if (!q || q->state != PortState::Interdomain || q->remote_dom != t.domid() ||
                q->remote_port != p.port)
                broken("interdomain ends disagree");
        }
    }
}

// Each kick follows a 0 -> 1 edge of evtchn_upcall_pending, so right after the hypercall that
// kicked (nothing else touches guest memory in between) the byte must be set.
void check_kicks(const FakeEvtchnGuest& g, size_t before) {
    for (size_t i = before; i < g.sink.raised.size(); ++i) {
        auto vi = g.pages.vcpu_info(g.sink.raised[i]);
        if (!vi) broken("kicked a vcpu without vcpu_info");
        if (((*vi)[offsetof(vcpu_info_t, evtchn_upcall_pending)] & 1) == 0)
            broken("kick without upcall_pending");
    }
}

int64_t hypercall(FakeEvtchnDomain& dom, uint64_t cmd, uint64_t where) {
    GuestLinearAccess guest(dom.guest.mem, PagingMode{});
    HypercallContext ctx{guest, dom, VcpuId{0}};
    return do_event_channel_op(ctx, HypercallArgs{__HYPERVISOR_event_channel_op, {cmd, where, 0, 0, 0}});
}

void run(FuzzedDataProvider& in) {
    World w;
    int steps = 0;
    while (in.remaining_bytes() > 0 && steps++ < 256) {
        const size_t who = in.ConsumeIntegralInRange<size_t>(0, 1);
        FakeEvtchnDomain& dom = *w.doms[who];
        FakeEvtchnGuest& g = dom.guest;
        std::vector<size_t> before;
        for (auto& x : w.guests) before.push_back(x->sink.raised.size());

        switch (in.ConsumeIntegralInRange<int>(0, 9)) {
            case 0:
            case 1:
            case 2: {  // a hypercall with an arbitrary argument struct
                const uint64_t cmd = in.ConsumeIntegralInRange<uint64_t>(0, 16);
                uint8_t buf[sizeof(evtchn_status_t)] = {};
                in.ConsumeData(buf, sizeof buf);
                (void)g.mem.write(Gpa{kArg}, std::span<const uint8_t>(buf, sizeof buf));
                uint64_t where = kArg;
                switch (in.ConsumeIntegralInRange<int>(0, 7)) {
                    case 0: where = kRam - in.ConsumeIntegralInRange<uint64_t>(1, 24); break;
                    case 1: where = in.ConsumeIntegral<uint64_t>(); break;
                    default: break;
                }
                (void)hypercall(dom, cmd, where);
                break;
            }
            case 3: {  // a well-formed bind or send on a plausible port, so deep states are reached
                const uint32_t port = in.ConsumeIntegralInRange<uint32_t>(0, 8);
                const uint16_t remote = in.ConsumeIntegralInRange<uint16_t>(0, 2);
                switch (in.ConsumeIntegralInRange<int>(0, 4)) {
                    case 0: {
                        evtchn_alloc_unbound_t s{DOMID_SELF, remote, 0};
                        (void)g.mem.write(Gpa{kArg}, s);
                        (void)hypercall(dom, EVTCHNOP_alloc_unbound, kArg);
                        break;
                    }
                    case 1: {
                        evtchn_bind_interdomain_t s{remote, port, 0};
                        (void)g.mem.write(Gpa{kArg}, s);
                        (void)hypercall(dom, EVTCHNOP_bind_interdomain, kArg);
                        break;
                    }
                    case 2: {
                        evtchn_bind_virq_t s{in.ConsumeIntegralInRange<uint32_t>(0, kNrVirqs),
                                             in.ConsumeIntegralInRange<uint32_t>(0, kVcpus), 0};
                        (void)g.mem.write(Gpa{kArg}, s);
                        (void)hypercall(dom, EVTCHNOP_bind_virq, kArg);
                        break;
                    }
                    case 3: {
                        evtchn_bind_ipi_t s{in.ConsumeIntegralInRange<uint32_t>(0, kVcpus), 0};
                        (void)g.mem.write(Gpa{kArg}, s);
                        (void)hypercall(dom, EVTCHNOP_bind_ipi, kArg);
                        break;
                    }
                    default: {
                        const uint64_t cmd = in.PickValueInArray(
                            {EVTCHNOP_send, EVTCHNOP_close, EVTCHNOP_unmask});
                        evtchn_send_t s{port};
                        (void)g.mem.write(Gpa{kArg}, s);
                        (void)hypercall(dom, cmd, kArg);
                        break;
                    }
                }
                break;
            }
            case 4: {  // the guest flips a mask bit, mostly of a port that is likely bound
                const uint32_t port = in.ConsumeBool()
                                          ? in.ConsumeIntegralInRange<uint32_t>(0, 8)
                                          : in.ConsumeIntegralInRange<uint32_t>(0, kEvtchnPorts2L - 1);
                g.set_mask(port, in.ConsumeBool());
                break;
            }
            case 5: {  // the guest runs its upcall handler: ack, then consume pending words
                const VcpuId v{in.ConsumeIntegralInRange<uint32_t>(0, kVcpus - 1)};
                if (auto vi = g.pages.vcpu_info(v)) {
                    vcpu_info_t copy;
                    std::memcpy(&copy, vi->data(), sizeof copy);
                    copy.evtchn_upcall_pending = 0;
                    copy.evtchn_pending_sel = 0;
                    std::memcpy(vi->data(), &copy, sizeof copy);
                }
                const uint32_t word = in.ConsumeIntegralInRange<uint32_t>(0, 63);
                (void)g.mem.write(testing::kSharedInfoGpa + (offsetof(shared_info_t, evtchn_pending) + 8 * word),
                                  uint64_t{0});
                break;
            }
            case 6: {  // dom0's back-end side, through the C++ API
                PortTable& d0 = *w.guests[0]->table;
                const EvtchnPort port{in.ConsumeIntegralInRange<uint32_t>(0, 8)};
                switch (in.ConsumeIntegralInRange<int>(0, 3)) {
                    case 0: (void)d0.alloc_unbound(DomId{static_cast<uint16_t>(1 + who)}); break;
                    case 1: (void)PortTable::bind_interdomain(d0, *g.table, port); break;
                    case 2: (void)d0.send(port); break;
                    default: (void)d0.close(port); break;
                }
                break;
            }
            case 7:  // Xen-side VIRQ sources
                (void)g.table->send_virq(in.ConsumeIntegralInRange<uint32_t>(0, kNrVirqs),
                                         VcpuId{in.ConsumeIntegralInRange<uint32_t>(0, kVcpus)});
                break;
            case 8: {  // vcpu_info moves (VCPUOP_register_vcpu_info), anywhere in or out of RAM
                const VcpuId v{in.ConsumeIntegralInRange<uint32_t>(0, kVcpus)};
                const Gpa at{in.ConsumeIntegral<uint64_t>() % (2 * kRam)};
                if (g.pages.register_vcpu_info(v, at)) g.delivery.vcpu_info_moved(v);
                break;
            }
            default:
                if (in.ConsumeBool()) {
                    dom.privileged = !dom.privileged;
                } else {
                    w.recreate(1 + who);
                }
                break;
        }
        check_tables(w);
        for (size_t i = 0; i < w.guests.size(); ++i) check_kicks(*w.guests[i], before[i]);
    }
}

}  // namespace
}  // namespace pvhv

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    pvhv::run(in);
    return 0;
}
