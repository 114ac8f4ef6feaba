// pvd's domain manager: lifecycle of every domain, run on the io_context thread.
#include "dom0-tools/pvd/domain_manager.h"

#include <sys/stat.h>
#include <xen/xen.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <ctime>
#include <random>

#include "dom0-tools/pvd/config_rules.h"
#include "dom0-tools/pvd/exit_codes.h"
#include "dom0-tools/pvd/log.h"
#include "dom0-tools/pvd/sys_error.h"
#include "pvdrivers/back/net/mac.h"
#include "hv/log.h"

namespace pvhv::dom0 {

std::string describe_reason(ShutdownReason r) {
    switch (r) {
        case ShutdownReason::Poweroff:
            return "powered off";
        case ShutdownReason::Reboot:
            return "rebooted";
        case ShutdownReason::Suspend:
            return "suspended";
        case ShutdownReason::Crash:
            return "crashed";
        case ShutdownReason::Watchdog:
            return "was stopped by its watchdog";
        case ShutdownReason::SoftReset:
            return "asked for a soft reset";
    }
    return "shut down";
}

namespace {

std::string label(DomId id, const std::string& name) {
    return "domain " + name + " (id " + std::to_string(id.value) + ")";
}

// xl's rename-restart keeps the old domain as "<name>--<time>".
std::string preserved_name(const std::string& name) {
    char stamp[32];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    return name + "--" + stamp;
}

}  // namespace

DomainManager::DomainManager(boost::asio::io_context& io, DomainFactory& factory,
                             ManagerOptions options)
    : io_(io),
      factory_(factory),
      options_(std::move(options)),
      factory_description_(factory.description()) {}

DomainManager::~DomainManager() {
    alive_.reset();
    on_empty_ = nullptr;  // whoever set it may already be gone
    destroy_all("pvd is stopping");
}

Result<DomId> DomainManager::allocate_id() {
    for (uint32_t tries = 1; tries < DOMID_FIRST_RESERVED; ++tries) {
        const uint16_t id = next_id_;
        next_id_ =
            static_cast<uint16_t>(next_id_ + 1u >= DOMID_FIRST_RESERVED ? 1u : next_id_ + 1u);
        if (!domains_.contains(id)) return DomId{id};
    }
    return fail(XEN_ENOSPC, "no free domain id");
}

Result<DomId> DomainManager::create(const DomainConfig& config,
                                    std::shared_ptr<DomainWatcher> watcher, bool console,
                                    DeviceConfig devices) {
    if (auto v = validate_domain_config(config); !v) return std::unexpected(v.error());
    if (auto v = validate_device_config(devices); !v) return std::unexpected(v.error());
    // Picked once: a restart keeps the vifs' indexes and MACs (the entry keeps them).
    assign_device_defaults(devices, [this] { return random_bits(); });
    std::vector<Watch> watchers;
    if (watcher) watchers.push_back(Watch{watcher, console});
    return build(config, devices, std::move(watchers), {});
}

uint32_t DomainManager::random_bits() {
    if (options_.random) return options_.random();
    static std::random_device rd;
    return rd();
}

Result<void> DomainManager::attach_all(GuestDomain& domain, const DeviceConfig& devices) {
    for (const auto& d : devices.disks)
        if (auto r = domain.attach_disk(d); !r)
            return fail(r.error().xen_errno, "disk " + d.vdev + ": " + r.error().message);
    for (const auto& v : devices.vifs)
        if (auto r = domain.attach_vif(v); !r)
            return fail(r.error().xen_errno, "vif " + std::to_string(v.devid.value_or(0)) + ": " +
                                                 r.error().message);
    return {};
}

Result<DomId> DomainManager::build(const DomainConfig& config, const DeviceConfig& devices,
                                   std::vector<Watch> watchers,
                                   std::deque<std::chrono::steady_clock::time_point> restarts) {
    for (const auto& [id, e] : domains_)
        if (e.name == config.name)
            return fail(XEN_EEXIST, "a domain named " + config.name + " already exists (id " +
                                        std::to_string(id) + ")");
    auto id = allocate_id();
    if (!id) return std::unexpected(id.error());

    if (::mkdir(options_.console_dir.c_str(), 0700) != 0 && errno != EEXIST)
        return fail_sys("cannot create console log directory " + options_.console_dir);
    auto log = ConsoleLog::open(options_.console_dir + "/" + config.name + ".log");
    if (!log) return std::unexpected(log.error());

    auto dom = factory_.create(*id, config, *this);
    if (!dom)
        return fail(dom.error().xen_errno,
                    "cannot create domain " + config.name + ": " + dom.error().message);
    // Devices before the first instruction, as xl adds them before it unpauses the domain.
    if (auto r = attach_all(**dom, devices); !r) {
        (*dom)->destroy();
        return fail(r.error().xen_errno, "cannot create domain " + config.name + ": " + r.error().message);
    }

    Entry e;
    e.id = *id;
    e.name = config.name;
    e.config = config;
    e.devices = devices;
    e.domain = std::move(*dom);
    e.log = std::move(*log);
    e.watchers = std::move(watchers);
    e.created = std::chrono::steady_clock::now();
    e.restarts = std::move(restarts);
    Entry& entry = domains_.emplace(id->value, std::move(e)).first->second;

    // In the table before start(): callbacks posted from the first instructions find it.
    if (auto s = entry.domain->start(); !s) {
        entry.domain->destroy();
        const std::string msg = "cannot start domain " + config.name + ": " + s.error().message;
        domains_.erase(id->value);  // no watcher was told anything yet: the caller reports it
        if (domains_.empty() && on_empty_) on_empty_();
        return fail(s.error().xen_errno, msg);
    }
    log_info("started " + label(*id, config.name) + ", " + guest_type_name(config.type) + ", " +
             std::to_string(config.memory_mib) + " MiB, " + std::to_string(config.vcpus) +
             " vCPU(s), kernel " + config.kernel);
    return *id;
}

Result<void> DomainManager::destroy(DomId id, const std::string& why) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    Entry& e = it->second;
    ExitInfo info;
    info.reason = e.shutdown_reason;
    info.destroyed = true;
    info.exit_code = kExitDestroyed;
    info.detail = "destroyed (" + why + ")";
    log_info("destroying " + label(id, e.name) + ": " + why);
    finish(id, info);
    return {};
}

