// The EVTCHNOP hypercall's view of the calling domain, and the handler's declaration.
#pragma once

#include <cstdint>

#include "hv/evtchn/domain_directory.h"
#include "hv/evtchn/port_table.h"
#include "hv/hypercall/hypercall.h"

namespace pvhv {

// What __HYPERVISOR_event_channel_op needs from the domain it runs in, beyond HypercallDomain
// (which hands it out: HypercallDomain::event_channel_domain()).
class EventChannelDomain {
public:
    virtual ~EventChannelDomain() = default;
    // This domain's table (its domid is the caller's domid for every check).
    virtual PortTable& event_channels() = 0;
    // Other domains, for bind_interdomain and for a foreign `dom` in alloc_unbound/status/reset.
    virtual const DomainDirectory& domain_directory() const = 0;
    // Xen's XSM_TARGET rights over other domains (alloc_unbound, status, reset with a foreign
    // dom). A guest never has them; only a toolstack domain would.
    virtual bool evtchn_privileged() const { return false; }
};

// The calling domain's event-channel services, or null if it has none (-ENOSYS then).
EventChannelDomain* event_channel_domain(HypercallDomain& domain);

// __HYPERVISOR_event_channel_op (32): a[0] = EVTCHNOP_*, a[1] = linear address of its struct.
int64_t do_event_channel_op(HypercallContext& ctx, const HypercallArgs& a);

}  // namespace pvhv
