// Text dumps of a domain's PV state for `pvctl debug-dump` (xl debug-keys' nearest relative).
#pragma once

#include <span>
#include <string>

#include "hv/evtchn/port_table.h"
#include "hv/types.h"

namespace pvhv {

// One line per port in use: state, notify vCPU, and what it is bound to.
std::string describe_ports(DomId owner, std::span<const PortInfo> ports);

}  // namespace pvhv
