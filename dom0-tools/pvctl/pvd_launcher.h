// Starts a detached pvd for `pvctl create` when none is listening.
#pragma once

#include <chrono>
#include <string>

#include "hv/error.h"
#include "hv/unique_fd.h"

namespace pvhv::dom0 {

// The pvd binary: $PVHV_PVD if set, else "pvd" next to the running executable
// (/proc/self/exe; the build puts both in bin/).
Result<std::string> find_pvd_binary();

// Runs `pvd --runtime-dir DIR --exit-when-idle` in its own session (setsid, double fork:
// it is not our child and outlives us), stdin/stdout on /dev/null, stderr appended to
// DIR/pvd.log. Returns the first connection to its control socket (a probe connection
// that closed again would make an idle --exit-when-idle pvd exit at once), or fails after
// `timeout` pointing at the log.
Result<UniqueFd> start_pvd(const std::string& runtime_dir,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace pvhv::dom0
