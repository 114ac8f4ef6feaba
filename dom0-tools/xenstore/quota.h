// Per-domain xenstore quotas (xenstored's -E/-S/-W/-t/-A and friends) and the errors they raise.
#pragma once

#include <cstdint>
#include <string>

#include "hv/error.h"

namespace pvhv::xs {

// Which daemon's error strings a quota violation produces. cxenstored (the C daemon, the
// default in Xen) answers ENOSPC/E2BIG; oxenstored answers EQUOTA (E2BIG for oversized
// nodes). Linux maps unknown strings like EQUOTA to EINVAL, so the default is cxenstored.
enum class QuotaStyle { CXenstored, OXenstored };

// Limits for one unprivileged domain; dom0 is never limited. 0 means "no limit".
struct Quotas {
    uint32_t max_nodes = 1000;        // nodes owned by the domain
    uint32_t max_entry_size = 2048;   // bytes of one node record (value, children, perms)
    uint32_t max_watches = 128;       // registered watches
    uint32_t max_transactions = 10;   // open transactions
    uint32_t max_perms = 5;           // entries in one node's permission list
    uint32_t max_path_length = 2048;  // bytes below /local/domain/<id>/ (XENSTORE_REL_PATH_MAX)
    uint32_t max_transaction_nodes = 1024;  // distinct nodes one transaction touches
    uint32_t max_request_size = 4096;       // request payload bytes (<= XENSTORE_PAYLOAD_MAX)
    // Replies and watch events waiting for room in the response ring. Above this, no new
    // request is read (the guest must consume its replies first); watch events that would
    // push the queue past twice this are dropped and counted, as xenstored drops them.
    uint32_t max_output_bytes = 64 * 1024;
    QuotaStyle style = QuotaStyle::CXenstored;
};

enum class QuotaKind { Nodes, EntrySize, Watches, Transactions, Perms, TransactionNodes };

// The Xen errno (or kEQuota) a violation of `kind` produces under `q.style`.
int quota_errno(const Quotas& q, QuotaKind kind);

inline std::unexpected<Error> quota_fail(const Quotas& q, QuotaKind kind, std::string message) {
    return fail(quota_errno(q, kind), std::move(message));
}

// A node record's size as cxenstored accounts it against max_entry_size: its header,
// 8 bytes per permission, the value and the NUL-separated child names.
size_t entry_size(size_t value_len, size_t children_len, size_t n_perms);

}  // namespace pvhv::xs
