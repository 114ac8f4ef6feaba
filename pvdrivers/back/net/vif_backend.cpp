// The vif back-end: xenbus keys, connecting to a front-end, and the per-vif service thread.
#include "pvdrivers/back/net/vif_backend.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "hv/format.h"
#include "pvdrivers/back/net/tap_device.h"

namespace pvhv::net {

namespace {

// How often a frame waiting for RX buffers is retried without a kick: front-ends without
// feature-rx-notify never kick for buffers. Those with it are only woken by their kick or the
// drain deadline. And how long a frame waits before it is dropped.
constexpr int kHeldRetryMs = 10;
constexpr auto kRxDrainTime = std::chrono::seconds(1);
// Frames moved from the port to the RX ring per pass before TX gets its turn again.
constexpr uint32_t kRxBudget = 64;

std::optional<uint32_t> parse_u32(std::string_view s) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

}  // namespace

std::string VifOptions::interface_name() const {
    if (!vif_name.empty()) return vif_name;
    return "vif" + std::to_string(domid.value) + "." + std::to_string(devid);
}

Result<std::unique_ptr<VifBackend>> VifBackend::create(const VifOptions& options) {
    TapOptions tap;
    tap.name = options.interface_name();
    tap.mac = kHostSideMac;
    tap.mtu = options.mtu;
    tap.bridge = options.bridge;
    auto dev = TapDevice::create(tap);
    if (!dev) return std::unexpected(dev.error());
    return create_with_port(options, std::move(*dev));
}

Result<std::unique_ptr<VifBackend>> VifBackend::create_with_port(const VifOptions& options,
                                                                 std::unique_ptr<PacketPort> port) {
    if (!port) return fail(XEN_EINVAL, "vif without a packet port");
    if (options.mac.is_zero() || options.mac.is_multicast())
        return fail(XEN_EINVAL, "vif " + options.interface_name() + ": " +
                                    options.mac.to_string() + " is not a station MAC address");
    if (options.mtu < 68 || options.mtu > kMaxPacketLen - kEthHeaderLen)
        return fail(XEN_EINVAL, "vif " + options.interface_name() + ": MTU " +
                                    fmt::dec(options.mtu) + " out of range");
    UniqueFd stop(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!stop.valid()) return fail_errno("eventfd for vif " + options.interface_name());
    return std::unique_ptr<VifBackend>(new VifBackend(options, std::move(port), std::move(stop)));
}

VifBackend::VifBackend(const VifOptions& options, std::unique_ptr<PacketPort> port, UniqueFd stop)
    : options_(options),
      label_("dom" + std::to_string(options.domid.value) + " " + options.interface_name()),
      port_(std::move(port)),
      stop_(std::move(stop)),
      rx_frame_(kMaxPacketLen + 1) {}

VifBackend::~VifBackend() { disconnect(); }

back::XenbusKeys VifBackend::backend_keys() const {
    back::XenbusKeys keys{
        {"feature-sg", "1"},
        {"feature-rx-copy", "1"},
        {"feature-rx-flip", "0"},
        {"feature-split-event-channels", "1"},
        {"feature-ipv6-csum-offload", "1"},
        {"mac", options_.mac.to_string()},
        {"handle", std::to_string(options_.devid)},
    };
    if (!options_.bridge.empty()) keys.emplace_back("bridge", options_.bridge);
    return keys;
}

Result<back::XenbusKeys> VifBackend::attach(const back::FrontendConnection& fe) {
    if (queue_) return fail(XEN_EBUSY, label_ + ": already connected");
    if (fe.frontend != options_.domid)
        return fail(XEN_EINVAL, label_ + ": front-end is dom" + fmt::dec(fe.frontend.value));
    if (!fe.grants || !fe.channels || !fe.read_frontend)
        return fail(XEN_EINVAL, label_ + ": incomplete front-end connection");

    // Keys: a missing one is absent (nullopt), a malformed one an error.
    std::string bad;
    auto number = [&](std::string_view key) -> std::optional<uint32_t> {
        auto text = fe.read_frontend(key);
        if (!text) return std::nullopt;
        auto v = parse_u32(*text);
        if (!v && bad.empty()) bad = std::string(key) + " = \"" + *text + "\" is not a number";
        return v;
    };
    auto flag = [&](std::string_view key) { return number(key).value_or(0) != 0; };

    const auto queues = number("multi-queue-num-queues");
    const auto tx_ref = number("tx-ring-ref");
    const auto rx_ref = number("rx-ring-ref");
    const auto ev_tx = number("event-channel-tx");
    const auto ev_rx = number("event-channel-rx");
    const auto ev = number("event-channel");
    const bool rx_copy = flag("request-rx-copy");
    const bool rx_notify = flag("feature-rx-notify");
    RxFeatures rx;
    rx.sg = flag("feature-sg");
    rx.csum_offload = !flag("feature-no-csum-offload");
    rx.ipv6_csum_offload = flag("feature-ipv6-csum-offload");
    if (!bad.empty()) return fail(XEN_EINVAL, label_ + ": front-end key " + bad);
    if (queues && *queues != 1)
        return fail(XEN_EINVAL, label_ + ": front-end asked for " + fmt::dec(*queues) +
                                    " queues; this back-end offers one (no multi-queue-max-queues)");
    if (!tx_ref || !rx_ref)
        return fail(XEN_EINVAL, label_ + ": front-end has no tx-ring-ref/rx-ring-ref");
    // As Linux's netback: receive by copy only; flipping pages is long gone.
    if (!rx_copy)
        return fail(XEN_EOPNOTSUPP, label_ + ": front-end does not request rx-copy "
                                             "(request-rx-copy=1); page flipping is not supported");
    const bool split = ev_tx && ev_rx;
    if (!split && !ev)
        return fail(XEN_EINVAL, label_ + ": front-end has no event-channel(-tx/-rx)");

    Ports ports;
    auto tx_port = fe.channels->bind_interdomain(fe.frontend, EvtchnPort{split ? *ev_tx : *ev});
    if (!tx_port)
        return fail(tx_port.error().xen_errno,
                    label_ + ": binding event channel: " + tx_port.error().message);
    ports.tx.emplace(std::move(*tx_port));
    if (split) {
        auto rx_port = fe.channels->bind_interdomain(fe.frontend, EvtchnPort{*ev_rx});
        if (!rx_port)
            return fail(rx_port.error().xen_errno,
                        label_ + ": binding event-channel-rx: " + rx_port.error().message);
        ports.rx.emplace(std::move(*rx_port));
    }
    auto queue = NetifQueue::attach(
        NetifQueue::Params{fe.grants, GrantRef{*tx_ref}, GrantRef{*rx_ref}, rx, label_}, stats_,
        log_limit_);
    if (!queue) return fail(queue.error().xen_errno, label_ + ": " + queue.error().message);

    queue_ = std::move(*queue);
    ports_ = std::move(ports);
    fail_ = fe.fail;
    rx_notify_ = rx_notify;
    held_len_ = 0;
    rx_stalled_ = false;
    failed_.store(false, std::memory_order_release);
    return back::XenbusKeys{};
}

Result<back::XenbusKeys> VifBackend::connect(const back::FrontendConnection& fe) {
    auto keys = attach(fe);
    if (!keys) return keys;
    uint64_t drained = 0;
    (void)!::read(stop_.get(), &drained, sizeof drained);  // a stale stop from last time
    thread_ = std::thread([this] { run(); });
    return keys;
}

void VifBackend::disconnect() {
    if (thread_.joinable()) {
        const uint64_t one = 1;
        (void)!::write(stop_.get(), &one, sizeof one);
        thread_.join();
    }
    release();
}

void VifBackend::release() {
    queue_.reset();  // unmaps the ring pages
    ports_ = Ports{};  // closes dom0's ports: the guest's ends go back to unbound
    fail_ = nullptr;
    held_len_ = 0;
    rx_stalled_ = false;
}

void VifBackend::fail_frontend(const std::string& reason) {
    if (failed_.exchange(true, std::memory_order_acq_rel)) return;
    stats_.fatal.fetch_add(1, std::memory_order_relaxed);
    log_guest(log_limit_, LogLevel::Warn,
              label_ + ": front-end failed, rings no longer served: " + reason);
    if (fail_) fail_(reason);
}

void VifBackend::notify(bool tx, bool rx) {
    auto kick = [this](const Dom0Port& p) {
        stats_.kicks_out.fetch_add(1, std::memory_order_relaxed);
        (void)p.notify();  // a dead guest port is not an error of ours
    };
    if (!ports_.rx) {
        if (tx || rx) kick(*ports_.tx);
        return;
    }
    if (tx) kick(*ports_.tx);
    if (rx) kick(*ports_.rx);
}

bool VifBackend::service_rx(bool& notify_rx) {
    bool wrote = false;
    bool more = false;
    auto deliver = [&](size_t len, const PacketMeta& meta) -> std::optional<NetifQueue::RxOutcome> {
        auto r = queue_->deliver_rx(std::span<uint8_t>(rx_frame_.data(), len), meta);
        if (!r) {
            if (wrote) (void)queue_->push_rx();  // what was delivered before, as on TX
            fail_frontend(r.error().message);
            return std::nullopt;
        }
        if (*r == NetifQueue::RxOutcome::Delivered) {
            wrote = true;
            rx_stalled_ = false;
        }
        return *r;
    };

    if (held_len_ > 0) {
        auto r = deliver(held_len_, held_meta_);
        if (!r) return false;
        if (*r != NetifQueue::RxOutcome::NoBuffers) {
            held_len_ = 0;
        } else if (std::chrono::steady_clock::now() - held_since_ >= kRxDrainTime) {
            stats_.rx_no_buffers.fetch_add(1, std::memory_order_relaxed);
            log_guest(log_limit_, LogLevel::Warn,
                      label_ + ": guest posts no rx buffers; dropping its traffic until it does");
            held_len_ = 0;
            rx_stalled_ = true;
        }
    }
    for (uint32_t budget = kRxBudget; held_len_ == 0; --budget) {
        if (budget == 0) {
            more = true;
            break;
        }
        PacketMeta meta;
        auto n = port_->receive(rx_frame_, meta);
        if (!n) {
            stats_.rx_port_errors.fetch_add(1, std::memory_order_relaxed);
            log_guest(log_limit_, LogLevel::Warn, label_ + ": " + n.error().message);
            break;
        }
        if (*n == 0) break;
        const size_t len = std::min(*n, rx_frame_.size());  // a longer one is dropped as such
        auto r = deliver(len, meta);
        if (!r) return false;
        if (*r != NetifQueue::RxOutcome::NoBuffers) continue;
        if (rx_stalled_) {
            stats_.rx_no_buffers.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        held_len_ = len;  // wait for buffers, with the port unpolled meanwhile
        held_meta_ = meta;
        held_since_ = std::chrono::steady_clock::now();
    }
    if (wrote) notify_rx = queue_->push_rx();
    return more;
}

bool VifBackend::service(bool& notify_tx, bool& notify_rx) {
    uint64_t kicks = ports_.tx->consume();
    if (ports_.rx) kicks += ports_.rx->consume();
    stats_.kicks_in.fetch_add(kicks, std::memory_order_relaxed);

    auto tx = queue_->service_tx(*port_);
    if (!tx) {
        fail_frontend(tx.error().message);
        return false;
    }
    notify_tx = tx->notify;
    const bool more_rx = service_rx(notify_rx);
    return !failed() && (tx->more || more_rx);
}

bool VifBackend::process_once() {
    if (!queue_ || failed()) return false;
    bool ntx = false, nrx = false;
    (void)service(ntx, nrx);
    if (!failed()) notify(ntx, nrx);
    return !failed();
}

int VifBackend::held_timeout_ms() const {
    if (!rx_notify_) return kHeldRetryMs;
    const auto left = held_since_ + kRxDrainTime - std::chrono::steady_clock::now();
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 1000 * kRxDrainTime.count()));
}

void VifBackend::run() {
    bool more = true;  // one pass first: the front-end may have produced before we bound
    for (;;) {
        pollfd fds[4];
        nfds_t n = 0;
        fds[n++] = pollfd{stop_.get(), POLLIN, 0};
        fds[n++] = pollfd{ports_.tx->fd(), POLLIN, 0};
        if (ports_.rx) fds[n++] = pollfd{ports_.rx->fd(), POLLIN, 0};
        // A frame waiting for buffers leaves the port alone: the TAP's own queue is the buffer.
        if (held_len_ == 0 && port_->fd() >= 0) fds[n++] = pollfd{port_->fd(), POLLIN, 0};
        const int timeout = more ? 0 : held_len_ > 0 ? held_timeout_ms() : -1;
        if (::poll(fds, n, timeout) < 0 && errno != EINTR) {
            log_line(LogLevel::Error, label_ + ": poll failed: " + std::string(std::strerror(errno)));
            return;
        }
        if (fds[0].revents) return;
        bool ntx = false, nrx = false;
        more = service(ntx, nrx);
        if (failed()) return;  // no more ring access; disconnect() joins us
        notify(ntx, nrx);
    }
}

}  // namespace pvhv::net
