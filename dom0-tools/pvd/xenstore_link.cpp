// A guest's xenstore ring on pvd's loop: setup in Xen's order, kicks, servicing, teardown.
#include "dom0-tools/pvd/xenstore_link.h"

#include <unistd.h>

#include <boost/asio/post.hpp>

#include "dom0-tools/pvd/log.h"
#include "dom0-tools/xenstore/domain_tree.h"
#include "dom0-tools/xenstore/ring.h"
#include "hv/format.h"
#include "hv/xen_public.h"
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>

namespace pvhv::dom0 {

namespace {
std::string label(DomId id, const std::string& name) {
    return "domain " + name + " (id " + std::to_string(id.value) + ")";
}
}  // namespace

XenstoreLink::XenstoreLink(XenstoreService& service, const StoreGuest& guest)
    : service_(service),
      id_(guest.id),
      name_(guest.name),
      page_(guest.ring_page),
      kicks_(service.io()) {}

Result<std::unique_ptr<XenstoreLink>> XenstoreLink::connect(XenstoreService& service,
                                                            const StoreGuest& guest) {
    if (guest.ring_page.size() < sizeof(xenstore_domain_interface))
        return fail(XEN_EINVAL, "xenstore ring page too small");
    std::unique_ptr<XenstoreLink> link(new XenstoreLink(service, guest));
    xs::init_ring_page(guest.ring_page);

    auto port = service.channels().alloc_unbound_in(guest.id);
    if (!port) return std::unexpected(port.error());
    link->guest_port_ = *port;
    if (guest.set_hvm_param) {
        guest.set_hvm_param(HVM_PARAM_STORE_PFN, guest.ring_gfn);
        guest.set_hvm_param(HVM_PARAM_STORE_EVTCHN, port->value);
    }

    xs::DomainTreeSpec spec;
    spec.domid = guest.id;
    spec.name = guest.name;
    spec.memory_kib = guest.memory_kib;
    spec.vcpus = guest.vcpus;
    spec.store_port = port->value;
    spec.store_ring_ref = guest.ring_gfn;
    spec.console = guest.console;
    auto conn = xs::create_domain_tree(service.toolstack(), spec);
    if (!conn) return std::unexpected(conn.error());
    link->conn_ = *conn;  // from here on, the destructor removes the tree again
    service.add_link(*conn, link.get());

    auto shutdown = PvShutdown::watch(service.toolstack(), guest.id, guest.name);
    if (!shutdown) return std::unexpected(shutdown.error());
    link->shutdown_ = std::move(*shutdown);

    auto bound = service.channels().bind_interdomain(guest.id, *port);
    if (!bound) return std::unexpected(bound.error());
    link->port_.emplace(std::move(*bound));
    // Asio owns (and closes) its descriptor; Dom0Port keeps its own.
    const int fd = ::dup(link->port_->fd());
    if (fd < 0) return fail_errno("dup of the xenstore event channel's eventfd");
    boost::system::error_code ec;
    link->kicks_.assign(fd, ec);
    if (ec) {
        ::close(fd);
        return fail(XEN_EIO, "cannot watch the xenstore event channel: " + ec.message());
    }
    link->wait_for_kick();
    log_info("xenstore: introduced " + label(guest.id, guest.name) + ", ring at gfn " +
             fmt::hex(guest.ring_gfn) + ", event channel " + std::to_string(port->value));
    return link;
}

XenstoreLink::~XenstoreLink() {
    alive_.reset();     // queued handlers and posts do nothing from here on
    shutdown_.reset();  // unwatch before the node goes
    if (conn_ != 0) service_.remove_link(conn_);
    boost::system::error_code ec;
    kicks_.close(ec);
    port_.reset();  // dom0's end closes; the guest's goes back to unbound (or is gone)
    if (conn_ == 0) return;
    if (auto r = xs::destroy_domain_tree(service_.toolstack(), id_); !r)
        log_warn("xenstore: removing the tree of " + label(id_, name_) + ": " + r.error().message);
}

bool XenstoreLink::has_pv_control() const {
    if (broken_ || conn_ == 0) return false;
    const auto& store = service_.store();
    return !store.is_broken(conn_) && store.requests_received(conn_) > 0;
}

Result<void> XenstoreLink::request_shutdown(ShutdownReason reason) {
    if (!shutdown_) return fail(XEN_EOPNOTSUPP, "no xenstore connection");
    return shutdown_->request(reason);
}

void XenstoreLink::wait_for_kick() {
    kicks_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
                          if (alive.expired() || ec) return;
                          port_->consume();
                          service();
                          if (!broken_) wait_for_kick();
                      });
}

void XenstoreLink::service() {
    if (broken_ || conn_ == 0) return;
    const xs::RingResult r = xs::service_ring(service_.store(), conn_, page_);
    // Also after a break: the guest should see the page's error field.
    if (r.notify && port_) (void)port_->notify();
    if (r.broken) {
        broken_ = true;
        log_warn("xenstore: " + label(id_, name_) +
                 " broke its ring; its xenstore connection is closed, the domain runs on");
        boost::system::error_code ec;
        kicks_.cancel(ec);
        return;
    }
    if (r.again && !again_posted_) {
        // Round limit reached with work left: yield to other guests, then carry on.
        again_posted_ = true;
        boost::asio::post(service_.io(), [this, alive = std::weak_ptr<int>(alive_)] {
            if (alive.expired()) return;
            again_posted_ = false;
            service();
        });
    }
}

}  // namespace pvhv::dom0
