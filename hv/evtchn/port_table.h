// Per-domain event-channel port table (2-level ABI): port states and Xen's EVTCHNOP rules.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "hv/error.h"
#include "hv/evtchn/port_delivery.h"
#include "hv/types.h"

namespace pvhv {

// EVTCHN_2L_NR_CHANNELS for a 64-bit guest: 64 selector bits x 64-bit pending words.
inline constexpr uint32_t kEvtchnPorts2L = 4096;
inline constexpr uint32_t kNrVirqs = 24;  // NR_VIRQS in <xen/xen.h>

// Xen's ECS_* states. Reserved is port 0 only (never allocated, reads back as closed).
// pirq ports do not exist here: a PVH domain has no physical IRQs.
enum class PortState : uint8_t { Free, Reserved, Unbound, Interdomain, Virq, Ipi };

// One port as EVTCHNOP_status (and pvctl debug-dump) sees it.
struct PortInfo {
    EvtchnPort port{};
    PortState state = PortState::Free;
    VcpuId vcpu{};             // the notify vCPU
    DomId remote_dom{};        // Unbound: the domain allowed to bind; Interdomain: the peer
    EvtchnPort remote_port{};  // Interdomain: the peer's port
    uint32_t virq = 0;         // Virq
};

// Per-vCPU VIRQs (timer, debug, xenoprof, xenpmu) bind on any vCPU and stay there; the others
// are global: bound on vCPU 0, movable with bind_vcpu (Xen's virq_is_global; x86's arch VIRQs
// are global). virq must be < kNrVirqs.
bool virq_is_global(uint32_t virq);

// The event channels of one domain. Operations return Xen's errors (Error::xen_errno) in the
// order Xen checks them. Pending/mask state lives in the domain's PortDelivery, which the table
// drives under its mutex. Always owned by a shared_ptr (create()): an interdomain port keeps a
// weak reference to its peer's table, as Xen keeps a pointer to the remote domain.
//
// Locking: `mu_` guards everything below it. An operation that touches two tables (bind
// interdomain, close or send on an interdomain port) holds both mutexes, taken in domid order
// (DESIGN §3); a table never calls out while holding its mutex except into PortDelivery, which
// must not call back.
class PortTable : public std::enable_shared_from_this<PortTable> {
    struct Passkey {
        explicit Passkey() = default;
    };

public:
    // `delivery` may be null (events are dropped) and must outlive the table or destroy().
    static Result<std::shared_ptr<PortTable>> create(DomId self, uint32_t nr_vcpus,
                                                     PortDelivery* delivery);
    PortTable(Passkey, DomId self, uint32_t nr_vcpus, PortDelivery* delivery);
    PortTable(const PortTable&) = delete;
    PortTable& operator=(const PortTable&) = delete;

    DomId domid() const { return self_; }
    uint32_t nr_vcpus() const { return nr_vcpus_; }

    // EVTCHNOP_alloc_unbound on this table: a port that `remote` may bind to (the caller has
    // already resolved DOMID_SELF and checked that it may act on this table). -ENOSPC when
    // full, -EINVAL while the domain is dying.
    Result<EvtchnPort> alloc_unbound(DomId remote);

    // EVTCHNOP_bind_interdomain: a new port of `local` connected to `remote_port` of `remote`,
    // which must be unbound and name local's domid (-EINVAL otherwise). local and remote may be
    // the same table (loopback). Like Xen, marks the new local port pending, since events sent
    // to the unbound remote end were dropped.
    static Result<EvtchnPort> bind_interdomain(PortTable& local, PortTable& remote,
                                               EvtchnPort remote_port);

    // EVTCHNOP_bind_virq: -EINVAL for virq >= NR_VIRQS or a global VIRQ on vCPU != 0, -ENOENT
    // for a vCPU out of range, -EEXIST if (virq, vcpu) is already bound.
    Result<EvtchnPort> bind_virq(uint32_t virq, VcpuId vcpu);
    // EVTCHNOP_bind_ipi: -ENOENT for a vCPU out of range.
    Result<EvtchnPort> bind_ipi(VcpuId vcpu);
    // EVTCHNOP_bind_vcpu: only unbound, interdomain and global-VIRQ ports move (-EINVAL else).
    Result<void> bind_vcpu(EvtchnPort port, VcpuId vcpu);
    // EVTCHNOP_close: frees the port and clears its pending bit; the peer of an interdomain
    // port goes back to unbound, bindable again by this domain. -EINVAL for a free port.
    Result<void> close(EvtchnPort port);
    // EVTCHNOP_send: interdomain marks the peer's port pending (for the peer's notify vCPU),
    // ipi marks this port pending, unbound drops the event; anything else is -EINVAL.
    Result<void> send(EvtchnPort port);
    // EVTCHNOP_status for this table (port 0 reads as Reserved).
    Result<PortInfo> status(EvtchnPort port) const;
    // EVTCHNOP_unmask: clears the mask bit and re-raises a pending event. Any port < 4096,
    // whatever its state, as Xen.
    Result<void> unmask(EvtchnPort port);

    // EVTCHNOP_reset: closes every port (peers of interdomain ports become unbound).
    void reset();
    // The domain is going away: no new ports (-EINVAL), every port closed, and no further
    // access to PortDelivery once this returns. Call before the delivery or guest memory dies.
    void destroy();

    // Xen-side VIRQ sources (send_guest_vcpu_virq / send_guest_global_virq): raises the port
    // bound to (virq, vcpu); a global VIRQ is looked up on vCPU 0 and raised on its notify
    // vCPU. Returns false if nothing is bound.
    bool send_virq(uint32_t virq, VcpuId vcpu);

    // Every port that is not free, in port order (for debug-dump and tests).
    std::vector<PortInfo> dump() const;
    // Xen's d->valid_evtchns: ports below this lie in allocated buckets (SCHEDOP_poll refuses
    // others with -EINVAL).
    uint32_t valid_ports() const;

private:
    struct Port {
        PortState state = PortState::Free;
        VcpuId notify{0};
        uint32_t virq = 0;
        DomId remote_dom{};
        EvtchnPort remote_port{};
        std::weak_ptr<PortTable> peer;  // Interdomain only
    };
    // Ports come in buckets allocated on first use, as in Xen: most domains use a few dozen
    // ports, and a domain's table should not cost 4096 entries up front. Ports past the
    // allocated buckets are free.
    static constexpr uint32_t kBucketPorts = 64;
    using Bucket = std::array<Port, kBucketPorts>;
    class PairLock;

    static bool locks_before(const PortTable& a, const PortTable& b);
    std::unique_lock<std::mutex> lock_peer(std::unique_lock<std::mutex>& own, PortTable& peer);
    Port* slot(EvtchnPort port);  // null: a free port in a bucket not allocated yet
    const Port* slot(EvtchnPort port) const;
    bool still_connected(EvtchnPort port, const PortTable& peer, EvtchnPort remote_port) const;
    Result<EvtchnPort> alloc_locked();
    void free_locked(EvtchnPort port);
    void deliver_locked(EvtchnPort port);
    PortInfo info_locked(EvtchnPort port) const;

    const DomId self_;
    const uint32_t nr_vcpus_;

    mutable std::mutex mu_;
    // Guarded by mu_.
    std::vector<std::unique_ptr<Bucket>> buckets_;              // ports [0, 64 * size())
    std::vector<std::array<EvtchnPort, kNrVirqs>> virq_ports_;  // per vCPU; 0 = unbound
    PortDelivery* delivery_;
    bool dying_ = false;
};

}  // namespace pvhv
