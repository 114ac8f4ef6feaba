// The vCPU run loop and the signal-based kick that interrupts KVM_RUN.
#include "hv/cpu/vcpu_thread.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <optional>

#include "hv/log.h"

namespace pvhv {

namespace {

constexpr int kKickSignal = SIGUSR1;

void install_kick_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        sa.sa_handler = [](int) {};  // only there to interrupt KVM_RUN (no SA_RESTART)
        sigemptyset(&sa.sa_mask);
        ::sigaction(kKickSignal, &sa, nullptr);
    });
}

// VcpuContext over a real vCPU: registers fetched lazily, written back after the handler.
class KvmVcpuContext final : public VcpuContext {
public:
    explicit KvmVcpuContext(kvm::Vcpu& vcpu) : vcpu_(vcpu) {}
    VcpuId id() const override { return vcpu_.id(); }
    Result<kvm_regs*> regs() override {
        if (!regs_) {
            auto r = vcpu_.get_regs();
            if (!r) return std::unexpected(r.error());
            regs_ = *r;
        }
        return &*regs_;
    }
    void mark_regs_changed() override { regs_changed_ = true; }
    Result<const kvm_sregs*> sregs() override {
        if (!sregs_) {
            auto s = vcpu_.get_sregs();
            if (!s) return std::unexpected(s.error());
            sregs_ = *s;
        }
        return &*sregs_;
    }
    Result<void> write_back() {
        if (regs_changed_ && regs_) return vcpu_.set_regs(*regs_);
        return {};
    }

private:
    kvm::Vcpu& vcpu_;
    std::optional<kvm_regs> regs_;
    std::optional<kvm_sregs> sregs_;
    bool regs_changed_ = false;
};

}  // namespace

VcpuThread::VcpuThread(kvm::Vcpu vcpu, ExitHandler& handler, DomainCounters& counters)
    : vcpu_(std::move(vcpu)), handler_(handler), counters_(counters) {
    install_kick_handler();
}

VcpuThread::~VcpuThread() {
    request_stop();
    join();
}

void VcpuThread::start() {
    thread_ = std::thread([this] { loop(); });
    const std::string name = "vcpu" + std::to_string(vcpu_.id().value);
    ::pthread_setname_np(thread_.native_handle(), name.c_str());
}

void VcpuThread::request_stop() {
    stop_.store(true);
    {
        std::lock_guard lock(mu_);
        cv_.notify_all();
    }
    kick();
}

void VcpuThread::join() {
    if (thread_.joinable()) thread_.join();
}

void VcpuThread::set_paused(bool paused) {
    {
        std::lock_guard lock(mu_);
        paused_ = paused;
        cv_.notify_all();
    }
    if (paused) kick();
}

void VcpuThread::post(std::function<void(kvm::Vcpu&)> fn) {
    if (!thread_.joinable()) {  // not started: the fd is the caller's to use
        fn(vcpu_);
        return;
    }
    {
        std::lock_guard lock(mu_);
        posted_.push_back(std::move(fn));
    }
    // On its own thread (a hypercall) the loop runs it before re-entering KVM_RUN anyway.
    if (std::this_thread::get_id() != thread_.get_id()) kick();
}

void VcpuThread::run_posted() {
    std::vector<std::function<void(kvm::Vcpu&)>> work;
    {
        std::lock_guard lock(mu_);
        work.swap(posted_);
    }
    for (auto& fn : work) fn(vcpu_);
}

void VcpuThread::kick() {
    // immediate_exit covers the window between the loop's flag check and KVM_RUN; the
    // signal interrupts a KVM_RUN already in progress (e.g. a halted vCPU).
    std::atomic_ref<uint8_t>(vcpu_.run_page().immediate_exit).store(1);
    if (thread_.joinable()) ::pthread_kill(thread_.native_handle(), kKickSignal);
}

std::chrono::nanoseconds VcpuThread::cpu_time() const {
    if (running_.load()) {
        clockid_t clock;
        timespec ts{};
        if (::pthread_getcpuclockid(const_cast<std::thread&>(thread_).native_handle(), &clock) == 0 &&
            ::clock_gettime(clock, &ts) == 0)
            return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    }
    return std::chrono::nanoseconds(final_cpu_time_ns_.load());
}

void VcpuThread::loop() {
    running_.store(true);
    struct RecordCpuTime {  // on every way out of the loop
        VcpuThread& t;
        ~RecordCpuTime() {
            timespec ts{};
            ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            t.final_cpu_time_ns_.store(int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
            t.running_.store(false);
        }
    } record{*this};
    kvm_run& run = vcpu_.run_page();
    bool woken = false;  // the last KVM_RUN returned without an exit
    for (;;) {
        std::atomic_ref<uint8_t>(run.immediate_exit).store(0);
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return !paused_ || stop_.load(); });
        }
        if (stop_.load()) return;
        run_posted();
        if (stop_.load()) return;
        if (before_run_hook_) before_run_hook_(vcpu_, woken);
        woken = false;

        auto ran = vcpu_.run();
        if (!ran) {
            handler_.run_failed(vcpu_.id(), ran.error());
            return;
        }
        if (!*ran) {  // a kick, or INIT/SIPI processed: re-check the flags
            woken = true;
            continue;
        }

        counters_.count_exit(run.exit_reason);
        KvmVcpuContext ctx(vcpu_);
        VcpuExit exit = decode_exit(run);
        handler_.handle(ctx, exit);
        if (auto r = ctx.write_back(); !r) {
            handler_.run_failed(vcpu_.id(), r.error());
            return;
        }
    }
}

}  // namespace pvhv
