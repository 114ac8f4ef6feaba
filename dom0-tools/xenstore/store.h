// The xenstore tree: nodes keyed by absolute path, generation counters, nodes owned per domain.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dom0-tools/xenstore/perms.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::xs {

// What xenstored calls NO_GENERATION: the generation of a node that does not exist.
inline constexpr uint64_t kNoGeneration = std::numeric_limits<uint64_t>::max();

struct Node {
    std::string value;                  // bytes, not NUL-terminated, may contain NULs
    Perms perms;                        // never empty
    std::vector<std::string> children;  // child names in creation order, as xenstored lists them
    uint64_t generation = 0;            // bumped on every change, unique across the store

    size_t children_bytes() const;      // the NUL-separated list's length
};

// How tree operations reach nodes: directly in the store, or through a transaction's
// private copy. Pointers returned by get() are valid until the next put()/erase().
class NodeAccess {
public:
    virtual ~NodeAccess() = default;
    virtual const Node* get(const std::string& path) = 0;
    // A look that is not an access: a transaction does not conflict over it. Only for
    // deciding who may see a watch event, never for the operation's own data.
    virtual const Node* peek(const std::string& path) { return get(path); }
    virtual void put(const std::string& path, Node node) = 0;  // generation is assigned
    virtual void erase(const std::string& path) = 0;
    virtual uint32_t owned_by(DomId domid) = 0;  // nodes whose owner (perms[0]) is domid
    // Fails once the access exceeded a limit (a transaction's node quota); operations
    // check it after reading and before changing anything.
    virtual Result<void> status() { return {}; }
};

// The committed tree. Not thread-safe: the Xenstore lock guards it.
class Store {
public:
    Store();  // "/" (owned by dom0, "n0") and "/tool/xenstored", as xenstored starts

    const Node* find(std::string_view path) const;
    uint64_t generation_of(std::string_view path) const;
    void put(const std::string& path, Node node);
    void erase(const std::string& path);
    uint32_t owned_by(DomId domid) const;
    size_t size() const { return nodes_.size(); }

    // Consistency of the tree (children lists and nodes agree, every node has a parent, owner
    // counts match the nodes): for tests and fuzzing.
    Result<void> check_invariants() const;

private:
    void count(const Node& n, int delta);

    std::map<std::string, Node, std::less<>> nodes_;
    uint64_t next_generation_ = 1;
    std::unordered_map<uint16_t, uint32_t> owned_;
};

// NodeAccess straight onto the store (requests outside a transaction).
class DirectAccess final : public NodeAccess {
public:
    explicit DirectAccess(Store& s) : store_(s) {}
    const Node* get(const std::string& path) override { return store_.find(path); }
    void put(const std::string& path, Node node) override { store_.put(path, std::move(node)); }
    void erase(const std::string& path) override { store_.erase(path); }
    uint32_t owned_by(DomId domid) override { return store_.owned_by(domid); }

private:
    Store& store_;
};

}  // namespace pvhv::xs
