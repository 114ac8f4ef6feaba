// How a port table's events reach its domain: the 2-level bits in guest memory, or (dom0) eventfds.
#pragma once

#include "hv/types.h"

namespace pvhv {

// One implementation per kind of domain: EventDelivery2L for guests (shared_info bits and an
// upcall), an eventfd per port for pvd's own back-ends. PortTable calls these with its mutex
// held, so an implementation must not call back into any PortTable and must not block (an
// atomic on guest memory, an eventfd/irqfd write, an ioctl are fine).
class PortDelivery {
public:
    virtual ~PortDelivery() = default;
    // evtchn_port_set_pending: the port fired; `notify` is the port's notify vCPU.
    virtual void set_pending(EvtchnPort port, VcpuId notify) = 0;
    // evtchn_port_clear_pending: the port is being freed; a stale bit must not fire on re-bind.
    virtual void clear_pending(EvtchnPort port) = 0;
    // evtchn_port_unmask: EVTCHNOP_unmask; re-raises an event that arrived while masked.
    virtual void unmask(EvtchnPort port, VcpuId notify) = 0;
    virtual bool is_pending(EvtchnPort port) const = 0;
    virtual bool is_masked(EvtchnPort port) const = 0;
};

}  // namespace pvhv
