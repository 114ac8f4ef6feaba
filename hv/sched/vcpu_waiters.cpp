// Per-vCPU sleep and wake-up for blocking hypercalls.
#include "hv/sched/vcpu_waiters.h"

#include <algorithm>

namespace pvhv {

VcpuWaiters::VcpuWaiters(uint32_t nr_vcpus)
    : nr_vcpus_(nr_vcpus), slots_(std::make_unique<Slot[]>(nr_vcpus)) {}

void VcpuWaiters::kick(VcpuId v) {
    if (v.value >= nr_vcpus_ || sleepers_.load() == 0) return;
    std::lock_guard lk(mu_);
    Slot& s = slots_[v.value];
    ++s.kicks;
    if (s.waiting) s.cv.notify_all();
}

void VcpuWaiters::port_pending(EvtchnPort port) {
    if (sleepers_.load() == 0) return;
    std::lock_guard lk(mu_);
    for (uint32_t i = 0; i < nr_vcpus_; ++i) {
        Slot& s = slots_[i];
        if (s.waiting && std::find(s.polled.begin(), s.polled.end(), port) != s.polled.end()) {
            s.port_hit = true;
            s.cv.notify_all();
        }
    }
}

void VcpuWaiters::stop_all() {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (uint32_t i = 0; i < nr_vcpus_; ++i) slots_[i].cv.notify_all();
}

VcpuWaiters::Wait::Wait(VcpuWaiters& w, VcpuId v, std::span<const EvtchnPort> polled)
    : w_(w), v_(std::min(v.value, w.nr_vcpus_ - 1)) {
    std::lock_guard lk(w_.mu_);
    Slot& s = w_.slots_[v_];
    s.waiting = true;
    s.port_hit = false;
    s.polled.assign(polled.begin(), polled.end());
    kicks_seen_ = s.kicks;
    w_.sleepers_.fetch_add(1);
}

VcpuWaiters::Wait::~Wait() {
    std::lock_guard lk(w_.mu_);
    Slot& s = w_.slots_[v_];
    s.waiting = false;
    s.polled.clear();
    w_.sleepers_.fetch_sub(1);
}

VcpuWaiters::Wake VcpuWaiters::Wait::sleep(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lk(w_.mu_);
    Slot& s = w_.slots_[v_];
    for (;;) {
        if (w_.stopping_) return Wake::Stopped;
        if (s.kicks != kicks_seen_) {
            kicks_seen_ = s.kicks;
            return Wake::Kicked;
        }
        if (s.port_hit) {
            s.port_hit = false;
            return Wake::Port;
        }
        if (!deadline) {
            s.cv.wait(lk);
        } else if (s.cv.wait_until(lk, *deadline) == std::cv_status::timeout) {
            // Re-check the flags once more: a wake-up may have raced with the timeout.
            if (w_.stopping_ || s.kicks != kicks_seen_ || s.port_hit) continue;
            return Wake::Timeout;
        }
    }
}

}  // namespace pvhv
