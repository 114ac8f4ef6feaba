// Fakes for time tests: a manual clock and a two-vCPU guest wired as the domain wires its time.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "hv/evtchn/event_delivery.h"
#include "hv/evtchn/guest_event_pages.h"
#include "hv/evtchn/port_table.h"
#include "hv/sched/vcpu_waiters.h"
#include "hv/time/domain_time.h"
#include "hv/time/system_clock.h"
#include "hv/xen_public.h"

namespace pvhv::testing {

// SystemClock that a test sets by hand.
class ManualClock : public SystemClock {
public:
    uint64_t now_ns() const override { return now.load(); }
    std::atomic<uint64_t> now{0};
};

// Waits (polling, bounded) for `pred`; the bound only keeps a broken test from hanging.
inline bool eventually(const std::function<bool()>& pred) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// An UpcallSink that wakes sleeping vCPUs as the domain's UpcallInjector does, and counts.
class WakingSink : public UpcallSink {
public:
    explicit WakingSink(VcpuWaiters& w) : waiters(w) {}
    void raise(VcpuId v) override {
        raised.fetch_add(1);
        waiters.kick(v);
    }
    void wake_pollers(EvtchnPort p) override { waiters.port_pending(p); }
    VcpuWaiters& waiters;
    std::atomic<int> raised{0};
};

inline constexpr Gpa kTimeSharedInfo{0x10000};

// A two-vCPU guest as the domain wires it: RAM, event pages with shared_info mapped, sleeping
// vCPUs, 2-level delivery, a port table and its DomainTime on a manual clock.
class TimeGuest : public TimeHost {
public:
    static constexpr uint32_t kVcpus = 2;
    TimeGuest() {
        if (auto r = MemoryRegion::create(Gpa{0}, 1 << 20, "ram")) (void)mem.add_region(std::move(*r));
        (void)pages.set_shared_info(kTimeSharedInfo);
        if (auto t = PortTable::create(DomId{5}, kVcpus, &delivery)) table = *t;
    }
    ~TimeGuest() override {
        time.stop();
        table->destroy();
    }
    void send_timer_virq(VcpuId v) override { (void)table->send_virq(VIRQ_TIMER, v); }
    uint32_t valid_ports() const override { return table->valid_ports(); }
    bool port_pending(EvtchnPort p) const override { return delivery.is_pending(p); }
    bool has_upcall_vector(VcpuId) const override { return vector; }
    void place_pvclock(VcpuId v, Gpa gpa) override {
        std::lock_guard lk(mu);
        pvclocks.emplace_back(v.value, gpa.value);
    }

    Gpa slot(VcpuId v) const {
        return kTimeSharedInfo + (offsetof(shared_info_t, vcpu_info) + v.value * sizeof(vcpu_info_t));
    }
    vcpu_info_t vcpu_info_at(Gpa gpa) const { return *mem.read<vcpu_info_t>(gpa); }
    void set_mask(EvtchnPort p, bool on) {
        const Gpa w = kTimeSharedInfo + (offsetof(shared_info_t, evtchn_mask) + 8 * (p.value / 64));
        uint64_t v = *mem.read<uint64_t>(w);
        const uint64_t bit = uint64_t{1} << (p.value % 64);
        (void)mem.write(w, on ? v | bit : v & ~bit);
    }

    GuestMemory mem;
    GuestEventPages pages{mem, kVcpus};
    VcpuWaiters waiters{kVcpus};
    WakingSink sink{waiters};
    EventDelivery2L delivery{pages, sink};
    std::shared_ptr<PortTable> table;
    bool vector = false;
    std::mutex mu;
    std::vector<std::pair<uint32_t, uint64_t>> pvclocks;  // place_pvclock calls
    ManualClock clock;
    DomainTime time{kVcpus, pages, waiters, *this, clock};
};

}  // namespace pvhv::testing
