// Host facts for `pvctl info`: KVM API version and the capabilities pvhv cares about.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pvhv::dom0 {

// Ordered key/value pairs; a missing /dev/kvm is a fact too, not an error.
// TODO(hv core): take these from hv/kvm's capability probe once it exists, so pvctl info
// and Domain::create agree by construction.
std::vector<std::pair<std::string, std::string>> probe_host();

}  // namespace pvhv::dom0
