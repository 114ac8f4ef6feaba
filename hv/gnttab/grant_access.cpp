// Grant map/copy for dom0 back-ends on top of GrantTable's pins.
#include "hv/gnttab/grant_access.h"

#include <cstring>
#include <utility>

namespace pvhv {

GrantMapping::GrantMapping(GrantMapping&& o) noexcept
    : table_(std::move(o.table_)),
      ref_(o.ref_),
      readonly_(o.readonly_),
      frame_(std::exchange(o.frame_, {})),
      gfn_(o.gfn_) {}

GrantMapping& GrantMapping::operator=(GrantMapping&& o) noexcept {
    if (this != &o) {
        reset();
        table_ = std::move(o.table_);
        ref_ = o.ref_;
        readonly_ = o.readonly_;
        frame_ = std::exchange(o.frame_, {});
        gfn_ = o.gfn_;
    }
    return *this;
}

void GrantMapping::reset() {
    if (!table_) return;
    table_->release(ref_, readonly_);
    table_.reset();
    frame_ = {};
}

Result<GrantMapping> GrantMapping::acquire(GrantTable& table, GrantRef ref, bool readonly,
                                           bool for_mapping, DomId grantee) {
    auto pin = table.acquire(ref, readonly, for_mapping, grantee);
    if (!pin) return std::unexpected(pin.error());
    GrantMapping m;
    m.table_ = table.shared_from_this();
    m.ref_ = ref;
    m.readonly_ = readonly;
    m.frame_ = pin->frame;
    m.gfn_ = pin->gfn;
    return m;
}

Result<GrantMapping> map_grant(GrantTable& granter, GrantRef ref, bool readonly, DomId grantee) {
    return GrantMapping::acquire(granter, ref, readonly, /*for_mapping=*/true, grantee);
}

namespace {

// Checks one side's bounds before anything is pinned, so a bad request leaves no trace in
// the guest's entry. 64-bit sums: offset and len come from back-ends parsing guest rings.
Result<void> check_grant_side(const GrantedBytes& g, uint32_t len) {
    if (uint64_t{g.offset} + len > kPageSize)
        return fail(XEN_EINVAL, "grant copy crosses the page end");
    return {};
}

}  // namespace

Result<void> copy_grant(const CopySource& src, const CopyDest& dst, uint32_t len, DomId grantee) {
    const auto* gsrc = std::get_if<GrantedBytes>(&src);
    const auto* gdst = std::get_if<GrantedBytes>(&dst);
    if (!gsrc && !gdst) return fail(XEN_EINVAL, "grant copy without a grant");
    if (gsrc) {
        if (auto r = check_grant_side(*gsrc, len); !r) return r;
    } else if (len > std::get<std::span<const uint8_t>>(src).size()) {
        return fail(XEN_EINVAL, "grant copy source buffer too short");
    }
    if (gdst) {
        if (auto r = check_grant_side(*gdst, len); !r) return r;
    } else if (len > std::get<std::span<uint8_t>>(dst).size()) {
        return fail(XEN_EINVAL, "grant copy destination buffer too short");
    }

    // Temporary pins, released (and flags cleared) when they go out of scope.
    GrantMapping src_pin, dst_pin;
    const uint8_t* from;
    uint8_t* to;
    if (gsrc) {
        auto p = GrantMapping::acquire(gsrc->table, gsrc->ref, /*readonly=*/true, false, grantee);
        if (!p) return std::unexpected(p.error());
        src_pin = std::move(*p);
        from = src_pin.bytes().data() + gsrc->offset;
    } else {
        from = std::get<std::span<const uint8_t>>(src).data();
    }
    if (gdst) {
        auto p = GrantMapping::acquire(gdst->table, gdst->ref, /*readonly=*/false, false, grantee);
        if (!p) return std::unexpected(p.error());
        dst_pin = std::move(*p);
        to = dst_pin.writable_bytes().data() + gdst->offset;
    } else {
        to = std::get<std::span<uint8_t>>(dst).data();
    }
    // memmove: source and destination may be the same granted frame.
    if (len != 0) std::memmove(to, from, len);
    return {};
}

int16_t grant_status_code(const Error& e) {
    switch (e.xen_errno) {
        case XEN_ENOENT:
            return GNTST_bad_gntref;
        case XEN_EFAULT:
            return GNTST_bad_page;
        case XEN_ESRCH:
            return GNTST_bad_domain;
        case XEN_EINVAL:
            return GNTST_bad_copy_arg;
        default:
            return GNTST_general_error;
    }
}

}  // namespace pvhv
