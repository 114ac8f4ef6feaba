// A live v1 grant entry in guest memory and Xen's protocol for GTF_reading/GTF_writing.
#pragma once

#include "hv/xen_public.h"  // first: Xen's headers need its <cstdint> prerequisites

#include <xen/grant_table.h>

#include <cstdint>
#include <functional>

#include "hv/error.h"
#include "hv/types.h"

namespace pvhv {

inline constexpr uint32_t kGrantEntriesPerFrameV1 = kPageSize / sizeof(grant_entry_v1_t);  // 512

// Xen tries the cmpxchg on a guest-shared entry five times, then calls the entry unstable
// ("the guest can modify that location at a higher rate than we can read-modify-CMPXCHG").
inline constexpr unsigned kGrantCmpxchgAttempts = 5;

// The first 32 bits of a v1 entry, flags (low half) and domid (high half) on x86, which Xen
// reads and updates as one word (its `union grant_combo`) so that a check of both and the
// update of the flags are a single atomic step.
struct GrantHeader {
    uint16_t flags = 0;
    uint16_t domid = 0;

    static constexpr GrantHeader from_raw(uint32_t raw) {
        return {static_cast<uint16_t>(raw), static_cast<uint16_t>(raw >> 16)};
    }
    constexpr uint32_t raw() const { return uint32_t{flags} | (uint32_t{domid} << 16); }
};

// One live v1 entry inside a grant frame that the guest can write at any time. Every access
// is a single atomic load or read-modify-write on the shared memory; nothing is cached here,
// so callers take one snapshot and validate that (no double fetch).
class LiveGrantEntry {
  public:
    // `entry` points at an 8-byte aligned grant_entry_v1_t inside a grant frame.
    explicit LiveGrantEntry(uint8_t* entry) : entry_(entry) {}

    uint32_t load_header() const;
    uint32_t load_frame() const;
    // Returns the value found; the store happened iff it equals `expected`.
    uint32_t cmpxchg_header(uint32_t expected, uint32_t desired);
    // Xen's gnttab_clear_flags: `lock andw` on the 16-bit flags only, so a concurrent guest
    // update of domid or of other flag bits is never lost and the guest cannot livelock us.
    void clear_flags(uint16_t mask);

  private:
    uint8_t* entry_;
};

// Called after each snapshot of the header and before the cmpxchg, with the 0-based attempt
// number. Production passes none; unit tests play the guest here to hit the race window.
using GrantRaceHook = std::function<void(unsigned attempt)>;

// Xen's _set_status_v1: atomically sets GTF_reading (and GTF_writing unless `readonly`) on
// the live entry, provided (when the ref is not already pinned) its type is
// GTF_permit_access, it names `grantee`, and GTF_sub_page is clear for a mapping; a write
// pin also needs GTF_readonly clear. The check runs on the same snapshot the cmpxchg
// compares against, so a guest that revokes or downgrades between the check and the update
// makes the cmpxchg fail and the retry sees the new value. Errors: XEN_EPERM (not granted to
// `grantee`), XEN_EROFS (write pin of a read-only grant), XEN_EAGAIN (entry kept changing).
Result<void> set_grant_status_v1(LiveGrantEntry entry, bool already_pinned, bool readonly,
                                 bool for_mapping, DomId grantee,
                                 const GrantRaceHook* hook = nullptr);

}  // namespace pvhv
