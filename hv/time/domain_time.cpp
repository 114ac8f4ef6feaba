// Domain time: pvclock placement, timers to VIRQ_TIMER, and Xen's block/poll on one vCPU.
#include "hv/time/domain_time.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include "hv/time/wallclock.h"

namespace pvhv {

namespace {
constexpr uint32_t kMaxPollPorts = 128;  // Xen's "fairly arbitrary limit" in do_poll
constexpr int64_t neg(int xen_errno) { return -static_cast<int64_t>(xen_errno); }
}  // namespace

DomainTime::DomainTime(uint32_t nr_vcpus, const GuestEventPages& pages, VcpuWaiters& waiters,
                       TimeHost& host, const SystemClock& clock)
    : nr_vcpus_(nr_vcpus),
      pages_(pages),
      waiters_(waiters),
      host_(host),
      clock_(clock),
      timers_(clock, nr_vcpus, [this](VcpuId v) { host_.send_timer_virq(v); }) {}

DomainTime::~DomainTime() { stop(); }

void DomainTime::start(int64_t wall_ns_at_zero) {
    wall_ns_at_zero_.store(wall_ns_at_zero);
    timers_.start();
}

void DomainTime::stop() { timers_.stop(); }

void DomainTime::publish_shared_info() {
    if (auto si = pages_.shared_info()) (void)write_wallclock(*si, wall_ns_at_zero_.load());
    for (uint32_t v = 0; v < nr_vcpus_; ++v) publish_vcpu_info(VcpuId{v});
}

void DomainTime::publish_vcpu_info(VcpuId vcpu) {
    if (auto gpa = pages_.vcpu_info_gpa(vcpu)) host_.place_pvclock(vcpu, *gpa + offsetof(vcpu_info_t, time));
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

vcpu_runstate_info DomainTime::runstate(VcpuId) const {
    // pvhv does not account run states: every vCPU reports "running since system time 0",
    // which is a consistent Xen runstate (time[] holds the time spent in earlier states) and
    // gives Linux a steal time of 0.
    vcpu_runstate_info r{};
    r.state = RUNSTATE_running;
    return r;
}

bool DomainTime::any_pending(std::span<const EvtchnPort> ports) const {
    return std::any_of(ports.begin(), ports.end(), [this](EvtchnPort p) { return host_.port_pending(p); });
}

std::optional<std::chrono::steady_clock::time_point> DomainTime::host_deadline(uint64_t timeout_ns) const {
    if (timeout_ns == 0) return std::nullopt;
    const uint64_t now = clock_.now_ns();
    return std::chrono::steady_clock::now() +
           std::chrono::nanoseconds(timeout_ns > now ? timeout_ns - now : 0);
}

int64_t DomainTime::poll(VcpuId vcpu, const PollRequest& req) {
    // Xen's do_poll, check for check.
    if (req.nr_ports > kMaxPollPorts) return neg(XEN_EINVAL);
    // local_events_need_delivery(): an upcall the vCPU would take at once.
    if (req.interrupts_enabled && host_.has_upcall_vector(vcpu) && upcall_pending(vcpu)) return 0;
    std::vector<EvtchnPort> ports;
    ports.reserve(req.nr_ports);
    for (uint32_t i = 0; i < req.nr_ports; ++i) {
        auto port = req.port_at(i);
        if (!port) return neg(XEN_EFAULT);
        if (port->value >= host_.valid_ports()) return neg(XEN_EINVAL);
        if (host_.port_pending(*port)) return 0;
        ports.push_back(*port);
    }
    VcpuWaiters::Wait wait(waiters_, vcpu, ports);
    if (any_pending(ports)) return 0;  // became pending before the Wait registered
    if (req.timeout_ns != 0 && req.timeout_ns <= clock_.now_ns()) return 0;
    for (;;) {
        const VcpuWaiters::Wake why = wait.sleep(host_deadline(req.timeout_ns));
        if (why == VcpuWaiters::Wake::Port && !any_pending(ports)) continue;
        // The host's steady clock and the TSC drift apart by ppm: the timeout is in the
        // guest's time, so sleep out the rest if the host clock ran ahead.
        if (why == VcpuWaiters::Wake::Timeout && clock_.now_ns() < req.timeout_ns) continue;
        return 0;
    }
}

}  // namespace pvhv
