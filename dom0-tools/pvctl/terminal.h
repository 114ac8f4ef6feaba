// RAII terminal mode for `pvctl console`: keystrokes arrive one by one so Ctrl-] detaches.
#pragma once

#include <termios.h>

namespace pvhv::dom0 {

// Clears ICANON and ECHO on `fd` (if it is a terminal) and restores the old mode on
// destruction. ISIG stays on: with no console input path into the guest yet, Ctrl-C
// should still stop pvctl (xl console's full raw mode arrives with console input).
class TerminalMode {
  public:
    explicit TerminalMode(int fd);
    ~TerminalMode();
    TerminalMode(const TerminalMode&) = delete;
    TerminalMode& operator=(const TerminalMode&) = delete;

  private:
    int fd_ = -1;
    termios saved_{};
    bool active_ = false;
};

inline constexpr char kDetachChar = 0x1d;  // Ctrl-]

}  // namespace pvhv::dom0
