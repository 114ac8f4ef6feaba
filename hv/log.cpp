// Log sink (stderr with a timestamp) and the guest-event rate limiter.
#include "hv/log.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace pvhv {

void log_line(LogLevel level, std::string_view message) {
    static const char* kNames[] = {"debug", "info", "warn", "error"};
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    ::gmtime_r(&ts.tv_sec, &t);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", &t);
    std::fprintf(stderr, "%s.%03ld %s: %.*s\n", stamp, ts.tv_nsec / 1000000,
                 kNames[static_cast<int>(level)], static_cast<int>(message.size()), message.data());
}

bool RateLimit::allow() {
    using namespace std::chrono;
    const int64_t now =
        duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
    int64_t start = window_start_ms_.load(std::memory_order_relaxed);
    if (now - start >= period_.count() &&
        window_start_ms_.compare_exchange_strong(start, now, std::memory_order_relaxed)) {
        in_window_.store(0, std::memory_order_relaxed);
        if (const uint64_t n = suppressed_.exchange(0, std::memory_order_relaxed))
            log_line(LogLevel::Warn, "(" + std::to_string(n) + " similar messages suppressed)");
    }
    if (in_window_.fetch_add(1, std::memory_order_relaxed) < burst_) return true;
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
}

void log_guest(RateLimit& limit, LogLevel level, std::string_view message) {
    if (limit.allow()) log_line(level, message);
}

}  // namespace pvhv
