// ConsoleBacklog: per-domain coalescing of console output with a bound and a drop count.
#include "dom0-tools/pvd/console_backlog.h"

#include <algorithm>

namespace pvhv::dom0 {

bool ConsoleBacklog::append(DomId id, std::string_view bytes) {
    if (bytes.empty()) return false;
    std::lock_guard lock(mu_);
    Pending& p = pending_[id.value];
    if (p.dropped == 0) {
        const size_t keep = std::min(bytes.size(), kMaxBytesPerDomain - p.bytes.size());
        p.bytes.append(bytes.substr(0, keep));
        p.dropped = bytes.size() - keep;
    } else {
        p.dropped += bytes.size();  // once dropping, until drained: one gap, not many holes
    }
    return !std::exchange(drain_posted_, true);
}

std::string ConsoleBacklog::finish(Pending& p) {
    std::string out = std::move(p.bytes);
    if (p.dropped != 0)
        out += "\r\n[pvd: " + std::to_string(p.dropped) +
               " bytes of console output dropped: the guest wrote faster than pvd could keep up]\r\n";
    return out;
}

std::vector<std::pair<DomId, std::string>> ConsoleBacklog::take_all() {
    std::lock_guard lock(mu_);
    drain_posted_ = false;
    std::vector<std::pair<DomId, std::string>> out;
    out.reserve(pending_.size());
    for (auto& [id, p] : pending_) out.emplace_back(DomId{id}, finish(p));
    pending_.clear();
    return out;
}

std::string ConsoleBacklog::take(DomId id) {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id.value);
    if (it == pending_.end()) return {};
    std::string out = finish(it->second);
    pending_.erase(it);
    return out;
}

}  // namespace pvhv::dom0
