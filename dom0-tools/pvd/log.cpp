// Timestamped log lines on stderr, written whole so threads do not interleave them.
#include "dom0-tools/pvd/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace pvhv::dom0 {
namespace {

void emit(const char* level, const std::string& msg) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char stamp[40];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    char prefix[64];
    std::snprintf(prefix, sizeof prefix, "%s.%03d pvd %s: ", stamp, static_cast<int>(ms), level);
    // One write() per line: lines from vCPU-thread paths and the loop stay whole.
    std::string line = prefix + msg + "\n";
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<size_t>(n);
    }
}

}  // namespace

void log_info(const std::string& msg) {
    emit("info", msg);
}
void log_warn(const std::string& msg) {
    emit("warning", msg);
}
void log_error(const std::string& msg) {
    emit("error", msg);
}

}  // namespace pvhv::dom0
