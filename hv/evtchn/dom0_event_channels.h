// dom0's event channels: pvd's back-ends bind guests' ports and get one eventfd per port.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "hv/error.h"
#include "hv/evtchn/port_delivery.h"
#include "hv/types.h"
#include "hv/unique_fd.h"

namespace pvhv {

class DomainRegistry;
class PortTable;
class Dom0Port;

// The control domain's port table, registered as domid 0, with events delivered as eventfd
// writes instead of bits in a shared_info page (Xen's /dev/xen/evtchn, without the mask: an
// eventfd counts events, and reading it is the unmask).
//
// The hot paths need no vCPU thread: a guest's EVTCHNOP_send on a port bound to dom0 ends in
// an eventfd write that pvd's loop (or a back-end thread) polls; Dom0Port::notify from any
// thread marks the guest's port pending in its shared_info and raises the upcall with
// KVM_SIGNAL_MSI on the VM fd (UpcallInjector).
class Dom0EventChannels : public std::enable_shared_from_this<Dom0EventChannels> {
public:
    // Registers dom0's table in `registry`, which must outlive this object.
    static Result<std::shared_ptr<Dom0EventChannels>> create(DomainRegistry& registry);
    ~Dom0EventChannels();  // unregisters and destroys dom0's table: guests see ports closed
    Dom0EventChannels(const Dom0EventChannels&) = delete;
    Dom0EventChannels& operator=(const Dom0EventChannels&) = delete;

    // What the toolstack does for a guest's xenstore and console channels: a port in `guest`'s
    // table, unbound, that only dom0 may bind (Xen's privileged EVTCHNOP_alloc_unbound with a
    // foreign dom). XEN_ESRCH for an unknown domain.
    Result<EvtchnPort> alloc_unbound_in(DomId guest);
    // A back-end binds the guest's unbound port (whose remote must be dom0) to a new dom0 port.
    Result<Dom0Port> bind_interdomain(DomId guest, EvtchnPort guest_port);

    // For tests and debug-dump.
    PortTable& table() { return *table_; }

private:
    friend class Dom0Port;
    class EventfdDelivery final : public PortDelivery {
    public:
        void add(EvtchnPort port, int fd);
        void remove(EvtchnPort port);
        void set_pending(EvtchnPort port, VcpuId notify) override;
        void clear_pending(EvtchnPort) override {}
        void unmask(EvtchnPort, VcpuId) override {}
        bool is_pending(EvtchnPort) const override { return false; }
        bool is_masked(EvtchnPort) const override { return false; }

    private:
        mutable std::mutex mu_;  // guards fds_; a leaf lock (taken under PortTable's mutex)
        std::map<uint32_t, int> fds_;  // bound port -> its Dom0Port's eventfd (borrowed)
    };

    explicit Dom0EventChannels(DomainRegistry& registry) : registry_(registry) {}
    std::shared_ptr<PortTable> find(DomId guest) const;

    DomainRegistry& registry_;
    EventfdDelivery delivery_;  // declared before table_: outlives it
    std::shared_ptr<PortTable> table_;
};

// One bound dom0 port and its eventfd; closing it (destructor) closes the port, and the
// guest's end goes back to unbound. Move-only. Keeps the channels object alive.
class Dom0Port {
public:
    Dom0Port(Dom0Port&& o) noexcept = default;
    Dom0Port& operator=(Dom0Port&& o) noexcept;
    ~Dom0Port();

    EvtchnPort port() const { return port_; }
    DomId remote_domain() const { return remote_; }
    EvtchnPort remote_port() const { return remote_port_; }
    // Readable (POLLIN) when the guest sent events since the last consume(); non-blocking.
    int fd() const { return fd_.get(); }
    // Reads and resets the event count; 0 if nothing arrived.
    uint64_t consume() const;
    // EVTCHNOP_send from dom0: the guest's port becomes pending and the guest is kicked.
    Result<void> notify() const;

private:
    friend class Dom0EventChannels;
    Dom0Port(std::shared_ptr<Dom0EventChannels> owner, EvtchnPort port, DomId remote,
             EvtchnPort remote_port, UniqueFd fd);
    void close();

    std::shared_ptr<Dom0EventChannels> owner_;  // null once moved from
    EvtchnPort port_{};
    DomId remote_{};
    EvtchnPort remote_port_{};
    UniqueFd fd_;
};

}  // namespace pvhv
