// PvConsole: console event channel setup, the eventfd wait on Asio, and teardown.
#include "pvdrivers/back/console/pv_console.h"

#include <fcntl.h>

#include <boost/asio/post.hpp>

namespace pvhv::console {

Result<std::shared_ptr<PvConsole>> PvConsole::create(boost::asio::io_context& io,
                                                     Dom0EventChannels& channels, Params p) {
    clear_page(p.page);
    auto ring = ConsoleRing::attach(p.page);
    if (!ring) return std::unexpected(ring.error());
    auto guest_port = channels.alloc_unbound_in(p.guest);
    if (!guest_port) return std::unexpected(guest_port.error());
    auto port = channels.bind_interdomain(p.guest, *guest_port);
    if (!port) return std::unexpected(port.error());
    // Asio owns (and closes) the descriptor it waits on; the Dom0Port keeps the original.
    const int fd = ::fcntl(port->fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return fail_errno("console event channel: dup");
    boost::asio::posix::stream_descriptor wait(io, fd);

    std::shared_ptr<PvConsole> c(
        new PvConsole(io, p.gfn, *guest_port, std::move(*port), std::move(wait)));
    PvConsole* raw = c.get();
    c->backend_ = std::make_unique<ConsoleBackend>(
        *ring, std::move(p.output),
        [raw] {
            // A guest that closed its end makes notify fail; there is nobody to tell.
            if (raw->port_) (void)raw->port_->notify();
        },
        std::move(p.label));
    c->arm();
    return c;
}

PvConsole::PvConsole(boost::asio::io_context& io, Gfn gfn, EvtchnPort guest_port, Dom0Port port,
                     boost::asio::posix::stream_descriptor wait)
    : io_(io), gfn_(gfn), guest_port_(guest_port), port_(std::move(port)), wait_(std::move(wait)) {}

PvConsole::~PvConsole() {
    stop();
}

void PvConsole::arm() {
    wait_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                     [weak = weak_from_this()](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec || self->stopped_) return;
                         (void)self->port_->consume();  // the count: one pass covers them all
                         self->run_service();
                         self->arm();
                     });
}

void PvConsole::run_service() {
    if (!backend_->service() || again_posted_) return;
    // Output left behind by the per-call limit: continue after whatever else is queued (one
    // such continuation at a time, however often the guest kicks meanwhile).
    again_posted_ = true;
    boost::asio::post(io_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->again_posted_ = false;
        if (!self->stopped_) self->run_service();
    });
}

void PvConsole::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (backend_) {
        (void)backend_->service();  // what the guest wrote last still reaches the log
        backend_->detach();         // no page access and no kick after this
    }
    boost::system::error_code ec;
    wait_.cancel(ec);
    wait_.close(ec);
    port_.reset();  // the guest's end goes back to unbound
}

}  // namespace pvhv::console
