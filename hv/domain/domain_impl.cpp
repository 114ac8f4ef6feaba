// Domain lifecycle and the services hypercalls ask of their domain.
#include "hv/domain/domain_impl.h"

#include "hv/gnttab/grant_physmap.h"
#include "hv/log.h"
#include "hv/xen_public.h"

#include <cstddef>

namespace pvhv {

namespace {
constexpr uint16_t kCom1Port = 0x3f8;
constexpr uint32_t kCom1Irq = 4;
constexpr uint16_t kDebugPort = 0xe9;
}  // namespace

DomainImpl::DomainImpl(DomId id, DomainConfig config, DomainObserver* observer,
                       DomainRegistry& registry, kvm::System sys, kvm::Vm vm, GuestLayout layout,
                       GuestMemory mem)
    : id_(id),
      config_(std::move(config)),
      observer_(observer),
      registry_(registry),
      sys_(std::move(sys)),
      vm_(std::move(vm)),
      layout_(layout),
      mem_(std::move(mem)),
      router_(mem_, *this, pio_, mmio_, counters_,
              [this](VcpuId v, const std::string& why) { fatal(v, why); }),
      event_pages_(mem_, config_.vcpus),
      waiters_(config_.vcpus),
      upcalls_(vm_, config_.vcpus, waiters_),
      pvclock_msr_(std::make_unique<std::atomic<uint64_t>[]>(config_.vcpus)),
      vcpu_started_(std::make_unique<std::atomic<bool>[]>(config_.vcpus)),
      time_(config_.vcpus, event_pages_, waiters_, *this, kvm_clock_) {}

DomainImpl::~DomainImpl() { destroy(); }

Result<void> DomainImpl::add_serial_port() {
    uart_ = std::make_unique<Uart8250>(
        [this](std::string_view bytes) { console_write(bytes); },
        [this](bool level) { (void)vm_.set_irq_line(kCom1Irq, level); });
    return pio_.add(kCom1Port, 8, uart_.get(), "uart0");
}

Result<void> DomainImpl::add_debug_port() {
    debug_port_ = std::make_unique<DebugPort>([this](std::string_view bytes) { console_write(bytes); });
    return pio_.add(kDebugPort, 1, debug_port_.get(), "debug-port");
}

Result<void> DomainImpl::add_acpi_sleep_device(uint16_t port) {
    acpi_sleep_ = std::make_unique<AcpiSleepDevice>([this] { shutdown(ShutdownReason::Poweroff); },
                                                    [this] { shutdown(ShutdownReason::Reboot); });
    return pio_.add(port, acpi_sleep::kLength, acpi_sleep_.get(), "acpi-sleep");
}

void DomainImpl::add_vcpu(kvm::Vcpu vcpu) {
    const VcpuId id = vcpu.id();
    if (auto mp = vcpu.get_mp_state(); mp && *mp != KVM_MP_STATE_UNINITIALIZED && id.value < config_.vcpus)
        vcpu_started_[id.value].store(true);  // the boot vCPU; the others wait for INIT/SIPI
    vcpus_.push_back(std::make_unique<VcpuThread>(std::move(vcpu), router_, counters_));
    vcpus_.back()->set_before_run_hook([this, id](kvm::Vcpu& v, bool woken) {
        if (woken) apply_pvclock(id, v);  // after INIT/SIPI (or a kick): see apply_pvclock
        // An upcall no LAPIC took (disabled, or reset by INIT): raise it again while the guest
        // still has it pending (UpcallInjector).
        if (upcalls_.take_owed(id)) event_delivery_.reraise_pending(id);
    });
}

Result<void> DomainImpl::start() {
    {
        std::lock_guard lock(mu_);
        if (state_ != DomainState::Created) return fail(XEN_EINVAL, "domain already started");
    }
    time_.start(kvm_clock_.wall_ns_at_zero());
    for (auto& v : vcpus_) v->start();
    transition(DomainState::Running, std::nullopt);
    return {};
}

Result<void> DomainImpl::set_paused(bool paused) {
    {
        std::lock_guard lock(mu_);
        const DomainState want = paused ? DomainState::Running : DomainState::Paused;
        if (state_ != want) return fail(XEN_EINVAL, std::string("domain is ") + to_string(state_));
    }
    for (auto& v : vcpus_) v->set_paused(paused);
    transition(paused ? DomainState::Paused : DomainState::Running, std::nullopt);
    return {};
}

void DomainImpl::destroy() {
    std::lock_guard serial(destroy_mu_);
    {
        std::lock_guard lock(mu_);
        if (state_ == DomainState::Dead) return;
    }
    transition(DomainState::Dying, std::nullopt);
    for (auto& v : vcpus_) v->request_stop();
    waiters_.stop_all();  // a vCPU sleeping in SCHEDOP_poll/block returns to see the stop
    for (auto& v : vcpus_) v->join();
    time_.stop();  // no timer raises a VIRQ after this
    // Unregistered first, so no new interdomain bind finds the table; then peers see their
    // ends closed and nothing is delivered into guest memory any more.
    if (registered_) registry_.remove(id_);
    if (ports_) ports_->destroy();
    if (grant_table_) close_grant_table();
    transition(DomainState::Dead, std::nullopt);
}

std::chrono::nanoseconds DomainImpl::cpu_time() const {
    std::chrono::nanoseconds total{0};
    for (const auto& v : vcpus_) total += v->cpu_time();
    return total;
}

DomainState DomainImpl::state() const {
    std::lock_guard lock(mu_);
    return state_;
}

std::optional<ShutdownReason> DomainImpl::shutdown_reason() const {
    std::lock_guard lock(mu_);
    return reason_;
}

bool DomainImpl::wait_stopped(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] {
        return state_ == DomainState::Shutdown || state_ == DomainState::Dying ||
               state_ == DomainState::Dead;
    });
}

