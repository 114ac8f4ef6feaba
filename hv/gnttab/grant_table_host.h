// How the grant_table_op handler finds the calling domain's GrantTable.
#pragma once

#include "hv/gnttab/grant_table.h"
#include "hv/hypercall/hypercall.h"

namespace pvhv {

// Implemented, next to HypercallDomain, by a domain that has a grant table. The handler finds
// it with a cross-cast of the HypercallDomain, so hypercall.h need not change before the
// domain is wired; a domain without it answers every GNTTABOP with -ENOSYS.
class GrantTableHost {
  public:
    virtual ~GrantTableHost() = default;
    virtual GrantTable& grant_table() = 0;
};

// __HYPERVISOR_grant_table_op (20). Declared here until the dispatcher wires it (then it
// moves to hv/hypercall/handlers.h with the others).
int64_t do_grant_table_op(HypercallContext& ctx, const HypercallArgs& a);

}  // namespace pvhv
