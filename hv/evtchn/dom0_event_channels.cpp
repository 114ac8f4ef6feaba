// dom0's port table with eventfd delivery, and the RAII handle of one bound dom0 port.
#include "hv/evtchn/dom0_event_channels.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "hv/domain/domain_registry.h"
#include "hv/evtchn/port_table.h"
#include "hv/log.h"

namespace pvhv {

void Dom0EventChannels::EventfdDelivery::add(EvtchnPort port, int fd) {
    std::lock_guard lock(mu_);
    fds_[port.value] = fd;
}

void Dom0EventChannels::EventfdDelivery::remove(EvtchnPort port) {
    std::lock_guard lock(mu_);
    fds_.erase(port.value);
}

void Dom0EventChannels::EventfdDelivery::set_pending(EvtchnPort port, VcpuId) {
    std::lock_guard lock(mu_);
    auto it = fds_.find(port.value);
    if (it == fds_.end()) return;  // bound but its Dom0Port is being set up or torn down
    const uint64_t one = 1;
    // Cannot block or fail short of a counter overflow (2^64 - 2 unread events).
    (void)::write(it->second, &one, sizeof one);
}

Result<std::shared_ptr<Dom0EventChannels>> Dom0EventChannels::create(DomainRegistry& registry) {
    // dom0 is pvd: one "vCPU", the loop; notify vCPUs have no meaning for eventfds.
    auto channels = std::shared_ptr<Dom0EventChannels>(new Dom0EventChannels(registry));
    auto table = PortTable::create(kDom0, 1, &channels->delivery_);
    if (!table) return std::unexpected(table.error());
    channels->table_ = std::move(*table);
    if (auto r = registry.add(kDom0, channels->table_); !r) return std::unexpected(r.error());
    return channels;
}

Dom0EventChannels::~Dom0EventChannels() {
    if (!table_) return;
    registry_.remove(kDom0);
    table_->destroy();
}

std::shared_ptr<PortTable> Dom0EventChannels::find(DomId guest) const {
    return guest == kDom0 ? nullptr : registry_.find_event_channels(guest);
}

Result<EvtchnPort> Dom0EventChannels::alloc_unbound_in(DomId guest) {
    auto t = find(guest);
    if (!t) return fail(XEN_ESRCH, "no domain " + std::to_string(guest.value));
    return t->alloc_unbound(kDom0);
}

Result<Dom0Port> Dom0EventChannels::bind_interdomain(DomId guest, EvtchnPort guest_port) {
    auto t = find(guest);
    if (!t) return fail(XEN_ESRCH, "no domain " + std::to_string(guest.value));
    UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd.valid()) return fail_errno("eventfd");
    auto port = PortTable::bind_interdomain(*table_, *t, guest_port);
    if (!port) return std::unexpected(port.error());
    delivery_.add(*port, fd.get());
    // bind_interdomain marked the new port pending before its eventfd was known (events sent
    // to the unbound end were dropped): give the back-end the same first kick.
    delivery_.set_pending(*port, VcpuId{0});
    return Dom0Port(shared_from_this(), *port, guest, guest_port, std::move(fd));
}

Dom0Port::Dom0Port(std::shared_ptr<Dom0EventChannels> owner, EvtchnPort port, DomId remote,
                   EvtchnPort remote_port, UniqueFd fd)
    : owner_(std::move(owner)), port_(port), remote_(remote), remote_port_(remote_port),
      fd_(std::move(fd)) {}

Dom0Port& Dom0Port::operator=(Dom0Port&& o) noexcept {
    if (this != &o) {
        close();
        owner_ = std::move(o.owner_);
        port_ = o.port_;
        remote_ = o.remote_;
        remote_port_ = o.remote_port_;
        fd_ = std::move(o.fd_);
    }
    return *this;
}

Dom0Port::~Dom0Port() { close(); }

void Dom0Port::close() {
    if (!owner_) return;
    owner_->delivery_.remove(port_);
    (void)owner_->table_->close(port_);  // fails only if the domain side already went away
    owner_.reset();
}

uint64_t Dom0Port::consume() const {
    uint64_t n = 0;
    if (::read(fd_.get(), &n, sizeof n) != sizeof n) return 0;  // EAGAIN: nothing pending
    return n;
}

Result<void> Dom0Port::notify() const {
    if (!owner_) return fail(XEN_EINVAL, "port is closed");
    return owner_->table_->send(port_);
}

}  // namespace pvhv
