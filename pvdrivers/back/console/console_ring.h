// The two rings of a PV console page (Xen's xencons_interface), seen from the back-end (dom0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hv/error.h"

namespace pvhv::console {

// From <xen/io/console.h>: the guest produces into `out` (2 KiB), dom0 into `in` (1 KiB).
inline constexpr uint32_t kOutRingSize = 2048;
inline constexpr uint32_t kInRingSize = 1024;

// Empties a console page before the guest first runs: both rings empty, every index 0 (what
// Xen's toolstack does to its magic pages before it builds a domain).
void clear_page(std::span<uint8_t> page);

// What one pass over a ring saw. `hostile`: the guest's index was more than a ring away from
// ours, so nothing was copied and nothing was published. Indexes are for the log.
struct RingPass {
    size_t bytes = 0;
    bool hostile = false;
    uint32_t guest_index = 0;  // out_prod or in_cons, as read (once) from the page
    uint32_t our_index = 0;    // out_cons or in_prod: our private copy, after the pass
};

// The back-end's end of both rings of one console page.
//
// The indexes dom0 owns (out_cons, in_prod) live here and are only ever *written* to the page
// (release stores after the bytes): a guest that scribbles on them changes nothing we do. The
// indexes the guest owns (out_prod, in_cons) are read once per pass with an acquire load and
// checked before use; ring bytes are copied out once, so nothing is fetched twice.
// Not thread-safe: ConsoleBackend serialises the calls.
class ConsoleRing {
  public:
    // `page` must be a whole console page (>= sizeof(xencons_interface), indexes 4-byte
    // aligned) and stay mapped for as long as this object is used. Our indexes start from the
    // page's current values (0 on a page that clear_page() prepared).
    static Result<ConsoleRing> attach(std::span<uint8_t> page);

    // Appends everything between out_cons and out_prod (at most one ring) to `out`, then
    // publishes out_cons.
    RingPass read_output(std::string& out);
    // Writes the longest prefix of `bytes` that the in ring has room for, then publishes
    // in_prod. `bytes` in the result is how many were written.
    RingPass write_input(std::string_view bytes);
    // Reads in_cons and checks it, writing nothing: a hostile in ring is noticed even while
    // no input is queued.
    RingPass check_input() { return write_input({}); }

    // The guest has produced output on, or consumed input from, this ring at least once:
    // it runs a PV console driver (Linux's hvc_xen), so typed input belongs here.
    bool guest_active() const { return guest_active_; }

  private:
    explicit ConsoleRing(std::span<uint8_t> page);

    std::span<uint8_t> page_;
    uint32_t out_cons_ = 0;
    uint32_t in_prod_ = 0;
    uint32_t in_cons_seen_ = 0;  // last sane in_cons, to notice the guest consuming
    bool guest_active_ = false;
};

}  // namespace pvhv::console
