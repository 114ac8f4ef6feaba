// Domain time: pvclock publishing, timers to VIRQ_TIMER, and Xen's block/poll on one vCPU.
#include "hv/time/domain_time.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include "hv/time/time_pages.h"

namespace pvhv {

namespace {
constexpr uint32_t kMaxPollPorts = 128;  // Xen's "fairly arbitrary limit" in do_poll
constexpr int64_t neg(int xen_errno) { return -static_cast<int64_t>(xen_errno); }
}  // namespace

DomainTime::DomainTime(uint32_t nr_vcpus, const EventPageLocator& pages, VcpuWaiters& waiters,
                       TimeEvents& events)
    : nr_vcpus_(nr_vcpus),
      pages_(pages),
      waiters_(waiters),
      events_(events),
      timers_(*this, nr_vcpus, [this](VcpuId v) { events_.send_timer_virq(v); }) {}

DomainTime::~DomainTime() { stop(); }

Result<void> DomainTime::start(uint32_t tsc_khz,
                               const std::function<Result<uint64_t>(VcpuId)>& read_guest_tsc) {
    auto clock = measure_domain_clock(tsc_khz, nr_vcpus_, read_guest_tsc);
    if (!clock) return std::unexpected(clock.error());
    start(std::move(*clock));
    return {};
}

void DomainTime::start(DomainClock clock) {
    clock_ = std::move(clock);
    timers_.start();
}

void DomainTime::stop() { timers_.stop(); }

void DomainTime::publish_shared_info() {
    if (!clock_) return;
    auto si = pages_.shared_info();
    if (!si || si->size() < sizeof(shared_info_t)) return;
    (void)write_wallclock(*si, clock_->wall_ns_at_zero());
    // Every legacy slot, registered elsewhere or not: Linux calibrates the TSC from
    // shared_info->vcpu_info[0].time whichever vcpu_info it uses afterwards.
    for (uint32_t v = 0; v < std::min<uint32_t>(nr_vcpus_, XEN_LEGACY_MAX_VCPUS); ++v) {
        auto slot = si->subspan(offsetof(shared_info_t, vcpu_info) + v * sizeof(vcpu_info_t),
                                sizeof(vcpu_info_t));
        (void)write_vcpu_time(slot, clock_->time_info(VcpuId{v}));
    }
    for (uint32_t v = XEN_LEGACY_MAX_VCPUS; v < nr_vcpus_; ++v) publish_vcpu_info(VcpuId{v});
}

void DomainTime::publish_vcpu_info(VcpuId vcpu) {
    if (!clock_) return;
    if (auto vi = pages_.vcpu_info(vcpu)) (void)write_vcpu_time(*vi, clock_->time_info(vcpu));
}

bool DomainTime::upcall_pending(VcpuId vcpu) const {
    auto vi = pages_.vcpu_info(vcpu);
    if (!vi || vi->size() < sizeof(vcpu_info_t)) return false;
    return std::atomic_ref<uint8_t>((*vi)[offsetof(vcpu_info_t, evtchn_upcall_pending)]).load() != 0;
}

DomainTime::Block DomainTime::block(VcpuId vcpu, bool interrupts_enabled) {
    if (auto vi = pages_.vcpu_info(vcpu); vi && vi->size() >= sizeof(vcpu_info_t))
        std::atomic_ref<uint8_t>((*vi)[offsetof(vcpu_info_t, evtchn_upcall_mask)]).store(0);
    if (interrupts_enabled) return Block::HaltInKvm;
    VcpuWaiters::Wait wait(waiters_, vcpu, {});
    if (!upcall_pending(vcpu)) (void)wait.sleep(std::nullopt);
    return Block::Done;
}

void DomainTime::set_singleshot_timer(VcpuId vcpu, uint64_t deadline_ns) {
    timers_.set_singleshot(vcpu, deadline_ns);
}

void DomainTime::stop_singleshot_timer(VcpuId vcpu) { timers_.stop_singleshot(vcpu); }

void DomainTime::set_periodic_timer(VcpuId vcpu, uint64_t period_ns) {
    timers_.set_periodic(vcpu, period_ns);
}

vcpu_time_info DomainTime::time_info(VcpuId vcpu) const {
    return clock_ ? clock_->time_info(vcpu) : vcpu_time_info{};
}

vcpu_runstate_info DomainTime::runstate(VcpuId) const {
    // pvhv does not account run states: every vCPU reports "running since system time 0",
    // which is a consistent Xen runstate (time[] holds the time spent in earlier states) and
    // gives Linux a steal time of 0.
    vcpu_runstate_info r{};
    r.state = RUNSTATE_running;
    return r;
}

bool DomainTime::any_pending(std::span<const EvtchnPort> ports) const {
    return std::any_of(ports.begin(), ports.end(), [this](EvtchnPort p) { return events_.port_pending(p); });
}

std::optional<std::chrono::steady_clock::time_point> DomainTime::host_deadline(uint64_t timeout_ns) const {
    if (timeout_ns == 0) return std::nullopt;
    const uint64_t now = now_ns();
    return std::chrono::steady_clock::now() +
           std::chrono::nanoseconds(timeout_ns > now ? timeout_ns - now : 0);
}

int64_t DomainTime::poll(VcpuId vcpu, const PollRequest& req) {
    // Xen's do_poll, check for check.
    if (req.nr_ports > kMaxPollPorts) return neg(XEN_EINVAL);
    // local_events_need_delivery(): an upcall the vCPU would take at once.
    if (req.interrupts_enabled && events_.has_upcall_vector(vcpu) && upcall_pending(vcpu)) return 0;
    std::vector<EvtchnPort> ports;
    ports.reserve(req.nr_ports);
    for (uint32_t i = 0; i < req.nr_ports; ++i) {
        auto port = req.port_at(i);
        if (!port) return neg(XEN_EFAULT);
        if (port->value >= events_.valid_ports()) return neg(XEN_EINVAL);
        if (events_.port_pending(*port)) return 0;
        ports.push_back(*port);
    }
    VcpuWaiters::Wait wait(waiters_, vcpu, ports);
    if (any_pending(ports)) return 0;  // became pending before the Wait registered
    if (req.timeout_ns != 0 && req.timeout_ns <= now_ns()) return 0;
    for (;;) {
        const VcpuWaiters::Wake why = wait.sleep(host_deadline(req.timeout_ns));
        if (why == VcpuWaiters::Wake::Port && !any_pending(ports)) continue;
        // The host's steady clock and the TSC drift apart by ppm: the timeout is in the
        // guest's time, so sleep out the rest if the host clock ran ahead.
        if (why == VcpuWaiters::Wake::Timeout && now_ns() < req.timeout_ns) continue;
        return 0;
    }
}

}  // namespace pvhv
