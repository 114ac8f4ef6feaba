// DomainImpl::debug_dump and the event-channel table's text form.
#include "hv/domain/debug_dump.h"

#include <cstdio>

#include "hv/domain/domain_impl.h"

namespace pvhv {

namespace {

const char* state_name(PortState s) {
    switch (s) {
        case PortState::Free: return "free";
        case PortState::Reserved: return "reserved";
        case PortState::Unbound: return "unbound";
        case PortState::Interdomain: return "interdomain";
        case PortState::Virq: return "virq";
        case PortState::Ipi: return "ipi";
    }
    return "?";
}

}  // namespace

std::string describe_ports(DomId owner, std::span<const PortInfo> ports) {
    std::string out = "d" + std::to_string(owner.value) + " event channels (2-level): " +
                      std::to_string(ports.size()) + " ports in use\n";
    for (const auto& p : ports) {
        char line[128];
        int n = std::snprintf(line, sizeof line, "  port %4u %-11s vcpu %u", p.port.value,
                              state_name(p.state), p.vcpu.value);
        switch (p.state) {
            case PortState::Unbound:
                std::snprintf(line + n, sizeof line - n, " for d%u", p.remote_dom.value);
                break;
            case PortState::Interdomain:
                std::snprintf(line + n, sizeof line - n, " to d%u port %u", p.remote_dom.value,
                              p.remote_port.value);
                break;
            case PortState::Virq:
                std::snprintf(line + n, sizeof line - n, " virq %u", p.virq);
                break;
            default:
                break;
        }
        out += line;
        out += "\n";
    }
    return out;
}

std::string DomainImpl::debug_dump() const {
    std::string out = "d" + std::to_string(id_.value) + " (" + config_.name + ") " +
                      to_string(state()) + "\n";
    if (ports_) {
        const auto ports = ports_->dump();
        out += describe_ports(id_, ports);
    }
    if (grant_table_) out += grant_table_->describe();
    if (physmap_) {
        std::lock_guard lock(physmap_mu_);
        out += "d" + std::to_string(id_.value) + " pages placed at run time (grant frames): " +
               std::to_string(physmap_->size()) + "\n";
        out += physmap_->describe();
    }
    return out;
}

}  // namespace pvhv
