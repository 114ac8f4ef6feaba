// Xenstore transactions: overlay reads and writes, generation checks at commit, id allocation.
#include "dom0-tools/xenstore/transaction.h"

namespace pvhv::xs {

void Transaction::touch(const std::string& path) {
    if (accessed_.contains(path)) return;
    if (max_nodes_ != 0 && accessed_.size() >= max_nodes_) {
        // Not remembered, so nothing may be changed: status() fails the operation.
        over_quota_ = true;
        return;
    }
    accessed_.emplace(path, store_.generation_of(path));
}

const Node* Transaction::get(const std::string& path) {
    touch(path);
    return peek(path);
}

const Node* Transaction::peek(const std::string& path) {
    if (const auto it = overlay_.find(path); it != overlay_.end())
        return it->second ? &*it->second : nullptr;
    return store_.find(path);
}

void Transaction::put(const std::string& path, Node node) {
    const Node* old = get(path);
    if (old) {
        --owned_delta_[old->perms[0].id.value];
        node.generation = old->generation;
    }
    ++owned_delta_[node.perms[0].id.value];
    overlay_.insert_or_assign(path, std::optional<Node>(std::move(node)));
}

void Transaction::erase(const std::string& path) {
    const Node* old = get(path);
    if (!old) return;
    --owned_delta_[old->perms[0].id.value];
    overlay_.insert_or_assign(path, std::optional<Node>());
}

uint32_t Transaction::owned_by(DomId domid) {
    const auto it = owned_delta_.find(domid.value);
    const int64_t n = int64_t{store_.owned_by(domid)} + (it == owned_delta_.end() ? 0 : it->second);
    return n < 0 ? 0 : static_cast<uint32_t>(n);
}

Result<void> Transaction::status() {
    if (over_quota_) return fail(quota_errno_, "transaction touches too many nodes");
    return {};
}

void Transaction::defer(std::vector<Change> changes) {
    for (auto& c : changes) changes_.push_back(std::move(c));
}

Result<std::vector<Change>> Transaction::commit() {
    if (auto s = status(); !s) return std::unexpected(s.error());
    for (const auto& [path, generation] : accessed_)
        if (store_.generation_of(path) != generation)
            return fail(XEN_EAGAIN, "transaction conflict on " + path);
    for (auto& [path, node] : overlay_) {
        if (node)
            store_.put(path, std::move(*node));
        else
            store_.erase(path);
    }
    overlay_.clear();
    return std::move(changes_);
}

Result<Transaction*> TransactionTable::start(Store& store, const Quotas& q, bool privileged) {
    if (!privileged && q.max_transactions != 0 && txs_.size() >= q.max_transactions)
        return quota_fail(q, QuotaKind::Transactions, "too many open transactions");
    // Ids are never 0 (no transaction) and never one still open, even after wrapping.
    while (next_id_ == 0 || txs_.contains(next_id_)) ++next_id_;
    const uint32_t id = next_id_++;
    auto tx = std::make_unique<Transaction>(store, id, privileged ? 0 : q.max_transaction_nodes,
                                            quota_errno(q, QuotaKind::TransactionNodes));
    Transaction* raw = tx.get();
    txs_.emplace(id, std::move(tx));
    return raw;
}

Transaction* TransactionTable::find(uint32_t id) {
    const auto it = txs_.find(id);
    return it == txs_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Transaction> TransactionTable::take(uint32_t id) {
    const auto it = txs_.find(id);
    if (it == txs_.end()) return nullptr;
    auto tx = std::move(it->second);
    txs_.erase(it);
    return tx;
}

}  // namespace pvhv::xs
