// How event-channel operations find another domain's port table (implemented by pvd).
#pragma once

#include <memory>

#include "hv/types.h"

namespace pvhv {

class PortTable;

// pvd's registry of live domains, dom0 (pvd's own back-end table) included. The returned
// shared_ptr keeps the table alive for the operation, as Xen's rcu_lock_domain_by_id does; a
// destroyed domain (PortTable::destroy() called) should no longer be found. Thread-safe:
// called on any domain's vCPU threads.
class DomainDirectory {
public:
    virtual ~DomainDirectory() = default;
    // The table of domain `id`, or null if there is no such domain (the guest gets -ESRCH).
    // Never called with DOMID_SELF: callers resolve it first.
    virtual std::shared_ptr<PortTable> find_event_channels(DomId id) const = 0;
};

}  // namespace pvhv
