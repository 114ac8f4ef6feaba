// pvctl's commands (create, list, destroy, shutdown, console, info, top, help).
#pragma once

#include <span>

#include "dom0-tools/pvctl/command_table.h"

namespace pvhv::dom0 {

std::span<const Command> pvctl_commands();

}  // namespace pvhv::dom0
