// Quota errors per daemon flavour, and the node record size the entry-size quota measures.
#include "dom0-tools/xenstore/quota.h"

#include "dom0-tools/xenstore/errors.h"

namespace pvhv::xs {

int quota_errno(const Quotas& q, QuotaKind kind) {
    if (q.style == QuotaStyle::OXenstored)
        return kind == QuotaKind::EntrySize ? XEN_E2BIG : kEQuota;
    switch (kind) {
        case QuotaKind::Watches: return XEN_E2BIG;  // cxenstored's do_watch
        default: return XEN_ENOSPC;
    }
}

size_t entry_size(size_t value_len, size_t children_len, size_t n_perms) {
    constexpr size_t kHeader = 24;  // struct xs_tdb_record_hdr: generation, 3 counts
    return kHeader + 8 * n_perms + value_len + children_len;
}

}  // namespace pvhv::xs
