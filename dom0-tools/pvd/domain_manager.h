// pvd's domain manager: domids, unique names, lifecycle actions, console fan-out and logs.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dom0-tools/pvd/console_backlog.h"
#include "dom0-tools/pvd/console_log.h"
#include "dom0-tools/pvd/device_config.h"
#include "dom0-tools/pvd/guest_domain.h"

namespace pvhv::dom0 {

struct ManagerOptions {
    std::string console_dir;  // <name>.log files go here; created 0700 on demand
    // A domain whose on_* action restarts it more than max_restarts times within
    // restart_window is destroyed instead: a guest that crashes at boot must not spin.
    int max_restarts = 5;
    std::chrono::milliseconds restart_window{10'000};
    // Random bits for the MACs of vifs configured without one; empty: std::random_device.
    std::function<uint32_t()> random{};
};

struct DomainSummary {
    DomId id;
    std::string name;
    DomainState state = DomainState::Created;
    std::optional<ShutdownReason> shutdown_reason;
    DomainConfig config;
    DeviceConfig devices;  // as configured and attached since, with the MACs pvd picked
    std::chrono::milliseconds uptime{0};
    std::optional<std::chrono::nanoseconds> cpu_time;
    std::string transport;
    std::string console_log;
};

// Threading: every member function runs on the io_context thread, and so does all state
// below, which therefore needs no lock. The DomainObserver callbacks are the exception:
// they arrive on vCPU threads and only post() a copy of their arguments onto the loop
// (console output through backlog_: coalesced and bounded).
class DomainManager final : public DomainObserver {
  public:
    DomainManager(boost::asio::io_context& io, DomainFactory& factory, ManagerOptions options);
    ~DomainManager() override;  // destroys every domain (joins their vCPU threads)
    DomainManager(const DomainManager&) = delete;
    DomainManager& operator=(const DomainManager&) = delete;

    // Builds and starts a domain with its PV devices. `watcher` (may be null) is registered
    // before the domain starts, so with `console` it sees all console output.
    Result<DomId> create(const DomainConfig& config, std::shared_ptr<DomainWatcher> watcher,
                         bool console = true, DeviceConfig devices = {});
    Result<void> destroy(DomId id, const std::string& why);
    // Asks the guest to shut down; fails clearly when it has no PV control interface.
    // (shutdown_request.h follows the request to its end, with a timeout.)
    Result<void> shutdown(DomId id, ShutdownReason reason);
    // xl pause / unpause (GuestDomain::pause): clear errors for domains in the wrong state.
    Result<void> pause(DomId id);
    Result<void> unpause(DomId id);
    // pvctl block-attach / network-attach: the device joins the domain and its config, so a
    // restart brings it back (as libxl updates the domain's stored config). Returns the spec
    // as attached: a vif with the devid and mac pvd chose.
    Result<back::DiskSpec> attach_disk(DomId id, back::DiskSpec disk);
    Result<back::VifSpec> attach_vif(DomId id, back::VifSpec vif);
    // pvctl block-detach / network-detach. `which`: the devid, or the vdev (vbd) or mac (vif).
    // Errors found at once are returned (and `done` is dropped); otherwise `done` runs on the
    // loop when the device is gone, and the device leaves the domain's config.
    Result<void> detach_device(DomId id, DeviceKind kind, const std::string& which,
                               back::DetachDone done);
    Result<std::vector<DeviceStatus>> devices(DomId id) const;
    // Typed console input for a domain (pvctl console); see GuestDomain::console_input.
    Result<void> console_input(DomId id, std::string_view bytes);
    // The toolstack stops the domain itself, where xl -F would press a virtual power or reset
    // button: poweroff destroys it (exit code 125); reboot resets it, i.e. destroys it and
    // applies on_reboot as if the guest had rebooted. `why` goes to the log.
    Result<void> force_shutdown(DomId id, ShutdownReason reason, const std::string& why);
    // Follows a domain. For one that already stopped (preserved), on_exited is posted.
    Result<void> watch(DomId id, std::shared_ptr<DomainWatcher> watcher, bool console);
    void destroy_all(const std::string& why);

    Result<DomId> find_by_name(const std::string& name) const;
    bool exists(DomId id) const { return domains_.contains(id.value); }
    std::string name_of(DomId id) const;
    std::vector<DomainSummary> list() const;
    Result<CountersSnapshot> counters(DomId id) const;
    Result<std::string> debug_dump(DomId id) const;
    static std::string summarize(const CountersSnapshot& c);
    size_t size() const { return domains_.size(); }
    const std::string& factory_description() const { return factory_description_; }

    // Called (on the loop) whenever the last domain goes away.
    void set_on_empty(std::function<void()> f) { on_empty_ = std::move(f); }

    // DomainObserver: any thread.
    void console_output(DomId id, std::string_view bytes) override;
    void state_changed(DomId id, DomainState state, std::optional<ShutdownReason> reason) override;

  private:
    struct Watch {
        std::weak_ptr<DomainWatcher> watcher;
        bool console = false;
    };
    struct Entry {
        DomId id;
        std::string name;
        DomainConfig config;
        DeviceConfig devices;
        std::unique_ptr<GuestDomain> domain;
        std::optional<ConsoleLog> log;
        std::vector<Watch> watchers;
        std::chrono::steady_clock::time_point created;
        std::deque<std::chrono::steady_clock::time_point> restarts;  // within the window
        std::optional<ShutdownReason> shutdown_reason;
        bool shutdown_handled = false;  // the on_* action ran (preserved domains stay)
    };

    Result<DomId> allocate_id();
    Result<Entry*> find_entry(DomId id);  // ESRCH with the id in the message
    Result<DomId> build(const DomainConfig& config, const DeviceConfig& devices,
                        std::vector<Watch> watchers,
                        std::deque<std::chrono::steady_clock::time_point> restarts);
    Result<void> attach_all(GuestDomain& domain, const DeviceConfig& devices);
    uint32_t random_bits();
    void on_console(DomId id, const std::string& bytes);
    void on_state(DomId id, DomainState state, std::optional<ShutdownReason> reason);
    void apply_shutdown_action(Entry& e, ShutdownReason reason);
    void restart(DomId id, ShutdownReason reason, bool rename);
    // Notifies watchers, destroys the domain and forgets it.
    void finish(DomId id, const ExitInfo& info);
    void notify_exited(Entry& e, const ExitInfo& info);

    boost::asio::io_context& io_;
    DomainFactory& factory_;
    ManagerOptions options_;
    std::string factory_description_;
    std::map<uint16_t, Entry> domains_;  // by domid; loop thread only
    uint16_t next_id_ = 1;               // Xen-like rover: ids are not reused at once
    std::function<void()> on_empty_;
    ConsoleBacklog backlog_;  // console output not yet on the loop (thread-safe)
    // Posted observer callbacks hold a weak_ptr to this and do nothing once it is gone.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// "powered off", "rebooted", ... for messages.
std::string describe_reason(ShutdownReason r);

}  // namespace pvhv::dom0
