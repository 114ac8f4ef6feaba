// Append-only log file of one domain's console output ($PVHV_RUNTIME_DIR/console/<name>.log).
#pragma once

#include <string>
#include <string_view>

#include "hv/error.h"
#include "hv/unique_fd.h"

namespace pvhv::dom0 {

class ConsoleLog {
  public:
    // Opens (creating, mode 0600: consoles carry secrets) for appending. Restarted domains
    // append to the same file, like xenconsoled's guest logs.
    static Result<ConsoleLog> open(const std::string& path);

    // Best effort: a full disk must not stop the guest. Reports the first failure only.
    void append(std::string_view bytes);
    const std::string& path() const { return path_; }

  private:
    ConsoleLog(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    UniqueFd fd_;
    std::string path_;
    bool failed_ = false;
};

}  // namespace pvhv::dom0
