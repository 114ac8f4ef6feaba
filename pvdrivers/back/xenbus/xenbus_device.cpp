// The xenbus state machine of one device on pvd's loop: probe, connect, close, detach, destroy.
#include "pvdrivers/back/xenbus/xenbus_device.h"

#include <boost/asio/post.hpp>

#include "hv/log.h"

namespace pvhv::back {
namespace {

// Guests drive this state machine: what they make us log goes through one limiter.
RateLimit g_guest_log(5, std::chrono::seconds(10));

// A front-end's `state` node is guest data: what is stored for display is bounded.
std::string printable(std::string_view raw) {
    std::string s;
    for (char c : raw.substr(0, 32)) s += (c >= 0x20 && c < 0x7f) ? c : '?';
    return raw.size() > 32 ? s + "..." : s;
}

}  // namespace

XenbusDevice::XenbusDevice(boost::asio::io_context& io, xs::Xenstore& store, DeviceNodes nodes,
                           std::unique_ptr<BackendDevice> backend, FrontendResources resources,
                           XenbusOptions options)
    : io_(io),
      nodes_(std::move(nodes)),
      fe_(back::frontend_path(nodes_.frontend, nodes_.type, nodes_.devid)),
      be_(back::backend_path(nodes_.frontend, nodes_.type, nodes_.devid)),
      token_("pvd-xenbus-" + nodes_.type + "-" + std::to_string(nodes_.frontend.value) + "-" +
             std::to_string(nodes_.devid)),
      xs_(std::make_shared<xs::XsClient>(store, kDom0)),
      backend_(std::move(backend)),
      resources_(std::move(resources)),
      options_(options),
      close_timer_(io) {}

Result<std::unique_ptr<XenbusDevice>> XenbusDevice::add(boost::asio::io_context& io,
                                                        xs::Xenstore& store, DeviceNodes nodes,
                                                        std::unique_ptr<BackendDevice> backend,
                                                        FrontendResources resources,
                                                        XenbusOptions options) {
    if (!backend) return fail(XEN_EINVAL, "no back-end for " + nodes.type + " " + std::to_string(nodes.devid));
    if (backend->type() != nodes.type)
        return fail(XEN_EINVAL, "a " + std::string(backend->type()) + " back-end cannot serve a " +
                                    nodes.type + " device");
    std::unique_ptr<XenbusDevice> d(new XenbusDevice(io, store, std::move(nodes), std::move(backend),
                                                     std::move(resources), options));
    if (auto r = add_device_nodes(*d->xs_, d->nodes_); !r) {
        d->phase_ = Phase::Gone;  // nothing of ours to remove: the directories were someone else's
        return std::unexpected(r.error());
    }
    if (auto r = d->probe(); !r) return std::unexpected(r.error());  // the destructor removes
    return d;
}

XenbusDevice::~XenbusDevice() {
    destroy();
    alive_.reset();
}

Result<void> XenbusDevice::probe() {
    // What a Linux back-end's probe does: its feature keys, then InitWait, in one go so the
    // front-end never sees InitWait without them.
    const XenbusKeys keys = backend_->backend_keys();
    auto r = xs_->transact([&](xs::TxId t) -> Result<void> {
        for (const auto& [k, v] : keys)
            if (auto w = xs_->write(be_ + "/" + k, v, t); !w) return w;
        return xs_->write(be_ + "/state", xenbus_state_value(XenbusStateInitWait), t);
    });
    if (!r) return r;
    state_ = XenbusStateInitWait;
    // The watch fires once at once (xenstored's initial event) and then on every change of
    // the node, including its removal. It runs on the loop; unwatch() ends it for good.
    auto w = xs_->watch(fe_ + "/state", token_, [this](std::string_view, std::string_view) {
        frontend_changed();
    });
    if (!w) return w;
    watching_ = true;
    return {};
}

std::string XenbusDevice::frontend_path() const { return fe_; }
std::string XenbusDevice::backend_path() const { return be_; }

std::string XenbusDevice::label() const {
    return nodes_.type + " " + std::to_string(nodes_.devid) + " of domain " +
           std::to_string(nodes_.frontend.value);
}

XenbusStatus XenbusDevice::status() const {
    XenbusStatus s;
    s.backend = state_;
    s.frontend = frontend_raw_;
    s.connected = connected_;
    s.detaching = phase_ == Phase::Detaching;
    s.error = error_;
    return s;
}

void XenbusDevice::frontend_changed() {
    if (phase_ == Phase::Gone) return;
    auto v = xs_->read(fe_ + "/state");
    if (!v) {
        frontend_raw_.clear();
        if (phase_ == Phase::Detaching) return finish_detach(false, "front-end directory removed");
        if (state_ == XenbusStateClosed && !connected_) return;  // already told
        log_guest(g_guest_log, LogLevel::Warn, label() + ": the front-end's state node is gone (" +
                                                   v.error().message + "); device closed");
        return fault("front-end directory removed", XenbusStateClosed);
    }
    frontend_raw_ = printable(*v);
    const auto fs = parse_xenbus_state(*v);
    if (!fs) {
        if (phase_ == Phase::Detaching) return;  // the close timer settles it
        if (!connected_ && state_ == XenbusStateClosing) return;  // already faulted
        log_guest(g_guest_log, LogLevel::Warn,
                  label() + ": front-end state '" + frontend_raw_ + "' is not a xenbus state; closing");
        return fault("front-end state '" + frontend_raw_ + "' is not a xenbus state", XenbusStateClosing);
    }
    on_frontend_state(*fs);
}

void XenbusDevice::on_frontend_state(XenbusState fs) {
    if (phase_ == Phase::Detaching) {
        if (fs == XenbusStateClosed || fs == XenbusStateUnknown)
            finish_detach(false, "front-end closed");
        return;
    }
    switch (fs) {
        case XenbusStateInitialising:
            // A front-end starting over: after a close (Linux's "prepare for reconnect"), or
            // while we still serve its old rings (it rebooted or kexec'd without closing):
            // those rings are gone, so are our mappings of them.
            if (state_ == XenbusStateClosed || state_ == XenbusStateClosing ||
                state_ == XenbusStateConnected) {
                disconnect();
                if (!error_.empty()) {
                    (void)xs_->rm(be_ + "/error");
                    error_.clear();
                }
                set_state(XenbusStateInitWait);
            }
            return;
        case XenbusStateInitialised:
        case XenbusStateConnected:
            // Connected without Initialised is netfront's way; two quick writes may also fold
            // into one event. Only from InitWait: a closed device reconnects via Initialising.
            if (state_ == XenbusStateInitWait) connect();
            return;
        case XenbusStateClosing:
            if (state_ == XenbusStateClosing || state_ == XenbusStateClosed) return;
            disconnect();
            set_state(XenbusStateClosing);
            return;
        case XenbusStateClosed:
        case XenbusStateUnknown:
            disconnect();
            // online stays 1: the device waits for the front-end to come back (Initialising).
            if (state_ != XenbusStateClosed) set_state(XenbusStateClosed);
            return;
        case XenbusStateInitWait:
        case XenbusStateReconfiguring:
        case XenbusStateReconfigured:
            return;  // not front-end states of vbd/vif: nothing to do
    }
}

void XenbusDevice::connect() {
    FrontendConnection fc;
    fc.frontend = nodes_.frontend;
    fc.grants = resources_.grants;
    fc.channels = resources_.channels;
    fc.read_frontend = [weak = std::weak_ptr<xs::XsClient>(xs_),
                        dir = fe_](std::string_view key) -> std::optional<std::string> {
        auto client = weak.lock();
        if (!client || key.empty() || key.front() == '/') return std::nullopt;
        auto v = client->read(dir + "/" + std::string(key));
        if (!v) return std::nullopt;
        return std::move(*v);
    };
    const uint64_t epoch = ++epoch_;
    fc.fail = [&io = io_, alive = std::weak_ptr<int>(alive_), this, epoch](std::string reason) {
        // Any thread: the state machine is the loop's.
        boost::asio::post(io, [alive, this, epoch, reason = std::move(reason)] {
            if (!alive.expired()) backend_failed(epoch, reason);
        });
    };
    auto keys = backend_->connect(fc);
    if (!keys) {
        log_guest(g_guest_log, LogLevel::Warn, label() + ": connect failed: " + keys.error().message);
        return fault(keys.error().message, XenbusStateClosing);
    }
    connected_ = true;
    auto r = xs_->transact([&](xs::TxId t) -> Result<void> {
        for (const auto& [k, v] : *keys)
            if (auto w = xs_->write(be_ + "/" + k, v, t); !w) return w;
        return xs_->write(be_ + "/state", xenbus_state_value(XenbusStateConnected), t);
    });
    if (!r) return fault("cannot publish the back-end's keys: " + r.error().message, XenbusStateClosing);
    state_ = XenbusStateConnected;
    log_line(LogLevel::Info, label() + ": connected");
}

void XenbusDevice::disconnect() {
    if (!connected_) return;
    connected_ = false;
    backend_->disconnect();
}

void XenbusDevice::backend_failed(uint64_t epoch, const std::string& reason) {
    // From an earlier connection, or after the device left Connected: nothing to stop.
    if (epoch != epoch_ || !connected_ || phase_ == Phase::Gone) return;
    log_guest(g_guest_log, LogLevel::Warn, label() + ": back-end gave up: " + reason);
    if (phase_ == Phase::Detaching) {
        // Already Closing; the detach completes when the front-end closes or time runs out.
        write_error(reason);
        disconnect();
        return;
    }
    fault(reason, XenbusStateClosing);
}

void XenbusDevice::fault(const std::string& reason, XenbusState next) {
    write_error(reason);
    disconnect();
    set_state(next);
}

void XenbusDevice::write_error(const std::string& reason) {
    error_ = reason.substr(0, 1024);
    if (auto w = xs_->write(be_ + "/error", error_); !w)
        log_line(LogLevel::Warn, label() + ": cannot write error: " + w.error().message);
}

void XenbusDevice::set_state(XenbusState s) {
    state_ = s;
    if (auto w = xs_->write(be_ + "/state", xenbus_state_value(s)); !w)
        log_line(LogLevel::Warn, label() + ": cannot write state: " + w.error().message);
}

void XenbusDevice::detach(DetachDone done) {
    if (phase_ != Phase::Live) {
        const bool gone = phase_ == Phase::Gone;
        boost::asio::post(io_, [done = std::move(done), gone, l = label()] {
            done(fail(gone ? XEN_ENODEV : XEN_EBUSY,
                      l + (gone ? " is gone" : ": a detach is already under way")));
        });
        return;
    }
    phase_ = Phase::Detaching;
    detach_done_ = std::move(done);
    const bool was_connected = state_ == XenbusStateConnected;
    // libxl__initiate_device_generic_remove: offline, and Closing for a front-end to see.
    auto r = xs_->transact([&](xs::TxId t) -> Result<void> {
        if (auto w = xs_->write(be_ + "/online", "0", t); !w) return w;
        return xs_->write(be_ + "/state", xenbus_state_value(XenbusStateClosing), t);
    });
    if (!r) log_line(LogLevel::Warn, label() + ": cannot start the close handshake: " + r.error().message);
    state_ = XenbusStateClosing;
    // A front-end that never connected holds nothing of ours: no reason to wait for it.
    if (!was_connected || !r) return finish_detach(false, "front-end was not connected");
    close_timer_.expires_after(options_.close_timeout);
    close_timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired() || phase_ != Phase::Detaching) return;
        log_line(LogLevel::Warn, label() + ": the front-end did not close within " +
                                     std::to_string(options_.close_timeout.count()) +
                                     " ms; removing the device anyway");
        finish_detach(true, "the front-end did not close in time; removed anyway");
    });
    // It may have closed already (the watch fires on changes only).
    frontend_changed();
}

void XenbusDevice::finish_detach(bool forced, std::string detail) {
    remove();
    log_line(LogLevel::Info, label() + ": removed (" + detail + ")");
    if (auto done = std::exchange(detach_done_, nullptr))
        boost::asio::post(io_, [done = std::move(done), forced, detail = std::move(detail)] {
            done(DetachOutcome{forced, detail});
        });
}

void XenbusDevice::destroy() {
    if (phase_ == Phase::Gone) return;
    remove();
    if (auto done = std::exchange(detach_done_, nullptr))
        boost::asio::post(io_, [done = std::move(done)] {
            done(DetachOutcome{true, "the domain was destroyed"});
        });
}

void XenbusDevice::remove() {
    phase_ = Phase::Gone;
    boost::system::error_code ec;
    close_timer_.cancel(ec);
    if (std::exchange(watching_, false)) (void)xs_->unwatch(fe_ + "/state", token_);
    disconnect();
    state_ = XenbusStateClosed;
    if (auto r = remove_device_nodes(*xs_, nodes_.frontend, nodes_.type, nodes_.devid); !r)
        log_line(LogLevel::Warn, label() + ": removing its xenstore directories: " + r.error().message);
}

}  // namespace pvhv::back
