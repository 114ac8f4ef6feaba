// Sleeping vCPUs (SCHEDOP_block, SCHEDOP_poll) and the wake-ups that end their sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "hv/types.h"

namespace pvhv {

// A vCPU thread that blocks or polls in a hypercall sleeps here, outside KVM_RUN, until one of:
//   kick(v)          an event upcall for v (Xen's vcpu_kick; EventDelivery2L -> UpcallSink::raise)
//   port_pending(p)  p became pending and v polls it (Xen's evtchn_check_pollers)
//   stop_all()       the domain is shutting down or being destroyed: every sleep ends, and
//                    later ones return at once, so a vCPU in poll never holds up destroy()
//   a deadline       the poll timeout.
// Wake-ups come from any thread (back-ends, the timer thread, other vCPUs) and cost an atomic
// load while nobody sleeps, since port_pending() runs on every event.
//
// No lost wake-up: a Wait registers before its owner re-checks the guest's bits, and both
// sides use sequentially consistent atomics (the guest bits are set before the wake-up is sent,
// the sleeper count is raised before the bits are read), so either the waker sees the sleeper
// or the sleeper sees the bits.
//
// Locking: `mu_` guards every slot and `stopping_`.
class VcpuWaiters {
public:
    explicit VcpuWaiters(uint32_t nr_vcpus);

    void kick(VcpuId v);
    void port_pending(EvtchnPort port);
    void stop_all();

    enum class Wake { Kicked, Port, Timeout, Stopped };

    // One sleep of vCPU `v` (its own thread; one at a time per vCPU). Registered from
    // construction: a kick or a polled port after that ends the next sleep().
    class Wait {
    public:
        Wait(VcpuWaiters& w, VcpuId v, std::span<const EvtchnPort> polled);
        Wait(const Wait&) = delete;
        Wait& operator=(const Wait&) = delete;
        ~Wait();
        Wake sleep(std::optional<std::chrono::steady_clock::time_point> deadline);

    private:
        VcpuWaiters& w_;
        const uint32_t v_;
        uint64_t kicks_seen_;
    };

private:
    struct Slot {
        std::condition_variable cv;
        bool waiting = false;
        bool port_hit = false;
        uint64_t kicks = 0;
        std::vector<EvtchnPort> polled;
    };

    const uint32_t nr_vcpus_;
    std::mutex mu_;
    std::unique_ptr<Slot[]> slots_;
    bool stopping_ = false;
    std::atomic<uint32_t> sleepers_{0};
};

}  // namespace pvhv
