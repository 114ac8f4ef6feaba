// The control/shutdown protocol as xl speaks it: dom0 writes a command, the guest clears it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dom0-tools/xenstore/client.h"
#include "hv/domain/shutdown_reason.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::dom0 {

// The word xl (libxl__domain_pvcontrol) writes to control/shutdown for `reason`: "poweroff"
// or "reboot". nullopt for reasons a guest is never asked for (crash, watchdog, ...; suspend
// belongs to save/migrate, which pvhv does not have yet).
std::optional<std::string_view> shutdown_command(ShutdownReason reason);

// One domain's control/shutdown node as the toolstack sees it. request() writes the command;
// the guest acknowledges by clearing the node (Linux's xenbus writes "" in a transaction),
// which a dom0 watch notices and logs. Loop thread only: the watch callback runs through the
// store's executor, and ~PvShutdown unwatches, after which no callback runs.
class PvShutdown {
  public:
    static Result<std::unique_ptr<PvShutdown>> watch(xs::XsClient& dom0, DomId id, std::string name);
    ~PvShutdown();
    PvShutdown(const PvShutdown&) = delete;
    PvShutdown& operator=(const PvShutdown&) = delete;

    Result<void> request(ShutdownReason reason);
    // The command written last that the guest has not cleared yet ("" when none).
    const std::string& outstanding() const { return outstanding_; }

  private:
    PvShutdown(xs::XsClient& dom0, DomId id, std::string name);
    void changed();

    xs::XsClient& dom0_;
    const DomId id_;
    const std::string name_;  // for log lines
    const std::string path_;  // /local/domain/<id>/control/shutdown
    const std::string token_;
    std::string outstanding_;
    bool watching_ = false;
};

}  // namespace pvhv::dom0
