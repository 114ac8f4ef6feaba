// RAII raw terminal mode for console attach, restored on every way out, signals included.
#include "dom0-tools/pvctl/terminal.h"

#include <unistd.h>

#include <csignal>
#include <iterator>

namespace pvhv::dom0 {

namespace {

// For the fatal-signal handler: what to restore. Written before the handler is installed.
int g_fd = -1;
termios g_saved{};
constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT};
struct sigaction g_old[std::size(kFatalSignals)];

void restore_and_reraise(int sig) {
    ::tcsetattr(g_fd, TCSANOW, &g_saved);  // async-signal-safe
    ::signal(sig, SIG_DFL);
    ::raise(sig);  // delivered when the handler returns, with the default action
}

}  // namespace

TerminalMode::TerminalMode(int fd, bool keep_signals) : fd_(fd) {
    if (fd_ < 0 || !::isatty(fd_) || ::tcgetattr(fd_, &saved_) != 0) return;
    termios t = saved_;
    t.c_iflag &= static_cast<tcflag_t>(
        ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF));
    t.c_lflag &= static_cast<tcflag_t>(~(ECHO | ECHONL | ICANON | IEXTEN));
    if (!keep_signals) t.c_lflag &= static_cast<tcflag_t>(~ISIG);
    t.c_cflag = static_cast<tcflag_t>((t.c_cflag & ~(CSIZE | PARENB)) | CS8);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    g_fd = fd_;
    g_saved = saved_;
    struct sigaction sa {};
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < std::size(kFatalSignals); ++i)
        ::sigaction(kFatalSignals[i], &sa, &g_old[i]);
    active_ = ::tcsetattr(fd_, TCSANOW, &t) == 0;
    if (!active_) restore_handlers();
}

TerminalMode::~TerminalMode() {
    if (!active_) return;
    ::tcsetattr(fd_, TCSANOW, &saved_);
    restore_handlers();
}

void TerminalMode::restore_handlers() {
    for (size_t i = 0; i < std::size(kFatalSignals); ++i)
        ::sigaction(kFatalSignals[i], &g_old[i], nullptr);
}

bool is_foreground_terminal(int fd) {
    if (fd < 0 || !::isatty(fd)) return false;
    // Job control applies to the controlling terminal only; any other terminal is ours to use.
    const pid_t fg = ::tcgetpgrp(fd);
    return fg < 0 || fg == ::getpgrp();
}

}  // namespace pvhv::dom0
