// The xenstore ring server: moves bytes between a guest's xenstore_domain_interface and the store.
#pragma once

#include <cstdint>
#include <span>

#include "dom0-tools/xenstore/handler.h"

namespace pvhv::xs {

struct RingResult {
    bool notify = false;  // indexes moved: kick the guest's store event channel
    bool broken = false;  // the connection is dead (hostile indexes, protocol violation)
    bool again = false;   // stopped after its round limit with work left: call again later
};

// Prepares a fresh ring page for the guest: zero indexes, XENSTORE_SERVER_FEATURE_ERROR,
// XENSTORE_CONNECTED. (We do not offer RECONNECTION.)
void init_ring_page(std::span<uint8_t> page);

// Services `conn`'s ring in `page` (the guest's 4 KiB xenstore_domain_interface, which the
// guest may change at any moment): consumes complete or partial requests from the req ring
// into the store and writes queued replies and watch events to the rsp ring, both with
// wrap-around. Each index is read once per round (acquire) and published with release
// stores; ring bytes are copied out before anything looks at them. Hostile indexes
// (req_prod - req_cons > XENSTORE_RING_SIZE, rsp_cons past rsp_prod) or a protocol
// violation break the connection and set the page's error field; nothing else happens.
// Output that does not fit stays queued in the store (bounded by the output quota) until
// the guest makes room and calls again.
RingResult service_ring(Xenstore& xs, ConnId conn, std::span<uint8_t> page);

}  // namespace pvhv::xs
