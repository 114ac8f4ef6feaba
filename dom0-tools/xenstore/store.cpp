// The committed xenstore tree and its bookkeeping (generations, per-owner node counts).
#include "dom0-tools/xenstore/store.h"

#include <set>

#include "dom0-tools/xenstore/path.h"

namespace pvhv::xs {

size_t Node::children_bytes() const {
    size_t n = 0;
    for (const auto& c : children) n += c.size() + 1;
    return n;
}

Store::Store() {
    const Perms dom0_only{Perm{kDom0, kPermNone}};
    put("/", Node{"", dom0_only, {"tool"}, 0});
    put("/tool", Node{"", dom0_only, {"xenstored"}, 0});
    put("/tool/xenstored", Node{"", dom0_only, {}, 0});
}

const Node* Store::find(std::string_view path) const {
    const auto it = nodes_.find(path);
    return it == nodes_.end() ? nullptr : &it->second;
}

uint64_t Store::generation_of(std::string_view path) const {
    const Node* n = find(path);
    return n ? n->generation : kNoGeneration;
}

void Store::count(const Node& n, int delta) {
    if (n.perms.empty()) return;
    auto& c = owned_[n.perms[0].id.value];
    c = static_cast<uint32_t>(static_cast<int64_t>(c) + delta);
}

void Store::put(const std::string& path, Node node) {
    node.generation = next_generation_++;
    count(node, +1);
    auto [it, inserted] = nodes_.try_emplace(path);
    if (!inserted) count(it->second, -1);
    it->second = std::move(node);
}

void Store::erase(const std::string& path) {
    const auto it = nodes_.find(path);
    if (it == nodes_.end()) return;
    count(it->second, -1);
    nodes_.erase(it);
}

uint32_t Store::owned_by(DomId domid) const {
    const auto it = owned_.find(domid.value);
    return it == owned_.end() ? 0 : it->second;
}

Result<void> Store::check_invariants() const {
    std::unordered_map<uint16_t, uint32_t> owners;
    std::set<uint64_t> generations;
    if (!find("/")) return fail(XEN_EIO, "no root node");
    for (const auto& [path, node] : nodes_) {
        if (node.perms.empty()) return fail(XEN_EIO, path + ": empty permissions");
        ++owners[node.perms[0].id.value];
        if (!generations.insert(node.generation).second)
            return fail(XEN_EIO, path + ": generation not unique");
        std::set<std::string_view> seen;
        for (const auto& c : node.children) {
            if (c.empty() || c.find('/') != std::string::npos || !seen.insert(c).second)
                return fail(XEN_EIO, path + ": bad or duplicate child '" + c + "'");
            if (!find(child_path(path, c))) return fail(XEN_EIO, path + ": missing child " + c);
        }
        if (path == "/") continue;
        const Node* parent = find(parent_of(path));
        if (!parent) return fail(XEN_EIO, path + ": orphan");
        const auto base = basename_of(path);
        bool listed = false;
        for (const auto& c : parent->children) listed |= (c == base);
        if (!listed) return fail(XEN_EIO, path + ": not listed by its parent");
    }
    for (const auto& [id, n] : owned_)
        if (n != (owners.contains(id) ? owners[id] : 0))
            return fail(XEN_EIO, "owner count of dom" + std::to_string(id) + " is wrong");
    for (const auto& [id, n] : owners)
        if (owned_by(DomId{id}) != n)
            return fail(XEN_EIO, "owner count of dom" + std::to_string(id) + " is missing");
    return {};
}

}  // namespace pvhv::xs