void DomainImpl::console_write(std::string_view bytes) {
    if (observer_) observer_->console_output(id_, bytes);
}

void DomainImpl::shutdown(ShutdownReason reason) {
    for (auto& v : vcpus_) v->request_stop();  // the vCPU threads end; destroy() joins them
    waiters_.stop_all();
    transition(DomainState::Shutdown, reason);
}

Result<void> DomainImpl::map_shared_info(Gfn gfn) {
    const Gpa gpa = to_gpa(gfn);
    if (gfn.value > (~uint64_t{0} >> kPageShift) || !layout_.is_usable_ram(gpa.value, kPageSize))
        return fail(XEN_EINVAL, "shared info frame is not guest RAM");
    // Differs from Xen, which swaps a hypervisor page in: the guest's own RAM page at `gfn`
    // becomes the shared info page. The guest sees the same thing (a page at the address it
    // chose, zeroed, with the wall clock); a later move leaves the old page as plain RAM, and
    // pending/mask bits do not move along (Linux maps it once, before any event channel).
    if (auto r = mem_.fill(gpa, 0, kPageSize); !r) return r;
    if (auto r = event_pages_.set_shared_info(gpa); !r) return r;
    time_.publish_shared_info();  // wall clock at system time 0, pvclock in the vcpu_info slots
    return {};
}

Result<void> DomainImpl::register_vcpu_info(VcpuId vcpu, Gpa gpa) {
    if (!layout_.is_usable_ram(gpa.value, sizeof(struct vcpu_info)))
        return fail(XEN_EINVAL, "vcpu_info must lie in guest RAM");
    if (auto r = event_pages_.register_vcpu_info(vcpu, gpa); !r) return r;
    // As Xen: everything is marked pending so that no event raised before the move is lost.
    event_delivery_.vcpu_info_moved(vcpu);
    time_.publish_vcpu_info(vcpu);
    return {};
}

Result<void> DomainImpl::set_upcall_vector(VcpuId vcpu, uint8_t vector) {
    if (auto r = upcalls_.set_vector(vcpu, vector); !r) return r;
    // Xen's hvmop_set_evtchn_upcall_vector injects the vector at once (hvm_assert_evtchn_irq):
    // events marked pending before there was a vector (VCPUOP_register_vcpu_info marks them
    // all) would otherwise never raise an edge again.
    upcalls_.raise(vcpu);
    return {};
}

Result<void> DomainImpl::set_callback_via(uint64_t via) {
    if (auto r = upcalls_.set_callback_via(via); !r) return r;
    // As Xen: vCPUs with an upcall already pending get it through the new vector.
    for (uint32_t v = 0; v < config_.vcpus; ++v) event_delivery_.reraise_pending(VcpuId{v});
    return {};
}

void DomainImpl::send_timer_virq(VcpuId vcpu) {
    if (ports_) (void)ports_->send_virq(VIRQ_TIMER, vcpu);
}

Result<void> DomainImpl::add_event_channels() {
    auto table = PortTable::create(id_, config_.vcpus, &event_delivery_);
    if (!table) return std::unexpected(table.error());
    ports_ = std::move(*table);
    if (auto r = registry_.add(id_, ports_); !r) return r;
    registered_ = true;
    return {};
}

Result<void> DomainImpl::add_grant_table(uint32_t max_frames, PhysmapConfig physmap) {
    auto frames = GrantTable::allocate_frames(id_, max_frames);
    if (!frames) return std::unexpected(frames.error());
    auto table = GrantTable::create({id_, max_frames}, std::move(*frames),
                                    std::make_unique<LayoutGrantableRam>(mem_, layout_.usable_ram()));
    if (!table) return std::unexpected(table.error());
    grant_table_ = std::move(*table);
    physmap_ = std::make_unique<Physmap>(std::move(physmap), slots_);
    return {};
}

Result<void> DomainImpl::map_grant_frame(uint64_t idx, Gfn gfn) {
    if (!grant_table_) return fail(XEN_ENOSYS, "no grant table");
    std::lock_guard lock(physmap_mu_);
    return place_grant_frame(*grant_table_, *physmap_, idx, gfn);
}

