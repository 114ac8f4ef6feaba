// One PV device's xenbus protocol on the toolstack side: directories, state machine, detach.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dom0-tools/xenstore/client.h"
#include "hv/error.h"
#include "pvdrivers/back/xenbus/backend_device.h"
#include "pvdrivers/back/xenbus/device_nodes.h"
#include "pvdrivers/back/xenbus/xenbus_state.h"

namespace pvhv::back {

// The guest's resources a back-end gets at connect() (FrontendConnection).
struct FrontendResources {
    std::shared_ptr<GrantTable> grants;
    Dom0EventChannels* channels = nullptr;  // outlives the device (pvd's dom0 channels)
};

struct XenbusOptions {
    // How long a detach waits for the front-end to close before it goes ahead anyway
    // (libxl's LIBXL_DESTROY_TIMEOUT).
    std::chrono::milliseconds close_timeout{10'000};
};

// How a detach ended: `forced` when the front-end did not close in time (or the domain was
// destroyed meanwhile) and the device was taken away from under it.
struct DetachOutcome {
    bool forced = false;
    std::string detail;
};
using DetachDone = std::function<void(Result<DetachOutcome>)>;

// What `pvctl block-list` / `network-list` show of a device.
struct XenbusStatus {
    XenbusState backend = XenbusStateUnknown;
    std::string frontend;   // the front-end's state node as last read ("4", "abc", "" if absent)
    bool connected = false;  // the back-end serves the front-end's rings
    bool detaching = false;
    std::string error;      // the last error written to the back-end directory
};

// The back-end half of one device, as Linux's xenbus_probe_backend and libxl do it with Xen:
//
//   add():  both directories (add_device_nodes), then the probe: backend_keys() and state
//           InitWait, then a watch on the front-end's `state`.
//   front-end Initialised or Connected, back-end InitWait: connect(); its keys; Connected.
//   front-end Closing: disconnect(); Closing.   Closed (or 0): disconnect(); Closed.
//   front-end Initialising after Closing/Closed (a reconnect, as after kexec) or while
//           Connected (a front-end that restarted without closing): disconnect(); InitWait.
//   a state that is not "0".."8", a missing front-end directory, connect() failing, or the
//           back-end's fail(): `error` written, disconnect(), Closing (Closed when the
//           front-end's directory is gone). The front-end recovers through Initialising.
//   detach(): online 0 and Closing; once the front-end is Closed (or after close_timeout, or
//           at once when the back-end was not Connected): disconnect(), directories removed.
//   destroy(): the domain is gone (vCPUs stopped): disconnect() and remove at once.
//
// Threading: everything runs on pvd's Asio loop (`io`, XenstoreService::io()): the calls
// below, the watch callbacks (the store's executor posts them there), the close timer, and
// the back-end's fail(), which may be called on any thread and is posted there. So no lock:
// the state below belongs to the loop thread. Completion callbacks (detach) are posted, never
// run inside the call, so a caller may destroy the device from them.
class XenbusDevice {
  public:
    static Result<std::unique_ptr<XenbusDevice>> add(boost::asio::io_context& io, xs::Xenstore& store,
                                                     DeviceNodes nodes,
                                                     std::unique_ptr<BackendDevice> backend,
                                                     FrontendResources resources,
                                                     XenbusOptions options = {});
    ~XenbusDevice();  // destroy()
    XenbusDevice(const XenbusDevice&) = delete;
    XenbusDevice& operator=(const XenbusDevice&) = delete;

    // The orderly removal (pvctl block-detach / network-detach). `done` is posted once the
    // device is gone. EBUSY while a detach is already under way.
    void detach(DetachDone done);
    // The domain is being destroyed: no handshake. Idempotent; a pending detach completes.
    void destroy();

    const DeviceNodes& nodes() const { return nodes_; }
    std::string frontend_path() const;
    std::string backend_path() const;
    XenbusStatus status() const;
    bool gone() const { return phase_ == Phase::Gone; }
    // The back-end's counters (BackendDevice::counters), for pvctl top.
    std::vector<std::pair<std::string, uint64_t>> counters() const { return backend_->counters(); }

  private:
    enum class Phase { Live, Detaching, Gone };

    XenbusDevice(boost::asio::io_context& io, xs::Xenstore& store, DeviceNodes nodes,
                 std::unique_ptr<BackendDevice> backend, FrontendResources resources,
                 XenbusOptions options);
    Result<void> probe();
    void frontend_changed();
    void on_frontend_state(XenbusState fs);
    void connect();
    void disconnect();
    void backend_failed(uint64_t epoch, const std::string& reason);
    // `error` written, disconnected, the back-end state set.
    void fault(const std::string& reason, XenbusState next);
    void set_state(XenbusState s);
    void write_error(const std::string& reason);
    void finish_detach(bool forced, std::string detail);
    void remove();
    std::string label() const;

    boost::asio::io_context& io_;
    const DeviceNodes nodes_;
    const std::string fe_;  // front-end directory
    const std::string be_;  // back-end directory
    const std::string token_;
    std::shared_ptr<xs::XsClient> xs_;  // dom0's connection for this device; shared with read_frontend
    std::unique_ptr<BackendDevice> backend_;
    FrontendResources resources_;
    XenbusOptions options_;

    Phase phase_ = Phase::Live;
    XenbusState state_ = XenbusStateInitialising;  // ours, as last written
    std::string frontend_raw_;                     // the front-end's state node, as last read
    bool connected_ = false;    // connect() succeeded and disconnect() has not run since
    uint64_t epoch_ = 0;        // bumped on every connect: a late fail() of an old one is ignored
    bool watching_ = false;
    std::string error_;
    DetachDone detach_done_;
    boost::asio::steady_timer close_timer_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted work checks it
};

}  // namespace pvhv::back
