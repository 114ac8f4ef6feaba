// The contract between the xenbus device layer (toolstack side, in pvd) and one device back-end.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hv/error.h"
#include "hv/types.h"

namespace pvhv {
class GrantTable;
class Dom0EventChannels;
}  // namespace pvhv

namespace pvhv::back {

// xenstore keys a back-end publishes in its own backend directory
// (/local/domain/0/backend/<type>/<domid>/<devid>/<key>).
using XenbusKeys = std::vector<std::pair<std::string, std::string>>;

// What a back-end gets when its front-end has published its rings (state Initialised, or
// Connected for front-ends that skip Initialised). Everything the back-end touches of the guest
// goes through `grants` (DESIGN §3): never a raw guest address.
struct FrontendConnection {
    DomId frontend{};                     // the guest
    std::shared_ptr<GrantTable> grants;   // the guest's grant table (Domain::grant_table())
    Dom0EventChannels* channels = nullptr;  // to bind the front-end's event channel(s)
    // Reads `key` in the front-end's directory (/local/domain/<id>/device/<type>/<devid>),
    // e.g. "ring-ref", "ring-ref1", "event-channel", "protocol". nullopt when absent. Called
    // during connect() only (on the caller's thread).
    std::function<std::optional<std::string>(std::string_view key)> read_frontend;
    // The back-end found the front-end broken (a hostile ring, a bad grant for the ring): the
    // xenbus layer writes `error` and moves the device to Closing/Closed. Callable from any
    // thread, any number of times; the device stays connected until disconnect().
    std::function<void(std::string reason)> fail;
};

// One device back-end (blkback's vbd, netback's vif). Created by the toolstack for one
// front-end; driven by the xenbus layer through the state machine:
//   probe:         backend_keys() written, backend state -> InitWait
//   front-end Initialised/Connected: connect(); its keys written; backend state -> Connected
//   front-end Closing/Closed, detach, destroy: disconnect(); backend state -> Closed
// connect()/disconnect() are called on pvd's loop thread, never concurrently.
class BackendDevice {
  public:
    virtual ~BackendDevice() = default;

    // "vbd" or "vif": the xenstore device type.
    virtual std::string_view type() const = 0;
    // Feature and device keys written before InitWait (netback's feature-*, blkback's
    // feature-max-indirect-segments, max-ring-page-order, ...).
    virtual XenbusKeys backend_keys() const = 0;
    // Maps the ring(s), binds the event channel(s) and starts serving. Returns the keys to
    // write before the back-end state becomes Connected (blkback: sectors, info, sector-size,
    // feature-flush-cache, ...). On failure nothing stays mapped or bound; the error message
    // goes to the backend's `error` key.
    virtual Result<XenbusKeys> connect(const FrontendConnection& fe) = 0;
    // Stops serving: when it returns no thread of this back-end touches guest memory, its
    // mappings are gone and its ports closed. Idempotent; also called before destruction.
    virtual void disconnect() = 0;
    // Counters for `pvctl top` and benchmarks: requests, kicks in/out, errors, bytes...
    virtual std::vector<std::pair<std::string, uint64_t>> counters() const = 0;
};

}  // namespace pvhv::back
