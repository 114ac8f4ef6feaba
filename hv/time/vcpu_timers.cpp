// The timer thread: earliest deadline first, expiries reported outside the lock.
#include "hv/time/vcpu_timers.h"

#include <pthread.h>

#include <chrono>

namespace pvhv {

VcpuTimers::VcpuTimers(const SystemClock& clock, uint32_t nr_vcpus, Fire fire)
    : clock_(clock), fire_(std::move(fire)), timers_(nr_vcpus) {}

VcpuTimers::~VcpuTimers() { stop(); }

void VcpuTimers::start() {
    std::lock_guard lk(mu_);
    if (thread_.joinable() || stopping_) return;
    thread_ = std::thread([this] { run(); });
    ::pthread_setname_np(thread_.native_handle(), "timers");
}

void VcpuTimers::stop() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
        cv_.notify_all();
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void VcpuTimers::wake_for(uint64_t deadline) {
    if (!sleeping_until_ || deadline < *sleeping_until_) cv_.notify_all();
}

void VcpuTimers::set_singleshot(VcpuId v, uint64_t deadline_ns) {
    std::lock_guard lk(mu_);
    if (v.value >= timers_.size()) return;
    timers_[v.value].singleshot = deadline_ns;
    wake_for(deadline_ns);
}

void VcpuTimers::stop_singleshot(VcpuId v) {
    std::lock_guard lk(mu_);
    if (v.value < timers_.size()) timers_[v.value].singleshot.reset();
}

void VcpuTimers::set_periodic(VcpuId v, uint64_t period_ns) {
    std::lock_guard lk(mu_);
    if (v.value >= timers_.size()) return;
    timers_[v.value].period = period_ns;
    if (period_ns != 0) wake_for(timers_[v.value].last_period + period_ns);
}

std::optional<uint64_t> VcpuTimers::singleshot(VcpuId v) const {
    std::lock_guard lk(mu_);
    return v.value < timers_.size() ? timers_[v.value].singleshot : std::nullopt;
}

void VcpuTimers::poke() {
    std::lock_guard lk(mu_);
    cv_.notify_all();
}

std::optional<uint64_t> VcpuTimers::expire(uint64_t now, std::vector<VcpuId>& due) {
    std::optional<uint64_t> next;
    auto consider = [&next](uint64_t t) { next = next ? std::min(*next, t) : t; };
    for (uint32_t i = 0; i < timers_.size(); ++i) {
        Timer& t = timers_[i];
        bool fires = false;
        if (t.singleshot && *t.singleshot <= now) {
            t.singleshot.reset();
            fires = true;
        } else if (t.singleshot) {
            consider(*t.singleshot);
        }
        if (t.period != 0) {
            // Xen's vcpu_periodic_timer_work: a missed period gives one tick, not a burst.
            if (now >= t.last_period + t.period) {
                t.last_period = now;
                fires = true;
            }
            consider(t.last_period + t.period);
        }
        if (fires) due.push_back(VcpuId{i});
    }
    return next;
}

void VcpuTimers::run() {
    std::unique_lock lk(mu_);
    std::vector<VcpuId> due;
    while (!stopping_) {
        const uint64_t now = clock_.now_ns();
        due.clear();
        const std::optional<uint64_t> next = expire(now, due);
        if (!due.empty()) {
            lk.unlock();
            for (VcpuId v : due) fire_(v);
            lk.lock();
            continue;
        }
        sleeping_until_ = next;
        if (next)
            cv_.wait_for(lk, std::chrono::nanoseconds(*next - now));
        else
            cv_.wait(lk);
        sleeping_until_.reset();
    }
}

}  // namespace pvhv
