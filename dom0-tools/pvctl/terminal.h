// RAII raw terminal mode for `pvctl console`: keystrokes go to the guest one by one.
#pragma once

#include <termios.h>

namespace pvhv::dom0 {

// On a terminal `fd`, switches input to raw mode (as xl console's cfmakeraw: no echo, no line
// editing, no CR/NL translation, no flow control, 8-bit; and no signals from keys unless
// `keep_signals`, so Ctrl-C reaches the guest). Output processing stays on: pvctl's own
// messages and guests that end lines with a bare "\n" stay readable, and "\r\n" from a Linux
// tty is unaffected. The old mode comes back in the destructor and, should pvctl die of a
// signal meanwhile (SIGSEGV, SIGABRT, SIGQUIT, ...), in a handler that restores it and then
// lets the signal take its course. SIGINT/SIGTERM/SIGHUP are InterruptGuard's: they unwind
// through this destructor. One instance at a time.
class TerminalMode {
  public:
    TerminalMode(int fd, bool keep_signals);
    ~TerminalMode();
    TerminalMode(const TerminalMode&) = delete;
    TerminalMode& operator=(const TerminalMode&) = delete;
    bool active() const { return active_; }

  private:
    static void restore_handlers();
    int fd_ = -1;
    termios saved_{};
    bool active_ = false;
};

inline constexpr char kDetachChar = 0x1d;  // Ctrl-], as xl console and virsh console

// Whether `fd` is a terminal this process may read and switch to raw mode: not its controlling
// terminal, or that terminal with pvctl in the foreground process group (a background
// `pvctl ... &` would be stopped by SIGTTIN/SIGTTOU).
bool is_foreground_terminal(int fd);

}  // namespace pvhv::dom0
