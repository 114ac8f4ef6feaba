// Append-only per-domain console log file.
#include "dom0-tools/pvd/console_log.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "dom0-tools/pvd/log.h"
#include "dom0-tools/pvd/sys_error.h"

namespace pvhv::dom0 {

Result<ConsoleLog> ConsoleLog::open(const std::string& path) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return fail_sys("cannot open console log " + path);
    return ConsoleLog(UniqueFd(fd), path);
}

void ConsoleLog::append(std::string_view bytes) {
    while (!bytes.empty() && !failed_) {
        const ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            failed_ = true;
            log_warn("console log " + path_ + ": " + std::strerror(errno) +
                     "; further output is not logged");
            return;
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace pvhv::dom0
