// One domain's PV console back-end: batched output, bounded input, kicks only on progress.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "hv/log.h"
#include "pvdrivers/back/console/console_ring.h"

namespace pvhv::console {

// Moves bytes between a guest's console page and pvd: the out ring drains into `output` (the
// domain's console log and attached `pvctl console`s), typed input waits in a bounded queue
// until the in ring has room. The guest is kicked (`kick`, its console event channel) once per
// call, and only when a ring moved: output consumed (the guest may be waiting for space) or
// input written.
//
// Hostile indexes (out_prod more than a ring past out_cons; in_cons past in_prod) are what
// xenconsoled also refuses: it leaves that ring alone until the guest repairs it, silently. We
// do the same, and better: our own indexes never come back from the page, the work per call is
// bounded, and a rate-limited line per episode says what the guest did.
//
// Thread-safe: the eventfd handler on pvd's loop, the flush before a state change on a vCPU
// thread and typed input all come through `mu_`. `output` and `kick` are called with `mu_`
// held, so output from concurrent calls keeps ring order and no kick can race with detach()
// (after which the event channel may close); neither may call back into this object.
class ConsoleBackend {
  public:
    using Output = std::function<void(std::string_view bytes)>;
    using Kick = std::function<void()>;

    // Typed input beyond this (a paste into a guest that does not read) is dropped and counted.
    static constexpr size_t kMaxQueuedInput = 16 * 1024;
    // At most this much output per service(): a guest that keeps producing cannot pin the loop.
    static constexpr size_t kMaxOutputPerCall = 16 * kOutRingSize;

    // `label` names the console in log lines ("dom3 (web) console").
    ConsoleBackend(ConsoleRing ring, Output output, Kick kick, std::string label);
    ConsoleBackend(const ConsoleBackend&) = delete;
    ConsoleBackend& operator=(const ConsoleBackend&) = delete;

    // One round for both rings: drains the out ring (up to kMaxOutputPerCall) into one
    // output() call, writes queued input, checks the in ring, kicks once if anything moved.
    // Returns true if output was left behind because of the limit: call again soon.
    bool service();
    // Queues typed bytes (as many as the bound allows) and writes what fits now. Returns how
    // many were accepted; the rest are dropped.
    size_t queue_input(std::string_view bytes);
    // The guest uses this console (ConsoleRing::guest_active).
    bool guest_active() const;
    // From now on the page is never touched and nothing is called: the guest's memory may go.
    void detach();

    struct Stats {
        uint64_t output_bytes = 0;
        uint64_t input_bytes = 0;    // written into the in ring
        uint64_t input_dropped = 0;  // typed while the queue was full, or after detach
        uint64_t kicks = 0;
        uint64_t hostile_out = 0;    // passes that found a hostile out ring
        uint64_t hostile_in = 0;
    };
    Stats stats() const;

  private:
    // Writes queued input; returns whether in_prod moved. mu_ held.
    bool write_queued_locked();
    void note_hostile_locked(bool out_ring, const RingPass& pass);
    void kick_locked();

    const Output output_;
    const Kick kick_;
    const std::string label_;
    RateLimit hostile_log_{3, std::chrono::seconds(10)};  // lock-free; shared by both rings

    mutable std::mutex mu_;  // guards everything below
    ConsoleRing ring_;
    std::string queued_;   // typed input not yet in the ring, at most kMaxQueuedInput bytes
    std::string scratch_;  // output being gathered (kept to reuse its allocation)
    bool out_hostile_ = false;  // the last pass over that ring found it hostile
    bool in_hostile_ = false;
    bool detached_ = false;
    Stats stats_;
};

}  // namespace pvhv::console
