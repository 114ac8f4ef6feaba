// A domain's PV console as pvd runs it: the event channel to the guest, kicks awaited on Asio.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hv/error.h"
#include "hv/evtchn/dom0_event_channels.h"
#include "hv/types.h"
#include "pvdrivers/back/console/console_backend.h"

namespace pvhv::console {

// Owns the dom0 end of a guest's console event channel and waits for the guest's kicks on
// pvd's io_context (the Dom0Port's eventfd through a posix::stream_descriptor), running the
// ConsoleBackend for each. Created before the domain starts; stop()ped after its vCPUs are
// gone and before its memory is.
//
// Threads: create(), stop() and the destructor on the loop thread; input(), flush(),
// guest_active() and stats() from any thread (the back-end serialises them).
class PvConsole : public std::enable_shared_from_this<PvConsole> {
  public:
    struct Params {
        DomId guest;
        std::span<uint8_t> page;  // host view of the console page; outlives stop()
        Gfn gfn;                  // where the guest sees that page
        std::string label;        // for log lines: "dom3 (web) console"
        ConsoleBackend::Output output;
    };

    // What Xen's toolstack does for a domU's console, in its order: empties the page,
    // allocates the guest's console port (unbound, for dom0 only), binds dom0's end, and
    // starts waiting for kicks. The caller then publishes ring_gfn() and guest_port() to the
    // guest (HVM_PARAM_CONSOLE_PFN / _EVTCHN, and xenstore's console/ring-ref and port).
    static Result<std::shared_ptr<PvConsole>> create(boost::asio::io_context& io,
                                                     Dom0EventChannels& channels, Params params);
    ~PvConsole();  // stop()s
    PvConsole(const PvConsole&) = delete;
    PvConsole& operator=(const PvConsole&) = delete;

    Gfn ring_gfn() const { return gfn_; }
    EvtchnPort guest_port() const { return guest_port_; }

    // Typed input for the guest (bounded: returns how many bytes were taken).
    size_t input(std::string_view bytes) { return backend_->queue_input(bytes); }
    // The guest runs a PV console driver (it has used the rings).
    bool guest_active() const { return backend_->guest_active(); }
    // Drains the out ring now, whatever the event channel says: called before pvd hears of a
    // shutdown, so everything the guest wrote reaches the log and watchers first.
    void flush() { (void)backend_->service(); }
    // Final flush, then the page is never touched again and dom0's port is closed.
    void stop();
    ConsoleBackend::Stats stats() const { return backend_->stats(); }

  private:
    PvConsole(boost::asio::io_context& io, Gfn gfn, EvtchnPort guest_port, Dom0Port port,
              boost::asio::posix::stream_descriptor wait);
    void arm();
    void run_service();

    boost::asio::io_context& io_;
    const Gfn gfn_;
    const EvtchnPort guest_port_;
    // The back-end's kick notifies through port_; detach() (in stop) ends kicks before
    // port_ closes.
    std::optional<Dom0Port> port_;
    std::unique_ptr<ConsoleBackend> backend_;
    boost::asio::posix::stream_descriptor wait_;  // a dup of port_'s eventfd
    bool stopped_ = false;                        // loop thread only
    bool again_posted_ = false;                   // loop thread only: a continuation is queued
};

}  // namespace pvhv::console
