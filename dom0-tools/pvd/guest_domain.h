// The narrow view of a domain that pvd's manager needs, so tests can fake the hv core.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dom0-tools/pvd/domain_devices.h"
#include "hv/domain/domain.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::dom0 {

// pvd adapts pvhv::Domain to this (real_domain.cpp); unit tests use a fake.
class GuestDomain {
  public:
    virtual ~GuestDomain() = default;
    virtual Result<void> start() = 0;
    // xl pause/unpause: a Running domain's vCPUs stop where they are (Paused), and go on.
    virtual Result<void> pause() = 0;
    virtual Result<void> unpause() = 0;
    virtual void destroy() = 0;  // idempotent; returns once every vCPU thread has stopped
    virtual DomainState state() const = 0;
    virtual CountersSnapshot counters() const = 0;
    virtual std::string transport() const = 0;
    virtual std::optional<std::chrono::nanoseconds> cpu_time() const = 0;
    // `pvctl debug-dump`: the domain's PV state as text (Domain::debug_dump).
    virtual std::string debug_dump() const = 0;
    // A PV control channel (xenstore control/shutdown) through which the guest can be
    // asked to shut down. Without one, request_shutdown() is never called.
    virtual bool has_pv_control() const = 0;
    virtual Result<void> request_shutdown(ShutdownReason reason) = 0;
    // Typed console input (pvctl console): into the PV console's in ring when the guest uses
    // it, else the emulated COM1 UART's receiver. Returns how many bytes were taken (both
    // queues are bounded). Any thread.
    virtual Result<size_t> console_input(std::string_view bytes) = 0;

    // PV devices (DomainDevices: xenstore directories and pvd's back-ends), before start() for
    // the configured ones, or while the domain runs (block-attach, network-attach). Loop
    // thread. The manager has checked the spec and filled in a vif's devid and mac.
    virtual Result<uint32_t> attach_disk(const back::DiskSpec& disk) = 0;
    virtual Result<uint32_t> attach_vif(const back::VifSpec& vif) = 0;
    // The close handshake with the guest's front-end; `done` is posted when the device is gone.
    virtual void detach_device(DeviceKind kind, uint32_t devid, back::DetachDone done) = 0;
    virtual std::vector<DeviceStatus> devices() const = 0;
};

class DomainFactory {
  public:
    virtual ~DomainFactory() = default;
    // Builds (does not start) a domain. `observer` outlives the domain.
    virtual Result<std::unique_ptr<GuestDomain>> create(DomId id, const DomainConfig& config,
                                                        DomainObserver& observer) = 0;
    // One line for `pvctl info`: what creates domains here.
    virtual std::string description() const = 0;
};

// How a domain's life ended, as seen by whoever watched it.
struct ExitInfo {
    std::optional<ShutdownReason> reason;  // set when the guest shut down
    bool destroyed = false;                // destroyed without (or after) a guest shutdown
    int exit_code = 0;                     // exit_codes.h
    std::string detail;
};

// A client of the manager that follows one domain (console attach, create -F, shutdown -w).
// Called on the io_context thread only.
class DomainWatcher {
  public:
    virtual ~DomainWatcher() = default;
    virtual void on_console(DomId id, std::string_view bytes) = 0;
    virtual void on_restarted(DomId old_id, DomId new_id, ShutdownReason reason,
                              const std::string& name) = 0;
    virtual void on_exited(DomId id, const ExitInfo& info) = 0;
};

}  // namespace pvhv::dom0
