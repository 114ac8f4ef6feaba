// Console output on its way from vCPU and back-end threads to pvd's loop: coalesced, bounded.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hv/types.h"

namespace pvhv::dom0 {

// Guests produce console output a byte at a time (UART), a call at a time (console_io, up to
// 64 KiB) or a ring at a time (PV console). Posting each piece to the loop would cost a
// handler per byte and let a guest that outruns the loop queue memory without limit. The
// backlog gathers the pieces per domain and asks for one post while the loop is behind;
// past kMaxBytesPerDomain the rest is dropped and counted until the loop catches up (the
// console log then says how much is missing).
class ConsoleBacklog {
  public:
    static constexpr size_t kMaxBytesPerDomain = 1u << 20;

    // Any thread. True when the caller must post a drain: none is pending.
    bool append(DomId id, std::string_view bytes);
    // Loop thread: everything queued, per domain in arrival order. The next append posts again.
    std::vector<std::pair<DomId, std::string>> take_all();
    // Loop thread: what is queued for one domain, for a last delivery before it is forgotten.
    std::string take(DomId id);

  private:
    struct Pending {
        std::string bytes;
        uint64_t dropped = 0;
    };
    static std::string finish(Pending& p);

    std::mutex mu_;  // guards everything below; a leaf lock (back-ends call in holding theirs)
    std::map<uint16_t, Pending> pending_;  // by domid; entries exist only while non-empty
    bool drain_posted_ = false;
};

}  // namespace pvhv::dom0
