// Atomic access to live v1 grant entries and Xen's _set_status_v1 retry loop.
#include "hv/gnttab/grant_entry.h"

#include <atomic>
#include <cstdio>
#include <string>

namespace pvhv {

namespace {

// The entry is guest-shared memory with no C++ object in it; atomic_ref on the mmap'ed bytes
// compiles to the same locked instructions Xen uses on the same words.
std::atomic_ref<uint32_t> word(uint8_t* p) {
    return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(p));
}

std::string describe_header(GrantHeader h) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "flags %#x domid %u", h.flags, h.domid);
    return buf;
}

}  // namespace

uint32_t LiveGrantEntry::load_header() const {
    return word(entry_ + offsetof(grant_entry_v1_t, flags)).load(std::memory_order_acquire);
}

uint32_t LiveGrantEntry::load_frame() const {
    return word(entry_ + offsetof(grant_entry_v1_t, frame)).load(std::memory_order_acquire);
}

uint32_t LiveGrantEntry::cmpxchg_header(uint32_t expected, uint32_t desired) {
    word(entry_ + offsetof(grant_entry_v1_t, flags))
        .compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
    return expected;  // updated to the value found when the exchange failed
}

void LiveGrantEntry::clear_flags(uint16_t mask) {
    std::atomic_ref<uint16_t>(
        *reinterpret_cast<uint16_t*>(entry_ + offsetof(grant_entry_v1_t, flags)))
        .fetch_and(static_cast<uint16_t>(~mask), std::memory_order_seq_cst);
}

Result<void> set_grant_status_v1(LiveGrantEntry entry, bool already_pinned, bool readonly,
                                 bool for_mapping, DomId grantee, const GrantRaceHook* hook) {
    // GTF_sub_page is a v2 notion; Xen still refuses it in a v1 entry that is to be mapped.
    const uint16_t type_mask = GTF_type_mask | (for_mapping ? GTF_sub_page : 0);
    GrantHeader seen = GrantHeader::from_raw(entry.load_header());
    for (unsigned attempt = 0;; ++attempt) {
        // An already pinned ref was checked when it was first pinned; as in Xen, only the
        // read-only bit matters for a later write pin.
        if (!already_pinned &&
            ((seen.flags & type_mask) != GTF_permit_access || seen.domid != grantee.value))
            return fail(XEN_EPERM, "not granted to d" + std::to_string(grantee.value) + " (" +
                                       describe_header(seen) + ")");
        GrantHeader want = seen;
        want.flags |= GTF_reading;
        if (!readonly) {
            if (seen.flags & GTF_readonly)
                return fail(XEN_EROFS, "write access to a read-only grant");
            want.flags |= GTF_writing;
        }
        if (hook && *hook) (*hook)(attempt);
        const uint32_t found = entry.cmpxchg_header(seen.raw(), want.raw());
        if (found == seen.raw()) return {};
        if (attempt + 1 == kGrantCmpxchgAttempts)
            return fail(XEN_EAGAIN, "grant entry is unstable (" +
                                        describe_header(GrantHeader::from_raw(found)) + ")");
        seen = GrantHeader::from_raw(found);
    }
}

}  // namespace pvhv
