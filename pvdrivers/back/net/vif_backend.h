// netback's device: one vif (TAP + netif rings + service thread) behind the xenbus BackendDevice.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hv/evtchn/dom0_event_channels.h"
#include "hv/unique_fd.h"
#include "pvdrivers/back/net/mac.h"
#include "pvdrivers/back/net/netif_queue.h"
#include "pvdrivers/back/net/packet_port.h"
#include "pvdrivers/back/xenbus/backend_device.h"

namespace pvhv::net {

// Everything the toolstack decides about one vif (xl.cfg's `vif = ['mac=..., bridge=...']`).
// The xenbus layer fills it from the domain's config and passes it to VifBackend::create.
struct VifOptions {
    DomId domid{};      // the guest, whose front-end this vif serves
    uint32_t devid = 0; // the device id: .../device/vif/<devid>, also the `handle` key
    // The guest's MAC (the front-end's `mac` key, what the guest's eth0 uses). A config without
    // `mac=` gets random_xen_mac() from the xenbus layer, once, so it stays the same across
    // front-end reconnects. The TAP side always gets kHostSideMac (fe:ff:ff:ff:ff:ff).
    MacAddress mac{};
    std::string bridge;    // Linux bridge to join ("xenbr0"); empty: the TAP joins no bridge
    std::string vif_name;  // interface name; empty: "vif<domid>.<devid>" (Xen's vifname=)
    uint32_t mtu = 1500;   // of the TAP (the guest picks its own; `mtu` key is the xenbus layer's)

    // "vif<domid>.<devid>" unless vif_name overrides it.
    std::string interface_name() const;
};

// One vif back-end: created with its TAP (on the bridge) when the device is created, serving
// the front-end's rings from connect() to disconnect() on a thread of its own.
//
// Threads and lifetimes: create/connect/disconnect/destructor on pvd's loop thread (the
// xenbus layer), never concurrently. connect() starts the service thread, which alone touches
// the rings, grants, ports and the PacketPort until disconnect() stops and joins it; counters()
// reads atomics from any thread. A hostile or broken front-end (a ring that cannot be parsed,
// indexes past the ring) makes the thread call FrontendConnection::fail once and stop serving;
// the device stays connected, without a thread, until disconnect(). The TAP lives as long as
// this object: the interface stays on its bridge across front-end reconnects.
class VifBackend final : public back::BackendDevice {
  public:
    // Creates the TAP device (`interface_name()`, kHostSideMac, `mtu`), puts it on `bridge` and
    // brings it up, in the calling thread's network namespace. Needs CAP_NET_ADMIN.
    static Result<std::unique_ptr<VifBackend>> create(const VifOptions& options);
    // The same with a given port instead of a TAP: tests, the fuzzer, benchmarks.
    static Result<std::unique_ptr<VifBackend>> create_with_port(const VifOptions& options,
                                                                std::unique_ptr<PacketPort> port);
    ~VifBackend() override;
    VifBackend(const VifBackend&) = delete;
    VifBackend& operator=(const VifBackend&) = delete;

    std::string_view type() const override { return "vif"; }
    // feature-sg, feature-rx-copy, feature-rx-flip=0, feature-split-event-channels,
    // feature-ipv6-csum-offload, mac, handle, bridge: Linux's netback_probe keys (no GSO, no
    // multi-queue, no multicast control, no control ring) plus libxl's device keys.
    back::XenbusKeys backend_keys() const override;
    // attach(), then the service thread.
    Result<back::XenbusKeys> connect(const back::FrontendConnection& fe) override;
    void disconnect() override;
    std::vector<std::pair<std::string, uint64_t>> counters() const override {
        return stats_.snapshot();
    }

    // connect() without the thread: reads the front-end's keys (tx-ring-ref, rx-ring-ref,
    // event-channel or event-channel-tx/-rx, request-rx-copy, feature-rx-notify, feature-sg,
    // feature-no-csum-offload, feature-ipv6-csum-offload, multi-queue-num-queues), maps the
    // rings and binds the port(s). Nothing stays mapped or bound on failure.
    Result<back::XenbusKeys> attach(const back::FrontendConnection& fe);
    // One pass of what the service thread does when everything is ready: consume kicks, serve
    // TX, move frames from the port into RX buffers, notify. For tests, the fuzzer and
    // benchmarks, after attach() and never while the thread runs. False once failed.
    bool process_once();

    const VifOptions& options() const { return options_; }
    PacketPort& port() { return *port_; }
    bool failed() const { return failed_.load(std::memory_order_acquire); }
    const NetStats& stats() const { return stats_; }

  private:
    VifBackend(const VifOptions& options, std::unique_ptr<PacketPort> port, UniqueFd stop);

    struct Ports {
        std::optional<Dom0Port> tx;  // event-channel-tx, or the only one
        std::optional<Dom0Port> rx;  // event-channel-rx with split channels; else empty
    };
    // Work in one pass; true when it stopped at a budget with work left.
    bool service(bool& notify_tx, bool& notify_rx);
    bool service_rx(bool& notify_rx);
    void notify(bool tx, bool rx);
    void fail_frontend(const std::string& reason);
    int held_timeout_ms() const;  // poll timeout while a frame waits for RX buffers
    void run();
    void release();  // after the thread is gone: rings, ports, held frame

    const VifOptions options_;
    const std::string label_;  // "dom3 vif3.0"
    std::unique_ptr<PacketPort> port_;
    UniqueFd stop_;  // eventfd: disconnect() wakes the service thread
    NetStats stats_;
    RateLimit log_limit_{3, std::chrono::seconds(10)};

    // Set by attach(), released by disconnect(); the service thread's own while it runs.
    std::unique_ptr<NetifQueue> queue_;
    Ports ports_;
    std::function<void(std::string)> fail_;
    bool rx_notify_ = false;         // the front-end kicks when it posts RX buffers
    std::vector<uint8_t> rx_frame_;  // a frame read from the port (kMaxPacketLen + 1)
    size_t held_len_ = 0;            // > 0: rx_frame_ waits for RX buffers
    PacketMeta held_meta_{};
    std::chrono::steady_clock::time_point held_since_{};
    bool rx_stalled_ = false;  // a held frame timed out: drop at once until buffers come back

    std::atomic<bool> failed_{false};
    std::thread thread_;
};

}  // namespace pvhv::net
