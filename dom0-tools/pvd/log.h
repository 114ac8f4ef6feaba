// pvd's log: one timestamped line per event on stderr (pvctl redirects it to pvd.log).
#pragma once

#include <string>

namespace pvhv::dom0 {

void log_info(const std::string& msg);
void log_warn(const std::string& msg);
void log_error(const std::string& msg);

}  // namespace pvhv::dom0
