// The DomainFactory pvd runs with: the hv core's Domain, or a stub when it is not built.
#pragma once

#include <memory>

#include "dom0-tools/pvd/guest_domain.h"

namespace pvhv::dom0 {

std::unique_ptr<DomainFactory> make_domain_factory();

}  // namespace pvhv::dom0
