// Routes a vCPU exit to its handler: hypercall port, hypercall MSR, device buses, fatal exits.
#pragma once

#include <functional>
#include <string>

#include "hv/cpu/vcpu_thread.h"
#include "hv/devices/bus.h"
#include "hv/domain/domain_counters.h"
#include "hv/hypercall/hypercall.h"
#include "hv/log.h"
#include "hv/mem/guest_memory.h"

namespace pvhv {

class ExitRouter : public ExitHandler {
public:
    // `fatal` is called (on the vCPU thread) when the guest cannot go on: triple fault,
    // KVM internal error, an exit nothing handles. It must stop the domain.
    using FatalFn = std::function<void(VcpuId, const std::string& why)>;

    ExitRouter(const GuestMemory& mem, HypercallDomain& domain, const Bus& pio, const Bus& mmio,
               DomainCounters& counters, FatalFn fatal)
        : mem_(mem), domain_(domain), pio_(pio), mmio_(mmio), counters_(counters),
          fatal_(std::move(fatal)) {}

    void handle(VcpuContext& ctx, VcpuExit& exit) override;
    void run_failed(VcpuId id, const Error& e) override;

private:
    void hypercall(VcpuContext& ctx);
    void io(VcpuContext& ctx, IoExit& io);
    void msr(VcpuContext& ctx, MsrExit& msr);

    const GuestMemory& mem_;
    HypercallDomain& domain_;
    const Bus& pio_;
    const Bus& mmio_;
    DomainCounters& counters_;
    FatalFn fatal_;
    RateLimit log_limit_{10, std::chrono::seconds(5)};
};

}  // namespace pvhv
