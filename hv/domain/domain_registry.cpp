// The directory of live domains: add on creation, remove before the port table is destroyed.
#include "hv/domain/domain_registry.h"

#include <string>

namespace pvhv {

Result<void> DomainRegistry::add(DomId id, std::shared_ptr<PortTable> ports) {
    std::lock_guard lock(mu_);
    if (!ports_.try_emplace(id.value, std::move(ports)).second)
        return fail(XEN_EEXIST, "domain " + std::to_string(id.value) + " is already registered");
    return {};
}

void DomainRegistry::remove(DomId id) {
    std::shared_ptr<PortTable> gone;  // released after unlocking
    std::lock_guard lock(mu_);
    if (auto it = ports_.find(id.value); it != ports_.end()) {
        gone = std::move(it->second);
        ports_.erase(it);
    }
}

std::shared_ptr<PortTable> DomainRegistry::find_event_channels(DomId id) const {
    std::lock_guard lock(mu_);
    auto it = ports_.find(id.value);
    return it == ports_.end() ? nullptr : it->second;
}

}  // namespace pvhv