Result<void> DomainManager::shutdown(DomId id, ShutdownReason reason) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    Entry& e = it->second;
    if (e.shutdown_handled || e.domain->state() == DomainState::Shutdown)
        return fail(XEN_EINVAL, "domain " + e.name + " has already shut down");
    if (!e.domain->has_pv_control())
        return fail(XEN_EOPNOTSUPP, "domain " + e.name +
                                        " has no PV control interface (it has not talked to "
                                        "xenstore); use -F to stop it anyway, or destroy");
    return e.domain->request_shutdown(reason);
}

Result<void> DomainManager::pause(DomId id) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    Entry& e = it->second;
    const DomainState s = e.domain->state();
    if (s == DomainState::Paused) return fail(XEN_EINVAL, "domain " + e.name + " is already paused");
    if (s != DomainState::Running)
        return fail(XEN_EINVAL, "domain " + e.name + " is not running (" + to_string(s) + ")");
    if (auto r = e.domain->pause(); !r)
        return fail(r.error().xen_errno, "cannot pause domain " + e.name + ": " + r.error().message);
    log_info("paused " + label(id, e.name));
    return {};
}

Result<void> DomainManager::unpause(DomId id) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    Entry& e = it->second;
    if (e.domain->state() != DomainState::Paused)
        return fail(XEN_EINVAL, "domain " + e.name + " is not paused (" +
                                    to_string(e.domain->state()) + ")");
    if (auto r = e.domain->unpause(); !r)
        return fail(r.error().xen_errno,
                    "cannot unpause domain " + e.name + ": " + r.error().message);
    log_info("unpaused " + label(id, e.name));
    return {};
}

Result<DomainManager::Entry*> DomainManager::find_entry(DomId id) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    return &it->second;
}

Result<back::DiskSpec> DomainManager::attach_disk(DomId id, back::DiskSpec disk) {
    auto found = find_entry(id);
    if (!found) return std::unexpected(found.error());
    Entry& e = **found;
    if (e.shutdown_handled) return fail(XEN_EINVAL, "domain " + e.name + " has shut down");
    DeviceConfig next = e.devices;
    next.disks.push_back(disk);
    if (auto v = validate_device_config(next); !v) return std::unexpected(v.error());
    if (auto r = e.domain->attach_disk(disk); !r) return std::unexpected(r.error());
    e.devices = std::move(next);
    log_info(label(id, e.name) + ": disk " + disk.vdev + " attached (" + disk.target + ")");
    return disk;
}

