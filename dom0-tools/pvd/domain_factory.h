// The DomainFactory pvd runs with: the hv core's Domain, or a stub when it is not built.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "dom0-tools/pvd/guest_domain.h"

namespace pvhv::dom0 {

// The factory holds what pvd is as dom0 (the registry of domains, its event channels, and
// the back-ends it serves on `io`), so it outlives every domain it builds. Fails only if
// dom0's own services cannot be set up.
Result<std::unique_ptr<DomainFactory>> make_domain_factory(boost::asio::io_context& io);

}  // namespace pvhv::dom0
