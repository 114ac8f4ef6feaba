// Xenstore watch registry: add/remove per connection, quota, and change-to-event matching.
#include "dom0-tools/xenstore/watches.h"

#include <algorithm>

#include "dom0-tools/xenstore/path.h"

namespace pvhv::xs {

Result<void> WatchRegistry::add(ConnId conn, DomId domid, std::string node, std::string token,
                                std::string registered, bool relative, const Quotas& q) {
    auto& list = by_node_[node];
    for (const Watch& w : list)
        if (w.conn == conn && w.token == token) return fail(XEN_EEXIST, node + ": already watched");
    if (domid != kDom0 && q.max_watches != 0 && count(domid) >= q.max_watches) {
        if (list.empty()) by_node_.erase(node);
        return quota_fail(q, QuotaKind::Watches, "too many watches");
    }
    const size_t strip = relative ? domain_path(domid).size() + 1 : 0;
    list.push_back(Watch{conn, domid, std::move(token), std::move(registered), strip});
    ++per_domain_[domid.value];
    return {};
}

Result<void> WatchRegistry::remove(ConnId conn, std::string_view node, std::string_view token) {
    const auto it = by_node_.find(node);
    if (it != by_node_.end()) {
        auto& list = it->second;
        const auto w = std::ranges::find_if(list, [&](const Watch& x) { return x.conn == conn && x.token == token; });
        if (w != list.end()) {
            --per_domain_[w->domid.value];
            list.erase(w);
            if (list.empty()) by_node_.erase(it);
            return {};
        }
    }
    return fail(XEN_ENOENT, std::string(node) + ": no such watch");
}

void WatchRegistry::remove_all(ConnId conn) {
    for (auto it = by_node_.begin(); it != by_node_.end();) {
        std::erase_if(it->second, [&](const Watch& w) {
            if (w.conn != conn) return false;
            --per_domain_[w.domid.value];
            return true;
        });
        it = it->second.empty() ? by_node_.erase(it) : std::next(it);
    }
}

uint32_t WatchRegistry::count(DomId domid) const {
    const auto it = per_domain_.find(domid.value);
    return it == per_domain_.end() ? 0 : it->second;
}

void WatchRegistry::match_node(std::string_view node, const Change& change,
                               std::vector<WatchEvent>& out) const {
    const auto it = by_node_.find(node);
    if (it == by_node_.end()) return;
    for (const Watch& w : it->second) {
        if (!change.visible_to(w.domid)) continue;
        const std::string_view path = std::string_view(change.path).substr(std::min(w.strip, change.path.size()));
        out.push_back(WatchEvent{w.conn, std::string(path), w.token, w.registered});
    }
}

void WatchRegistry::match(const Change& change, std::vector<WatchEvent>& out) const {
    match_node(change.path, change, out);
    if (change.exact || change.path.empty() || change.path[0] != '/') return;
    std::string_view p = change.path;
    while (p != "/") {
        p = parent_of(p);
        match_node(p, change, out);
    }
}

WatchEvent WatchRegistry::initial_event(ConnId conn, std::string_view registered, std::string_view token) {
    return WatchEvent{conn, std::string(registered), std::string(token), std::string(registered)};
}

}  // namespace pvhv::xs
