// The standard xenstore nodes of a domain, created and removed as xl (libxl) does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dom0-tools/xenstore/client.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::xs {

struct DomainTreeSpec {
    DomId domid;
    std::string name;
    std::string uuid;  // empty: derived from the domid
    uint64_t memory_kib = 0;          // memory/target
    uint64_t max_memory_kib = 0;      // memory/static-max (0: same as memory_kib)
    uint32_t vcpus = 1;               // cpu/<n>/availability = online
    std::optional<uint32_t> store_port;     // store/port (HVM_PARAM_STORE_EVTCHN)
    std::optional<uint64_t> store_ring_ref; // store/ring-ref (HVM_PARAM_STORE_PFN)
    // The primary PV console (HVM_PARAM_CONSOLE_PFN/EVTCHN), written as libxl's
    // libxl__device_console_add: console/{ring-ref,port,...} and dom0's backend/console/<id>/0.
    struct Console {
        uint64_t ring_ref = 0;
        uint32_t port = 0;
    };
    std::optional<Console> console;
};

// dom0's backend directory of a domain's primary console.
std::string console_backend_path(DomId domid);

// "00000000-0000-0000-0000-0000000000<id>"-style uuid for domains created without one.
std::string default_uuid(DomId domid);

// Creates /local/domain/<id> (dom0-owned, readable by the guest) with name, domid, vm,
// memory/{target,static-max}, cpu/*, device, control/{shutdown,feature-*,sysrq,...}
// (guest-writable where xl makes them so), data/drivers/feature/attr/error (guest-owned),
// and /vm/<uuid>, in one transaction (retried on conflict). Fires @introduceDomain and
// connects the domain's ring; returns that connection.
Result<ConnId> create_domain_tree(XsClient& dom0, const DomainTreeSpec& spec);

// Removes /local/domain/<id> and /vm/<uuid> and fires @releaseDomain (closing the ring
// connection). Missing nodes are not an error.
Result<void> destroy_domain_tree(XsClient& dom0, DomId domid);

// pvd's own entry, as xen-init-dom0 writes it: /local/domain/0/{name = Domain-0, domid = 0}.
Result<void> create_dom0_tree(XsClient& dom0);

}  // namespace pvhv::xs
