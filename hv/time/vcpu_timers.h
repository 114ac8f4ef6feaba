// Each vCPU's single-shot and periodic timer, expiring on one thread per domain.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "hv/time/system_clock.h"
#include "hv/types.h"

namespace pvhv {

// Xen's per-vCPU singleshot_timer and periodic_timer, with deadlines in system time
// (`clock`). One thread sleeps until the earliest deadline (host steady clock, re-checked
// against `clock` on waking, so a deadline never fires early in the guest's time) and calls
// `fire(vcpu)` for each expiry: the domain raises VIRQ_TIMER there, which reaches the vCPU
// through event delivery, never through the vCPU's own thread.
//
// Locking: `mu_` guards everything below it; `fire` runs without it (it takes the port
// table's lock). stop() joins the thread, so no `fire` runs once it returns: call it before
// whatever `fire` touches goes away.
class VcpuTimers {
public:
    using Fire = std::function<void(VcpuId)>;
    VcpuTimers(const SystemClock& clock, uint32_t nr_vcpus, Fire fire);
    VcpuTimers(const VcpuTimers&) = delete;
    VcpuTimers& operator=(const VcpuTimers&) = delete;
    ~VcpuTimers();

    void start();
    void stop();  // idempotent

    // VCPUOP_set_singleshot_timer: replaces the vCPU's deadline; one in the past fires at once.
    void set_singleshot(VcpuId v, uint64_t deadline_ns);
    void stop_singleshot(VcpuId v);
    // VCPUOP_set_periodic_timer (period > 0) / VCPUOP_stop_periodic_timer (0), as Xen's
    // vcpu_set_periodic_timer: fires at once if a period has passed since the last tick.
    void set_periodic(VcpuId v, uint64_t period_ns);
    std::optional<uint64_t> singleshot(VcpuId v) const;  // the pending deadline, if any
    // Re-reads the clock now (tests move a manual clock).
    void poke();

private:
    struct Timer {
        std::optional<uint64_t> singleshot;
        uint64_t period = 0;       // 0: periodic timer off
        uint64_t last_period = 0;  // system time of the last periodic tick
    };
    void run();
    // With mu_ held: collects expired timers into `due`; returns the next deadline (or none).
    std::optional<uint64_t> expire(uint64_t now, std::vector<VcpuId>& due);
    void wake_for(uint64_t deadline);  // mu_ held

    const SystemClock& clock_;
    const Fire fire_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Timer> timers_;              // per vCPU
    std::optional<uint64_t> sleeping_until_;  // the thread's current target; none: no deadline
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace pvhv
