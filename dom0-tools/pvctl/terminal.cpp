// RAII terminal mode for console attach.
#include "dom0-tools/pvctl/terminal.h"

#include <unistd.h>

namespace pvhv::dom0 {

TerminalMode::TerminalMode(int fd) : fd_(fd) {
    if (fd_ < 0 || !::isatty(fd_) || ::tcgetattr(fd_, &saved_) != 0) return;
    termios t = saved_;
    t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(fd_, TCSANOW, &t) == 0;
}

TerminalMode::~TerminalMode() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
}

}  // namespace pvhv::dom0
