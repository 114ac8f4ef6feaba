// The PV console back-end core: service rounds, the bounded input queue, hostile-ring logging.
#include "pvdrivers/back/console/console_backend.h"

#include <algorithm>

namespace pvhv::console {

ConsoleBackend::ConsoleBackend(ConsoleRing ring, Output output, Kick kick, std::string label)
    : output_(std::move(output)), kick_(std::move(kick)), label_(std::move(label)), ring_(ring) {}

bool ConsoleBackend::service() {
    std::lock_guard lock(mu_);
    if (detached_) return false;
    bool again = false;
    scratch_.clear();
    for (;;) {
        const RingPass pass = ring_.read_output(scratch_);
        note_hostile_locked(true, pass);
        if (pass.bytes == 0) break;
        if (scratch_.size() >= kMaxOutputPerCall) {
            again = true;  // maybe more: the caller comes back after other work
            break;
        }
    }
    const bool consumed = !scratch_.empty();
    if (consumed) {
        stats_.output_bytes += scratch_.size();
        output_(scratch_);  // one batch per call, in ring order
    }
    if (write_queued_locked() || consumed) kick_locked();
    return again;
}

size_t ConsoleBackend::queue_input(std::string_view bytes) {
    std::lock_guard lock(mu_);
    if (detached_) {
        stats_.input_dropped += bytes.size();
        return 0;
    }
    const size_t accepted = std::min(bytes.size(), kMaxQueuedInput - queued_.size());
    queued_.append(bytes.substr(0, accepted));
    stats_.input_dropped += bytes.size() - accepted;
    if (write_queued_locked()) kick_locked();
    return accepted;
}

bool ConsoleBackend::write_queued_locked() {
    const RingPass pass = ring_.write_input(queued_);
    note_hostile_locked(false, pass);
    if (pass.bytes == 0) return false;
    queued_.erase(0, pass.bytes);
    stats_.input_bytes += pass.bytes;
    return true;
}

void ConsoleBackend::note_hostile_locked(bool out_ring, const RingPass& pass) {
    bool& hostile = out_ring ? out_hostile_ : in_hostile_;
    if (!pass.hostile) {
        hostile = false;
        return;
    }
    ++(out_ring ? stats_.hostile_out : stats_.hostile_in);
    if (std::exchange(hostile, true)) return;  // one line per episode, not per kick
    const std::string what =
        out_ring ? "out_prod " + std::to_string(pass.guest_index) + " is more than " +
                       std::to_string(kOutRingSize) + " bytes past out_cons " +
                       std::to_string(pass.our_index)
                 : "in_cons " + std::to_string(pass.guest_index) + " is past in_prod " +
                       std::to_string(pass.our_index);
    log_guest(hostile_log_, LogLevel::Warn,
              label_ + ": hostile ring indexes (" + what + "); ring ignored until the guest " +
                  "repairs it");
}

bool ConsoleBackend::guest_active() const {
    std::lock_guard lock(mu_);
    return ring_.guest_active();
}

void ConsoleBackend::detach() {
    std::lock_guard lock(mu_);
    detached_ = true;
    stats_.input_dropped += queued_.size();
    queued_.clear();
}

ConsoleBackend::Stats ConsoleBackend::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void ConsoleBackend::kick_locked() {
    ++stats_.kicks;
    if (kick_) kick_();
}

}  // namespace pvhv::console