void DomainImpl::close_grant_table() {
    // Back-ends may still hold mappings: they stay valid (the table keeps the RAM mapped) and
    // unpin into the closed table; no new ones can be made.
    grant_table_->close();
    if (const auto held = grant_table_->active_refs(); !held.empty())
        log_line(LogLevel::Info, "dom" + std::to_string(id_.value) + ": " +
                                     std::to_string(held.size()) +
                                     " grant refs still mapped by back-ends; the domain's memory "
                                     "stays until they are released");
}

void DomainImpl::set_shutdown_code(ShutdownReason reason) {
    std::lock_guard lock(mu_);
    shutdown_code_ = reason;
}

void DomainImpl::block(VcpuId vcpu, bool interrupts_enabled) {
    // Halting in KVM sleeps until the in-kernel LAPIC has an interrupt for this vCPU (called
    // on the vCPU's own thread, so its fd is ours to use).
    if (time_.block(vcpu, interrupts_enabled) == DomainTime::Block::HaltInKvm && vcpu.value < vcpus_.size())
        (void)vcpus_[vcpu.value]->vcpu().set_mp_state(KVM_MP_STATE_HALTED);
}

void DomainImpl::place_pvclock(VcpuId vcpu, Gpa gpa) {
    // A vCPU's MSRs are set on its own thread, before its next KVM_RUN: another vCPU may be
    // registering this one's vcpu_info while it waits for INIT/SIPI inside KVM_RUN.
    // A vCPU still waiting for INIT/SIPI is not kicked: its thread applies the value once it
    // sees INIT/SIPI processed (apply_pvclock marks it started before it reads the value, and
    // this stores the value before it reads the mark, so one of the two sees the other).
    if (vcpu.value >= vcpus_.size()) return;
    pvclock_msr_[vcpu.value].store(kvmclock_msr_value(gpa));
    if (vcpu_started_[vcpu.value].load())
        vcpus_[vcpu.value]->post([this, vcpu](kvm::Vcpu& v) { apply_pvclock(vcpu, v); });
}

// On `vcpu`'s thread: points KVM's kvmclock at the placed vcpu_time_info unless it already is.
// INIT resets that MSR (and the LAPIC), not Xen's vcpu_info, so this also runs whenever KVM_RUN
// returned without an exit, which is how an AP's thread sees INIT/SIPI processed. A vCPU still
// waiting for INIT is left alone (INIT would undo the MSR; it gets it once INIT is through).
// With the pvclock back, a pending upcall the reset LAPIC dropped is raised again.
void DomainImpl::apply_pvclock(VcpuId vcpu, kvm::Vcpu& v) {
    if (vcpu.value >= config_.vcpus) return;
    if (!vcpu_started_[vcpu.value].load()) {
        if (auto mp = v.get_mp_state(); !mp || *mp == KVM_MP_STATE_UNINITIALIZED) return;
        vcpu_started_[vcpu.value].store(true);
    }
    const uint64_t msr = pvclock_msr_[vcpu.value].load();
    if (msr == 0) return;
    if (auto current = v.get_msr(kMsrKvmSystemTimeNew); current && *current == msr) return;
    if (auto r = v.set_msr(kMsrKvmSystemTimeNew, msr); !r) {
        fatal(vcpu, "cannot place the pvclock (kvmclock MSR): " + r.error().message);
        return;
    }
    event_delivery_.reraise_pending(vcpu);
}

void DomainImpl::fatal(VcpuId vcpu, const std::string& why) {
    (void)vcpu;
    log_line(LogLevel::Error, "dom" + std::to_string(id_.value) + " (" + config_.name + "): " + why);
    console_write("\r\npvhv: domain crashed: " + why + "\r\n");
    std::optional<ShutdownReason> code;
    {
        std::lock_guard lock(mu_);
        code = shutdown_code_;
    }
    // As in Xen, a code the guest set with SCHEDOP_shutdown_code replaces "crash".
    shutdown(code.value_or(ShutdownReason::Crash));
}

void DomainImpl::transition(DomainState next, std::optional<ShutdownReason> reason) {
    {
        std::lock_guard lock(mu_);
        // Lifecycle order; a later state is never undone (a second shutdown changes nothing).
        auto rank = [](DomainState s) {
            switch (s) {
                case DomainState::Created: return 0;
                case DomainState::Running:
                case DomainState::Paused: return 1;
                case DomainState::Shutdown: return 2;
                case DomainState::Dying: return 3;
                case DomainState::Dead: return 4;
            }
            return 4;
        };
        if (rank(next) < rank(state_) || (next == state_ && rank(next) >= 2)) return;
        state_ = next;
        if (reason) reason_ = reason;
        cv_.notify_all();
    }
    if (observer_) observer_->state_changed(id_, next, reason ? reason : shutdown_reason());
}

}  // namespace pvhv
