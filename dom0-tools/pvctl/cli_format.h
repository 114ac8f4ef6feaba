// Text and JSON renderings of pvd's replies for pvctl list / info / top.
#pragma once

#include <string>

#include "control.pb.h"

namespace pvhv::dom0 {

// `xl list` layout: Name, ID, Mem, VCPUs, State (xl's six flags r b p s c d), Time(s).
// Time is vCPU time; "-" until the hv core reports it.
std::string format_list_table(const control::ListResponse& list);
// `pvctl list -l`: a JSON array, one object per domain with its full config.
std::string format_list_json(const control::ListResponse& list);
std::string format_info(const control::InfoResponse& info, const std::string& pvctl_version);
// One block per domain: exits by reason, hypercalls by name, sorted by count; then each PV
// device's back-end counters.
std::string format_top(const control::TopResponse& top);
// `pvctl top -l`: the same counters as JSON for scripts (bench/pv-io.sh): an array of
// {"domid", "name", "exits": {...}, "hypercalls": {...}, "hypercall_enosys", "mmio_unclaimed",
//  "devices": [{"kind": "vbd"|"vif", "devid", "name", "counters": {...}}]}.
std::string format_top_json(const control::TopResponse& top);
// `xl block-list` / `xl network-list` tables (numbers the guest has not written show as -1).
std::string format_block_list(const control::DeviceListResponse& list);
std::string format_network_list(const control::DeviceListResponse& list);

std::string xl_state_flags(const control::DomainInfo& d);
std::string json_escape(std::string_view s);

}  // namespace pvhv::dom0
