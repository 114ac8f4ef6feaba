// A guest domain: owns its KVM VM, memory, vCPU threads, hypercall state and devices.
#pragma once

#include <array>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hv/domain/domain_config.h"
#include "hv/domain/domain_counters.h"
#include "hv/domain/shutdown_reason.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv {

// Lifecycle: Created -> Running <-> Paused -> Shutdown (guest asked, reason known)
//            any -> Dying (destroy requested) -> Dead (all vCPU threads joined).
enum class DomainState { Created, Running, Paused, Shutdown, Dying, Dead };
const char* to_string(DomainState s);



// How the outside world hears from a domain. Called from vCPU threads: implementations
// must be thread-safe and quick (pvd posts them onto its Asio loop).
struct DomainObserver {
    virtual ~DomainObserver() = default;
    virtual void console_output(DomId, std::string_view bytes) = 0;
    virtual void state_changed(DomId, DomainState, std::optional<ShutdownReason>) = 0;
};

class DomainImpl;
class DomainRegistry;
class GrantTable;

class Domain {
public:
    // Builds the VM, loads the kernel, wires devices. Nothing runs until start().
    // `registry` (the control domain's directory of domains) outlives the domain; the domain
    // registers itself there while it lives, under `id`, which must be free.
    static Result<std::unique_ptr<Domain>> create(DomId id, const DomainConfig& config,
                                                  DomainObserver* observer,
                                                  DomainRegistry& registry);
    ~Domain();  // destroys (stops and joins vCPU threads) if still alive

    Result<void> start();
    Result<void> pause();
    Result<void> unpause();
    void destroy();  // idempotent; returns once every vCPU thread has stopped

    DomId id() const;
    const DomainConfig& config() const;
    DomainState state() const;
    std::optional<ShutdownReason> shutdown_reason() const;
    CountersSnapshot counters() const;
    std::chrono::nanoseconds cpu_time() const;  // all vCPU threads together
    std::string transport() const;  // "pio" or "kvm-xen" (DESIGN §1)

    // Toolstack (pvd) services, before start() or while running.
    // The host view of special page `index` (layout::special::*), valid while the domain
    // lives. These pages are the toolstack's (like Xen's magic pages), never guest RAM, so
    // pvd's xenstore and console back-ends use them without grants.
    Result<std::span<uint8_t>> special_page(uint32_t index) const;
    // HVMOP_set_param as the toolstack: any parameter, whatever a guest may set.
    void set_hvm_param(uint32_t index, uint64_t value);
    // Typed console input for the emulated COM1 UART's receiver (a guest on ttyS0). Returns
    // how many bytes it took (Uart8250::input). Any thread.
    size_t serial_input(std::string_view bytes);
    // The domain's grant table, for pvd's back-ends (hv/gnttab/grant_access.h). Holding it (or
    // a mapping) after destroy() is safe: mappings stay valid, new ones fail.
    std::shared_ptr<GrantTable> grant_table() const;
    // `pvctl debug-dump`: the event-channel table, the grant table and the pages placed in the
    // physmap, as text. Any thread.
    std::string debug_dump() const;

    // Blocks until the domain reaches Shutdown or Dead, or the timeout passes.
    bool wait_stopped(std::chrono::milliseconds timeout) const;

    DomainImpl& impl() { return *impl_; }

private:
    explicit Domain(std::unique_ptr<DomainImpl> impl);
    std::unique_ptr<DomainImpl> impl_;
};

}  // namespace pvhv
