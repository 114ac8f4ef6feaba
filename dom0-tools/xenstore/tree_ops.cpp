// Xenstore node operations: permissions, parent creation, subtree removal, quotas, changes.
#include "dom0-tools/xenstore/tree_ops.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "dom0-tools/xenstore/path.h"
#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace pvhv::xs {

bool Change::visible_to(DomId domid) const {
    if (domid == kDom0) return true;
    return std::ranges::any_of(readers, [&](const Perms& p) { return perm_for(domid, p) & kPermRead; });
}

Result<const Node*> TreeOps::get_node(const std::string& path, unsigned need) {
    int err = XEN_ENOENT;
    if (const Node* n = a_.get(path)) {
        if ((perm_for(caller_, n->perms) & need) == need) return n;
        err = XEN_EACCES;
    }
    unsigned parent_perm = kPermNone;
    std::string p = path;
    while (p != "/") {
        p = std::string(parent_of(p));
        if (const Node* anc = a_.get(p)) {
            parent_perm = perm_for(caller_, anc->perms);
            break;
        }
    }
    // A transaction past its node quota answers that, whatever else went wrong.
    if (auto s = a_.status(); !s) return std::unexpected(s.error());
    if (parent_perm & need) return fail(err, path);
    return fail(XEN_EACCES, path);
}

Perms TreeOps::parent_perms(const std::string& path) {
    if (path == "/") return {};
    const Node* parent = a_.peek(std::string(parent_of(path)));
    return parent ? parent->perms : Perms{};
}

Result<void> TreeOps::check_entry_size(const std::string& path, const Node& n) const {
    if (privileged() || q_.max_entry_size == 0) return {};
    if (entry_size(n.value.size(), n.children_bytes(), n.perms.size()) >= q_.max_entry_size)
        return quota_fail(q_, QuotaKind::EntrySize, path + ": node too big");
    return {};
}

Result<std::string> TreeOps::read(const std::string& path) {
    auto n = get_node(path, kPermRead);
    if (!n) return std::unexpected(n.error());
    std::string value = (*n)->value;
    if (auto s = a_.status(); !s) return std::unexpected(s.error());
    return value;
}

Result<std::vector<std::string>> TreeOps::directory(const std::string& path) {
    auto n = get_node(path, kPermRead);
    if (!n) return std::unexpected(n.error());
    std::vector<std::string> children = (*n)->children;
    if (auto s = a_.status(); !s) return std::unexpected(s.error());
    return children;
}

Result<std::string> TreeOps::directory_part(const std::string& path, uint32_t offset) {
    auto n = get_node(path, kPermRead);
    if (!n) return std::unexpected(n.error());
    std::string children;
    for (const auto& c : (*n)->children) {
        children += c;
        children += '\0';
    }
    std::string out = std::to_string((*n)->generation);
    out += '\0';
    if (auto s = a_.status(); !s) return std::unexpected(s.error());
    if (offset >= children.size()) {
        out += '\0';
        return out;
    }
    // As xenstored: whole names (the first may be cut by an offset inside a name) while
    // they fit, so the client can continue at offset + len.
    const size_t max_len = XENSTORE_PAYLOAD_MAX - out.size() - 1;
    size_t len = 0;
    while (true) {
        const size_t start = offset + len;
        const size_t name_len = children.find('\0', start) - start;
        if (len + name_len >= max_len) break;
        len += name_len + 1;
        if (offset + len == children.size()) break;
    }
    out.append(children, offset, len);
    if (offset + len == children.size()) out += '\0';
    return out;
}

Result<Perms> TreeOps::get_perms(const std::string& path) {
    auto n = get_node(path, kPermRead);
    if (!n) return std::unexpected(n.error());
    Perms perms = (*n)->perms;
    if (auto s = a_.status(); !s) return std::unexpected(s.error());
    return perms;
}

Result<void> TreeOps::create(const std::string& path, std::string_view value) {
    // The missing nodes, deepest first, and the nearest existing ancestor ("/" always exists).
    std::vector<std::string> missing{path};
    std::string anc_path(parent_of(path));
    const Node* anc = nullptr;
    while (!(anc = a_.get(anc_path))) {
        missing.push_back(anc_path);
        anc_path = std::string(parent_of(anc_path));
    }
    Node parent = *anc;
    if (auto s = a_.status(); !s) return s;

    // New nodes inherit the ancestor's permissions; an unprivileged creator owns them.
    Perms inherited = parent.perms;
    if (!privileged()) inherited[0].id = caller_;
    if (!privileged() && q_.max_nodes != 0 &&
        a_.owned_by(caller_) + missing.size() > q_.max_nodes)
        return quota_fail(q_, QuotaKind::Nodes, path + ": too many nodes");

    parent.children.emplace_back(basename_of(missing.back()));
    if (auto r = check_entry_size(anc_path, parent); !r) return r;
    std::vector<Node> fresh(missing.size());
    for (size_t i = 0; i < missing.size(); ++i) {
        fresh[i].perms = inherited;
        if (i == 0)
            fresh[i].value = std::string(value);
        else
            fresh[i].children.emplace_back(basename_of(missing[i - 1]));
        if (auto r = check_entry_size(missing[i], fresh[i]); !r) return r;
    }

    const Perms direct_parent = missing.size() > 1 ? inherited : parent.perms;
    a_.put(anc_path, std::move(parent));
    for (size_t i = missing.size(); i-- > 0;) a_.put(missing[i], std::move(fresh[i]));
    changes_.push_back(Change{path, false, {inherited, direct_parent}});
    return {};
}

