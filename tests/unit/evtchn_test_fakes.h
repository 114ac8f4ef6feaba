// Fakes for event-channel tests and the fuzzer: a guest with shared_info, its domain, a directory.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <vector>

#include "fake_hypercall_domain.h"
#include "hv/evtchn/domain_directory.h"
#include "hv/evtchn/event_channel_op.h"
#include "hv/evtchn/event_delivery.h"
#include "hv/evtchn/guest_event_pages.h"
#include "hv/evtchn/port_table.h"
#include "hv/xen_public.h"

namespace pvhv::testing {

// Records every kick and poller wake-up.
class RecordingSink : public UpcallSink {
public:
    void raise(VcpuId v) override { raised.push_back(v); }
    void wake_pollers(EvtchnPort p) override { polled.push_back(p); }
    std::vector<VcpuId> raised;
    std::vector<EvtchnPort> polled;
};

inline constexpr uint64_t kEvtchnGuestRam = 1 << 20;
inline constexpr Gpa kSharedInfoGpa{0x10000};

// One guest: RAM at 0 (1 MiB unless told) with shared_info mapped at kSharedInfoGpa, the
// 2-level delivery into it, and its port table. Bit accessors read guest memory the way the
// guest would.
class FakeEvtchnGuest {
public:
    FakeEvtchnGuest(DomId id, uint32_t nr_vcpus, bool map_shared_info = true,
                    uint64_t ram = kEvtchnGuestRam)
        : pages(mem, nr_vcpus), delivery(pages, sink), ram_size(ram) {
        auto region = MemoryRegion::create(Gpa{0}, ram, "ram");
        if (region) (void)mem.add_region(std::move(*region));
        if (map_shared_info) (void)pages.set_shared_info(kSharedInfoGpa);
        if (auto t = PortTable::create(id, nr_vcpus, &delivery)) table = *t;
    }
    FakeEvtchnGuest(const FakeEvtchnGuest&) = delete;
    FakeEvtchnGuest& operator=(const FakeEvtchnGuest&) = delete;

    uint64_t pending_word(uint32_t w) const { return word(offsetof(shared_info_t, evtchn_pending) + 8 * w); }
    uint64_t mask_word(uint32_t w) const { return word(offsetof(shared_info_t, evtchn_mask) + 8 * w); }
    bool pending(uint32_t port) const { return (pending_word(port / 64) >> (port % 64)) & 1; }
    bool masked(uint32_t port) const { return (mask_word(port / 64) >> (port % 64)) & 1; }
    void set_mask(uint32_t port, bool on) {
        const uint64_t off = offsetof(shared_info_t, evtchn_mask) + 8 * (port / 64);
        uint64_t w = word(off);
        w = on ? (w | (uint64_t{1} << (port % 64))) : (w & ~(uint64_t{1} << (port % 64)));
        (void)mem.write(kSharedInfoGpa + off, w);
    }
    // vCPU v's vcpu_info in the shared_info slot (v < 32).
    Gpa slot(VcpuId v) const {
        return kSharedInfoGpa + (offsetof(shared_info_t, vcpu_info) + v.value * sizeof(vcpu_info_t));
    }
    uint64_t selector(VcpuId v) const { return mem.read<vcpu_info_t>(slot(v))->evtchn_pending_sel; }
    uint8_t upcall(VcpuId v) const { return mem.read<vcpu_info_t>(slot(v))->evtchn_upcall_pending; }
    // What a guest's upcall handler does before it scans: clear upcall_pending and the selector.
    void ack(VcpuId v) {
        auto vi = *mem.read<vcpu_info_t>(slot(v));
        vi.evtchn_upcall_pending = 0;
        vi.evtchn_pending_sel = 0;
        (void)mem.write(slot(v), vi);
    }

    GuestMemory mem;
    GuestEventPages pages;
    RecordingSink sink;
    EventDelivery2L delivery;
    std::shared_ptr<PortTable> table;
    const uint64_t ram_size;

private:
    uint64_t word(uint64_t off) const { return *mem.read<uint64_t>(kSharedInfoGpa + off); }
};

class FakeDirectory : public DomainDirectory {
public:
    std::shared_ptr<PortTable> find_event_channels(DomId id) const override {
        auto it = tables.find(id.value);
        return it == tables.end() ? nullptr : it->second;
    }
    std::map<uint16_t, std::shared_ptr<PortTable>> tables;
};

// A HypercallDomain with event channels, as the lead's domain will be.
class FakeEvtchnDomain : public FakeHypercallDomain, public EventChannelDomain {
public:
    FakeEvtchnDomain(FakeEvtchnGuest& g, const DomainDirectory& dir) : guest(g), directory(dir) {}
    DomId id() const override { return guest.table->domid(); }
    PortTable& event_channels() override { return *guest.table; }
    const DomainDirectory& domain_directory() const override { return directory; }
    bool evtchn_privileged() const override { return privileged; }
    EventChannelDomain* event_channel_domain() override { return this; }

    FakeEvtchnGuest& guest;
    const DomainDirectory& directory;
    bool privileged = false;
};

}  // namespace pvhv::testing
