// Xenstore transactions: a private copy-on-write view of the store, committed unless it conflicts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dom0-tools/xenstore/quota.h"
#include "dom0-tools/xenstore/store.h"
#include "dom0-tools/xenstore/tree_ops.h"
#include "hv/error.h"

namespace pvhv::xs {

// As cxenstored (since Xen 4.9): the transaction remembers the generation of every node it
// read or wrote (kNoGeneration for a node it found missing) the first time it touched it,
// keeps its writes to itself, and at commit fails with EAGAIN if any remembered node has
// changed in the store since. Watch events of its changes fire only after a commit.
class Transaction final : public NodeAccess {
public:
    // `max_nodes` limits the distinct nodes touched (0: no limit); exceeding it makes
    // status() fail with `quota_errno`.
    Transaction(Store& store, uint32_t id, uint32_t max_nodes, int quota_errno)
        : store_(store), id_(id), max_nodes_(max_nodes), quota_errno_(quota_errno) {}

    uint32_t id() const { return id_; }

    const Node* get(const std::string& path) override;
    const Node* peek(const std::string& path) override;
    void put(const std::string& path, Node node) override;
    void erase(const std::string& path) override;
    uint32_t owned_by(DomId domid) override;
    Result<void> status() override;

    void defer(std::vector<Change> changes);
    // Applies the writes if nothing touched changed; returns the changes to fire.
    // EAGAIN (store untouched) otherwise.
    Result<std::vector<Change>> commit();

private:
    void touch(const std::string& path);

    Store& store_;
    uint32_t id_;
    uint32_t max_nodes_;
    int quota_errno_;
    bool over_quota_ = false;
    std::unordered_map<std::string, uint64_t> accessed_;          // path -> generation seen
    std::map<std::string, std::optional<Node>, std::less<>> overlay_;  // nullopt: removed
    std::unordered_map<uint16_t, int64_t> owned_delta_;
    std::vector<Change> changes_;
};

// The open transactions of one connection, with ids as xenstored hands them out.
class TransactionTable {
public:
    // Fails with the Transactions quota error when `q.max_transactions` are open
    // (unless `privileged`).
    Result<Transaction*> start(Store& store, const Quotas& q, bool privileged);
    Transaction* find(uint32_t id);
    std::unique_ptr<Transaction> take(uint32_t id);
    void clear() { txs_.clear(); }
    size_t size() const { return txs_.size(); }

private:
    std::map<uint32_t, std::unique_ptr<Transaction>> txs_;
    uint32_t next_id_ = 1;
};

}  // namespace pvhv::xs
