// The permission-checked node operations (READ, WRITE, MKDIR, RM, ...) with xenstored's semantics.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dom0-tools/xenstore/perms.h"
#include "dom0-tools/xenstore/quota.h"
#include "dom0-tools/xenstore/store.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::xs {

// A change to report to watches. `exact` changes (the descendants of a removed node)
// reach only watches on exactly that path; others reach watches on the path and its
// ancestors. A watcher sees the change when it may read under any of `readers` (the
// node's old and new permissions and its parent's, as xenstored's watch_permitted).
struct Change {
    std::string path;
    bool exact = false;
    std::vector<Perms> readers;

    bool visible_to(DomId domid) const;
};

// One operation on behalf of `caller` against `access` (the store or a transaction). Paths
// are canonical and valid (the caller of TreeOps checks them). Every operation reads all it
// needs, then checks limits, then changes: it fails without changing anything. Successful
// changes are appended to `changes`.
class TreeOps {
public:
    TreeOps(NodeAccess& access, DomId caller, const Quotas& quotas, std::vector<Change>& changes)
        : a_(access), caller_(caller), q_(quotas), changes_(changes) {}

    Result<std::string> read(const std::string& path);
    Result<std::vector<std::string>> directory(const std::string& path);
    // DIRECTORY_PART's reply: generation, NUL, children from byte `offset` that fit in one
    // message, and an extra NUL when the list is complete.
    Result<std::string> directory_part(const std::string& path, uint32_t offset);
    Result<Perms> get_perms(const std::string& path);
    Result<void> write(const std::string& path, std::string_view value);
    Result<void> mkdir(const std::string& path);
    Result<void> rm(const std::string& path);
    Result<void> set_perms(const std::string& path, const Perms& perms);

private:
    bool privileged() const { return caller_ == kDom0; }
    // xenstored's get_node + errno_from_parents: a caller who may not see a missing node
    // learns EACCES rather than ENOENT, judged by the nearest existing ancestor.
    Result<const Node*> get_node(const std::string& path, unsigned need);
    Result<void> create(const std::string& path, std::string_view value);
    Result<void> check_entry_size(const std::string& path, const Node& n) const;
    Perms parent_perms(const std::string& path);

    NodeAccess& a_;
    DomId caller_;
    const Quotas& q_;
    std::vector<Change>& changes_;
};

}  // namespace pvhv::xs
