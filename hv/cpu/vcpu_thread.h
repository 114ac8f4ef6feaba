// One thread per vCPU: the KVM_RUN loop, handing each decoded exit to an ExitHandler.
#pragma once

#include <linux/kvm.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "hv/cpu/vcpu_exit.h"
#include "hv/domain/domain_counters.h"
#include "hv/kvm/vcpu.h"

namespace pvhv {

// The exited vCPU's registers as the handler sees them. Most exits (device I/O) need none,
// so they are read from KVM on first use and written back only when marked changed. (KVM's
// sync-regs area would copy them on every exit; it also misbehaved under the nested test
// host, DESIGN §4.)
class VcpuContext {
public:
    virtual ~VcpuContext() = default;
    virtual VcpuId id() const = 0;
    virtual Result<kvm_regs*> regs() = 0;  // changes reach the vCPU after mark_regs_changed()
    virtual void mark_regs_changed() = 0;
    virtual Result<const kvm_sregs*> sregs() = 0;
};

class ExitHandler {
public:
    virtual ~ExitHandler() = default;
    virtual void handle(VcpuContext& ctx, VcpuExit& exit) = 0;
    // The run loop failed (KVM_RUN error); the thread stops after this call.
    virtual void run_failed(VcpuId id, const Error& e) = 0;
};

class VcpuThread {
public:
    VcpuThread(kvm::Vcpu vcpu, ExitHandler& handler, DomainCounters& counters);
    ~VcpuThread();  // stops and joins

    void start();
    void request_stop();             // thread-safe; returns at once
    void join();
    void set_paused(bool paused);    // thread-safe; returns at once
    // Runs `fn` on this vCPU's thread before its next KVM_RUN, for vCPU ioctls that another
    // thread cannot issue while the vCPU sits in KVM_RUN (KVM holds the vCPU's mutex there).
    // Thread-safe; kicks the vCPU out of KVM_RUN. Before start() `fn` runs at once on the
    // caller's thread; once the thread has ended it never runs.
    void post(std::function<void(kvm::Vcpu&)> fn);
    // Set before start(): called on the vCPU thread before every KVM_RUN, with `woken` true
    // when the previous KVM_RUN returned without an exit (a kick, or KVM's EAGAIN after it
    // processed INIT/SIPI for a vCPU that was waiting for them: INIT resets vCPU state pvhv set
    // up, such as KVM's kvmclock MSR). Runs once per exit: keep it to a few atomic loads.
    void set_before_run_hook(std::function<void(kvm::Vcpu&, bool woken)> fn) {
        before_run_hook_ = std::move(fn);
    }
    kvm::Vcpu& vcpu() { return vcpu_; }  // only from this vCPU's thread or before start()
    // CPU time the thread has used (guest time in KVM_RUN included); final once it stopped.
    std::chrono::nanoseconds cpu_time() const;

private:
    void loop();
    void kick();  // makes a KVM_RUN in progress (or about to start) return
    void run_posted();

    kvm::Vcpu vcpu_;
    ExitHandler& handler_;
    DomainCounters& counters_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> running_{false};             // the loop has started and not yet ended
    std::atomic<int64_t> final_cpu_time_ns_{0};    // written by the thread as it ends
    std::mutex mu_;                  // guards paused_ (with cv_) and posted_
    std::condition_variable cv_;
    bool paused_ = false;
    std::vector<std::function<void(kvm::Vcpu&)>> posted_;
    std::function<void(kvm::Vcpu&, bool)> before_run_hook_;  // fixed before start()
};

}  // namespace pvhv
