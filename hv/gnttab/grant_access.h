// The dom0 back-end API to guest memory: map and copy granted frames (never raw guest addresses).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <variant>

#include "hv/error.h"
#include "hv/gnttab/grant_table.h"
#include "hv/types.h"

namespace pvhv {

class GrantMapping;

// Maps one granted frame of `granter`'s table for `grantee` (pvd's back-ends are dom0), as
// Xen's GNTTABOP_map_grant_ref: the entry must be GTF_permit_access for `grantee` (without
// GTF_sub_page), writable unless `readonly`, and name a frame of the granter's RAM. Sets
// GTF_reading (and GTF_writing) in the guest's entry; the mapping clears them again when the
// last pin of the ref goes away. Errors (Error::xen_errno):
//   XEN_ENOENT  ref >= the table's entries                  (GNTST_bad_gntref)
//   XEN_EPERM   not GTF_permit_access, or another domid     (GNTST_general_error)
//   XEN_EROFS   write mapping of a GTF_readonly grant        (GNTST_general_error)
//   XEN_EFAULT  the frame is not the granter's RAM          (GNTST_bad_page)
//   XEN_EAGAIN  the guest kept changing the entry            (GNTST_general_error)
//   XEN_EBUSY   the ref is pinned by another grantee, or pin count overflow
//   XEN_ESRCH   the granter is being destroyed (GrantTable::close)  (GNTST_bad_domain)
Result<GrantMapping> map_grant(GrantTable& granter, GrantRef ref, bool readonly,
                               DomId grantee = kDom0);

// One side of a copy: `offset` bytes into the frame granted by `ref` of `table`.
struct GrantedBytes {
    GrantTable& table;
    GrantRef ref;
    uint32_t offset = 0;
};
using CopySource = std::variant<GrantedBytes, std::span<const uint8_t>>;
using CopyDest = std::variant<GrantedBytes, std::span<uint8_t>>;

// Copies `len` bytes as Xen's GNTTABOP_copy: each grant side is pinned for the copy only (a
// read pin for the source, a write pin for the destination, with the same checks and flag
// updates as map_grant, except that GTF_sub_page does not matter) and released afterwards.
// Within one page: offset + len must not exceed 4096 on a grant side and len must fit a
// local buffer (XEN_EINVAL, GNTST_bad_copy_arg), and at least one side must be a grant.
// Pins are taken one table at a time, so a copy between two domains never holds two locks.
Result<void> copy_grant(const CopySource& src, const CopyDest& dst, uint32_t len,
                        DomId grantee = kDom0);

// The GNTST_* status a Xen back-end or guest would see for an error of map_grant/copy_grant.
int16_t grant_status_code(const Error& e);

// A mapping of one granted frame, held by a back-end. The bytes stay valid memory while it
// lives even if the guest revokes the grant or the domain is destroyed (they are guest RAM
// that the table keeps mapped in pvd); the guest's GTF_reading/GTF_writing are cleared when
// the last pin of the ref is dropped.
// Move-only; destroying or reset()ing it unmaps.
class GrantMapping {
  public:
    GrantMapping() = default;
    GrantMapping(GrantMapping&& o) noexcept;
    GrantMapping& operator=(GrantMapping&& o) noexcept;
    GrantMapping(const GrantMapping&) = delete;
    GrantMapping& operator=(const GrantMapping&) = delete;
    ~GrantMapping() { reset(); }

    bool valid() const { return table_ != nullptr; }
    // The whole 4 KiB frame. Shared with the guest: copy out what you validate.
    std::span<const uint8_t> bytes() const { return frame_; }
    // The same bytes for writing; empty for a read-only mapping.
    std::span<uint8_t> writable_bytes() const { return readonly_ ? std::span<uint8_t>{} : frame_; }
    bool readonly() const { return readonly_; }
    GrantRef ref() const { return ref_; }
    DomId granter() const { return table_ ? table_->owner() : DomId{}; }
    Gfn gfn() const { return gfn_; }

    void reset();

  private:
    friend Result<GrantMapping> map_grant(GrantTable&, GrantRef, bool, DomId);
    friend Result<void> copy_grant(const CopySource&, const CopyDest&, uint32_t, DomId);
    static Result<GrantMapping> acquire(GrantTable& table, GrantRef ref, bool readonly,
                                        bool for_mapping, DomId grantee);

    std::shared_ptr<GrantTable> table_;
    GrantRef ref_{};
    bool readonly_ = true;
    std::span<uint8_t> frame_;
    Gfn gfn_{};
};

}  // namespace pvhv