Result<back::VifSpec> DomainManager::attach_vif(DomId id, back::VifSpec vif) {
    auto found = find_entry(id);
    if (!found) return std::unexpected(found.error());
    Entry& e = **found;
    if (e.shutdown_handled) return fail(XEN_EINVAL, "domain " + e.name + " has shut down");
    assign_vif_defaults(vif, e.devices.vifs, [this] { return random_bits(); });
    DeviceConfig next = e.devices;
    next.vifs.push_back(vif);
    if (auto v = validate_device_config(next); !v) return std::unexpected(v.error());
    if (auto r = e.domain->attach_vif(vif); !r) return std::unexpected(r.error());
    e.devices = std::move(next);
    log_info(label(id, e.name) + ": vif " + std::to_string(*vif.devid) + " (" + vif.mac +
             ") attached to bridge " + vif.bridge);
    return vif;
}

Result<void> DomainManager::detach_device(DomId id, DeviceKind kind, const std::string& which,
                                          back::DetachDone done) {
    auto found = find_entry(id);
    if (!found) return std::unexpected(found.error());
    Entry& e = **found;
    // Which device: as xl, a devid, or the vdev / mac. Only devices pvd attached count.
    std::optional<uint32_t> devid;
    if (kind == DeviceKind::Vbd) {
        const auto wanted = back::vdev_number(which);
        for (const auto& d : e.devices.disks)
            if (wanted && back::vdev_number(d.vdev) == wanted) devid = *wanted;
    } else {
        const auto mac = net::parse_mac(which);
        for (const auto& v : e.devices.vifs) {
            if (mac && net::parse_mac(v.mac) == mac) devid = v.devid;
            if (!mac && !which.empty() && std::to_string(v.devid.value_or(~0u)) == which) devid = v.devid;
        }
    }
    if (!devid)
        return fail(XEN_ENODEV, "domain " + e.name + " has no " +
                                    (kind == DeviceKind::Vbd ? "disk " : "vif ") + which);
    log_info(label(id, e.name) + ": detaching " + device_kind_name(kind) + " " + std::to_string(*devid));
    e.domain->detach_device(
        kind, *devid,
        [this, alive = std::weak_ptr<int>(alive_), id, kind, devid = *devid,
         done = std::move(done)](Result<back::DetachOutcome> r) {
            if (r && !alive.expired()) {
                if (auto found = domains_.find(id.value); found != domains_.end()) {
                    auto& dev = found->second.devices;
                    std::erase_if(dev.disks, [&](const back::DiskSpec& d) {
                        return kind == DeviceKind::Vbd && back::vdev_number(d.vdev) == devid;
                    });
                    std::erase_if(dev.vifs, [&](const back::VifSpec& v) {
                        return kind == DeviceKind::Vif && v.devid == devid;
                    });
                }
            }
            done(std::move(r));
        });
    return {};
}

Result<std::vector<DeviceStatus>> DomainManager::devices(DomId id) const {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    return it->second.domain->devices();
}

Result<void> DomainManager::console_input(DomId id, std::string_view bytes) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    auto taken = it->second.domain->console_input(bytes);
    if (!taken) return std::unexpected(taken.error());
    // A paste into a guest that does not read: say so, but not once per keystroke.
    static RateLimit drops(3, std::chrono::seconds(10));
    if (*taken < bytes.size() && drops.allow())
        log_warn(label(id, it->second.name) + ": " + std::to_string(bytes.size() - *taken) +
                 " bytes of console input dropped (the guest is not reading them)");
    return {};
}

Result<void> DomainManager::force_shutdown(DomId id, ShutdownReason reason, const std::string& why) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    if (reason != ShutdownReason::Reboot) return destroy(id, why);
    Entry& e = it->second;
    if (e.shutdown_handled) return fail(XEN_EINVAL, "domain " + e.name + " has already shut down");
    log_info("resetting " + label(id, e.name) + ": " + why);
    // Its Dying/Dead callbacks arrive after shutdown_handled is set, and are ignored.
    e.domain->destroy();
    apply_shutdown_action(e, ShutdownReason::Reboot);
    return {};
}

Result<void> DomainManager::watch(DomId id, std::shared_ptr<DomainWatcher> watcher, bool console) {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    Entry& e = it->second;
    if (e.shutdown_handled) {
        // Preserved after a shutdown: the watcher learns that at once, after the caller
        // has sent its own reply.
        ExitInfo info;
        info.reason = e.shutdown_reason;
        info.exit_code = exit_code_for(e.shutdown_reason);
        info.detail = "domain has already " + describe_reason(*e.shutdown_reason);
        std::weak_ptr<DomainWatcher> w = watcher;
        boost::asio::post(io_, [w, id, info] {
            if (auto s = w.lock()) s->on_exited(id, info);
        });
        return {};
    }
    e.watchers.push_back(Watch{watcher, console});
    return {};
}

void DomainManager::destroy_all(const std::string& why) {
    while (!domains_.empty()) {
        const DomId id{domains_.begin()->first};
        (void)destroy(id, why);
    }
}

