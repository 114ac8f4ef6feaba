// The directory of live domains (dom0 included) through which one domain reaches another's tables.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "hv/error.h"
#include "hv/evtchn/domain_directory.h"
#include "hv/types.h"

namespace pvhv {

// One per control domain (pvd owns it): interdomain event channels look up their peer here,
// and dom0's own table (Dom0EventChannels) is registered under domid 0. Xen's domain list.
//
// A domain is registered once its port table exists and removed before the table is destroyed
// (PortTable::destroy), so an operation that found a table holds a shared_ptr to a table that
// may be dying but never to a dead one's memory (PortTable refuses work once dying).
//
// Thread-safe: looked up on every domain's vCPU threads and pvd's loop.
class DomainRegistry final : public DomainDirectory {
public:
    // XEN_EEXIST if `id` is taken.
    Result<void> add(DomId id, std::shared_ptr<PortTable> ports);
    void remove(DomId id);  // no-op for an unknown id
    std::shared_ptr<PortTable> find_event_channels(DomId id) const override;

private:
    mutable std::mutex mu_;  // guards ports_ (a leaf lock: nothing is called under it)
    std::map<uint16_t, std::shared_ptr<PortTable>> ports_;
};

}  // namespace pvhv
