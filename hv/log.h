// Logging for the hv core: one line per event on stderr, rate-limited where guests can trigger it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace pvhv {

enum class LogLevel { Debug, Info, Warn, Error };

void log_line(LogLevel level, std::string_view message);

// Lets `burst` lines through per `period`, then one "suppressed N" line when the next period
// starts. Lock-free so guest-triggered paths on several vCPU threads can share one limiter.
class RateLimit {
public:
    RateLimit(uint32_t burst, std::chrono::milliseconds period) : burst_(burst), period_(period) {}
    bool allow();

private:
    uint32_t burst_;
    std::chrono::milliseconds period_;
    std::atomic<int64_t> window_start_ms_{0};
    std::atomic<uint32_t> in_window_{0};
    std::atomic<uint64_t> suppressed_{0};
};

// Logs a guest-triggered event through `limit`.
void log_guest(RateLimit& limit, LogLevel level, std::string_view message);

}  // namespace pvhv