Result<DomId> DomainManager::find_by_name(const std::string& name) const {
    for (const auto& [id, e] : domains_)
        if (e.name == name) return DomId{id};
    return fail(XEN_ESRCH, "no domain named " + name);
}

std::string DomainManager::name_of(DomId id) const {
    auto it = domains_.find(id.value);
    return it == domains_.end() ? std::string() : it->second.name;
}

std::vector<DomainSummary> DomainManager::list() const {
    std::vector<DomainSummary> out;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, e] : domains_) {
        DomainSummary s;
        s.id = e.id;
        s.name = e.name;
        s.state = e.domain->state();
        s.shutdown_reason = e.shutdown_reason;
        s.config = e.config;
        s.devices = e.devices;
        s.uptime = std::chrono::duration_cast<std::chrono::milliseconds>(now - e.created);
        s.cpu_time = e.domain->cpu_time();
        s.transport = e.domain->transport();
        s.console_log = e.log ? e.log->path() : std::string();
        out.push_back(std::move(s));
    }
    return out;
}

Result<CountersSnapshot> DomainManager::counters(DomId id) const {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    return it->second.domain->counters();
}

Result<std::string> DomainManager::debug_dump(DomId id) const {
    auto it = domains_.find(id.value);
    if (it == domains_.end())
        return fail(XEN_ESRCH, "no domain with id " + std::to_string(id.value));
    return it->second.domain->debug_dump();
}

// --- observer callbacks: any thread, post only -------------------------------------------

void DomainManager::console_output(DomId id, std::string_view bytes) {
    if (!backlog_.append(id, bytes)) return;  // a drain is already on its way
    boost::asio::post(io_, [alive = std::weak_ptr<int>(alive_), this] {
        if (alive.expired()) return;
        for (const auto& [from, data] : backlog_.take_all()) on_console(from, data);
    });
}

void DomainManager::state_changed(DomId id, DomainState state,
                                  std::optional<ShutdownReason> reason) {
    boost::asio::post(io_, [alive = std::weak_ptr<int>(alive_), this, id, state, reason] {
        if (!alive.expired()) on_state(id, state, reason);
    });
}

// --- on the loop ---------------------------------------------------------------------------

void DomainManager::on_console(DomId id, const std::string& bytes) {
    auto it = domains_.find(id.value);
    if (it == domains_.end()) return;  // output from a domain destroyed meanwhile
    Entry& e = it->second;
    if (e.log) e.log->append(bytes);
    // Copy: a watcher may close its session (and so unregister) while being called.
    const auto watchers = e.watchers;
    for (const auto& w : watchers)
        if (auto s = w.watcher.lock(); s && w.console) s->on_console(id, bytes);
}

void DomainManager::on_state(DomId id, DomainState state, std::optional<ShutdownReason> reason) {
    auto it = domains_.find(id.value);
    // Domains pvd destroyed itself are erased before their Dying/Dead callbacks arrive.
    if (it == domains_.end()) return;
    Entry& e = it->second;
    switch (state) {
        case DomainState::Shutdown: {
            if (e.shutdown_handled) return;
            const ShutdownReason r = reason.value_or(ShutdownReason::Crash);
            apply_shutdown_action(e, r);
            return;
        }
        case DomainState::Dying:
        case DomainState::Dead: {
            // Not asked for by pvd: the hv core gave up on the domain.
            if (e.shutdown_handled) return;  // preserved; destroy() will clean up
            log_warn(label(id, e.name) + " died without a shutdown reason");
            ExitInfo info;
            info.destroyed = true;
            info.exit_code = kExitDestroyed;
            info.detail = "the domain died without shutting down";
            finish(id, info);
            return;
        }
        case DomainState::Created:
        case DomainState::Running:
        case DomainState::Paused:
            return;
    }
}