Result<void> TreeOps::write(const std::string& path, std::string_view value) {
    auto n = get_node(path, kPermWrite);
    if (!n) {
        if (n.error().xen_errno != XEN_ENOENT) return std::unexpected(n.error());
        return create(path, value);
    }
    Node node = **n;
    node.value = std::string(value);
    Perms readers_parent = parent_perms(path);
    if (auto s = a_.status(); !s) return s;
    if (auto r = check_entry_size(path, node); !r) return r;
    Perms perms = node.perms;
    a_.put(path, std::move(node));
    changes_.push_back(Change{path, false, {std::move(perms), std::move(readers_parent)}});
    return {};
}

Result<void> TreeOps::mkdir(const std::string& path) {
    auto n = get_node(path, kPermWrite);
    if (n) return a_.status();  // already there: nothing changes, nothing fires
    if (n.error().xen_errno != XEN_ENOENT) return std::unexpected(n.error());
    return create(path, "");
}

Result<void> TreeOps::rm(const std::string& path) {
    auto n = get_node(path, kPermWrite);
    if (!n) {
        if (n.error().xen_errno != XEN_ENOENT) return std::unexpected(n.error());
        // Removing what is not there is fine as long as its parent exists.
        if (path != "/" && a_.get(std::string(parent_of(path)))) return a_.status();
        return std::unexpected(n.error());
    }
    if (path == "/") return fail(XEN_EINVAL, "cannot remove /");

    // The subtree, top first; each entry with its own and its parent's permissions.
    struct Doomed {
        std::string path;
        Perms perms, parent_perms;
    };
    Perms perms = (*n)->perms;
    const std::string parent_path(parent_of(path));
    const Node* pp = a_.get(parent_path);
    if (!pp) return fail(XEN_EINVAL, path + ": no parent");
    Node parent = *pp;
    std::vector<Doomed> doomed{{path, std::move(perms), parent.perms}};
    for (size_t i = 0; i < doomed.size(); ++i) {
        const Node* d = a_.get(doomed[i].path);
        if (!d) continue;  // cannot happen in a consistent tree
        const std::vector<std::string> kids = d->children;
        const Perms perms = d->perms;
        for (const auto& k : kids) {
            std::string kp = child_path(doomed[i].path, k);
            const Node* kn = a_.get(kp);
            if (kn) doomed.push_back({std::move(kp), kn->perms, perms});
        }
    }
    if (auto s = a_.status(); !s) return s;

    std::erase(parent.children, std::string(basename_of(path)));
    for (const auto& d : doomed) a_.erase(d.path);
    a_.put(parent_path, std::move(parent));
    for (size_t i = 0; i < doomed.size(); ++i)
        changes_.push_back(Change{std::move(doomed[i].path), i != 0,
                                  {std::move(doomed[i].perms), std::move(doomed[i].parent_perms)}});
    return {};
}

Result<void> TreeOps::set_perms(const std::string& path, const Perms& perms) {
    if (perms.empty()) return fail(XEN_EINVAL, path + ": empty permission list");
    if (!privileged() && q_.max_perms != 0 && perms.size() > q_.max_perms)
        return quota_fail(q_, QuotaKind::Perms, path + ": too many permissions");
    auto n = get_node(path, kPermWrite | kPermOwner);
    if (!n) return std::unexpected(n.error());
    // Unprivileged owners may share their nodes but not give them away.
    if (!privileged() && perms[0].id != (*n)->perms[0].id)
        return fail(XEN_EPERM, path + ": only dom0 changes owners");
    Node node = **n;
    Perms old = std::move(node.perms);
    node.perms = perms;
    Perms readers_parent = parent_perms(path);
    if (auto s = a_.status(); !s) return s;
    if (auto r = check_entry_size(path, node); !r) return r;
    a_.put(path, std::move(node));
    changes_.push_back(Change{path, false, {perms, std::move(old), std::move(readers_parent)}});
    return {};
}

}  // namespace pvhv::xs