void DomainManager::apply_shutdown_action(Entry& e, ShutdownReason reason) {
    e.shutdown_handled = true;
    e.shutdown_reason = reason;
    const DomId id = e.id;
    ShutdownAction action = ShutdownAction::Destroy;
    switch (reason) {
        case ShutdownReason::Poweroff:
            action = e.config.on_poweroff;
            break;
        case ShutdownReason::Reboot:
            action = e.config.on_reboot;
            break;
        case ShutdownReason::Crash:
            action = e.config.on_crash;
            break;
        // xl stops monitoring a suspended domain and leaves it for save/migrate.
        case ShutdownReason::Suspend:
            action = ShutdownAction::Preserve;
            break;
        // on_watchdog and on_soft_reset are not supported keys: xl's default, destroy.
        case ShutdownReason::Watchdog:
        case ShutdownReason::SoftReset:
            action = ShutdownAction::Destroy;
            break;
    }
    log_info(label(id, e.name) + " " + describe_reason(reason) + "; action " + action_name(action));

    ExitInfo info;
    info.reason = reason;
    info.exit_code = exit_code_for(reason);
    info.detail = "the guest " + describe_reason(reason);

    switch (action) {
        case ShutdownAction::Destroy:
        case ShutdownAction::CoredumpDestroy:
            finish(id, info);
            return;
        case ShutdownAction::Preserve:
            notify_exited(e, info);
            return;
        case ShutdownAction::Restart:
        case ShutdownAction::CoredumpRestart:
        case ShutdownAction::RenameRestart: {
            const auto now = std::chrono::steady_clock::now();
            while (!e.restarts.empty() && now - e.restarts.front() > options_.restart_window)
                e.restarts.pop_front();
            if (static_cast<int>(e.restarts.size()) >= options_.max_restarts) {
                log_warn(label(id, e.name) + " restarted " + std::to_string(e.restarts.size()) +
                         " times within " + std::to_string(options_.restart_window.count()) +
                         " ms; destroying it instead");
                info.detail += "; restarting too often, destroyed";
                finish(id, info);
                return;
            }
            e.restarts.push_back(now);
            restart(id, reason, action == ShutdownAction::RenameRestart);
            return;
        }
    }
}

void DomainManager::restart(DomId old_id, ShutdownReason reason, bool rename) {
    Entry& old = domains_.at(old_id.value);
    const DomainConfig config = old.config;
    const DeviceConfig devices = old.devices;
    std::vector<Watch> watchers = std::move(old.watchers);
    old.watchers.clear();
    auto restarts = old.restarts;
    if (rename) {
        // The old domain stays, preserved under a new name; its log stays open as it was.
        std::string n = preserved_name(old.name);
        for (int i = 1; find_by_name(n); ++i)
            n = preserved_name(old.name) + "-" + std::to_string(i);
        log_info(label(old_id, old.name) + " preserved as " + n);
        old.name = n;
        old.config.name = n;
    } else {
        old.domain->destroy();
        domains_.erase(old_id.value);
    }
    auto fresh = build(config, devices, watchers, std::move(restarts));
    if (!fresh) {
        log_error("restart of " + config.name + " failed: " + fresh.error().message);
        ExitInfo info;
        info.reason = reason;
        info.exit_code = exit_code_for(reason);
        info.detail =
            "the guest " + describe_reason(reason) + "; restart failed: " + fresh.error().message;
        for (const auto& w : watchers)
            if (auto s = w.watcher.lock()) s->on_exited(old_id, info);
        if (domains_.empty() && on_empty_) on_empty_();
        return;
    }
    for (const auto& w : watchers)
        if (auto s = w.watcher.lock()) s->on_restarted(old_id, *fresh, reason, config.name);
}

// "exits io=6 wrmsr=1; hypercalls console_io=4 ...": what a finished domain cost, for the log.
std::string DomainManager::summarize(const CountersSnapshot& c) {
    std::string s = "exits";
    for (const auto& [name, n] : c.exits) s += " " + name + "=" + std::to_string(n);
    s += "; hypercalls";
    for (const auto& [name, n] : c.hypercalls) s += " " + name + "=" + std::to_string(n);
    return s + "; enosys=" + std::to_string(c.hypercall_enosys) +
           "; mmio_unclaimed=" + std::to_string(c.mmio_unclaimed);
}

void DomainManager::notify_exited(Entry& e, const ExitInfo& info) {
    const auto watchers = std::move(e.watchers);
    e.watchers.clear();
    for (const auto& w : watchers)
        if (auto s = w.watcher.lock()) s->on_exited(e.id, info);
}

void DomainManager::finish(DomId id, const ExitInfo& info) {
    auto it = domains_.find(id.value);
    if (it == domains_.end()) return;
    // Destroy first: by the time a watcher hears "exited", the guest is gone for good.
    it->second.domain->destroy();
    // Output the domain made up to its end (back-ends flush while it is destroyed) comes
    // before the exit.
    if (const std::string rest = backlog_.take(id); !rest.empty()) on_console(id, rest);
    log_info(label(id, it->second.name) + " counted " + summarize(it->second.domain->counters()));
    auto watchers = std::move(it->second.watchers);
    domains_.erase(it);
    for (const auto& w : watchers)
        if (auto s = w.watcher.lock()) s->on_exited(id, info);
    if (domains_.empty() && on_empty_) on_empty_();
}

}  // namespace pvhv::dom0
