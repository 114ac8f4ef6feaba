// Validation of blkif requests copied out of a front-end's ring (see blk_request.h).
#include "pvdrivers/back/blk/blk_request.h"

#include <array>
#include <cstring>
#include <string>

namespace pvhv::blk {

namespace {

static_assert(sizeof(blkif_request_discard) <= sizeof(blkif_request));
static_assert(sizeof(blkif_request_indirect) <= sizeof(blkif_request));
static_assert(offsetof(blkif_request, id) == offsetof(blkif_request_discard, id));
static_assert(offsetof(blkif_request, id) == offsetof(blkif_request_indirect, id));
static_assert(sizeof(blkif_request_segment) == 8);

// The other layouts of the same ring slot, from the private copy (memcpy: no aliasing games).
template <class T>
T view_as(const blkif_request& req) {
    T out;
    std::memcpy(&out, &req, sizeof out);
    return out;
}

Result<void> check_segment(const blkif_request_segment& s, uint32_t index,
                           const BlkLimits& limits, Segment& out) {
    if (s.last_sect >= kSectorsPerPage || s.last_sect < s.first_sect)
        return fail(XEN_EINVAL, "segment " + std::to_string(index) + " has sectors " +
                                    std::to_string(s.first_sect) + ".." +
                                    std::to_string(s.last_sect) + " (at most 0..7, in order)");
    if (s.gref >= limits.grant_entries)
        return fail(XEN_EINVAL, "segment " + std::to_string(index) + " names grant ref " +
                                    std::to_string(s.gref) + ", beyond the grant table");
    out = Segment{GrantRef{s.gref}, s.first_sect, s.last_sect};
    return {};
}

// [sector, sector + n) inside a disk of `sectors`, without overflowing.
Result<void> check_range(uint64_t sector, uint64_t n, uint64_t sectors) {
    if (n > sectors || sector > sectors - n)
        return fail(XEN_EINVAL, "sectors " + std::to_string(sector) + "+" + std::to_string(n) +
                                    " beyond the disk's " + std::to_string(sectors));
    return {};
}

const char* op_name(uint8_t op) {
    switch (op) {
        case BLKIF_OP_READ: return "read";
        case BLKIF_OP_WRITE: return "write";
        case BLKIF_OP_WRITE_BARRIER: return "barrier";
        case BLKIF_OP_FLUSH_DISKCACHE: return "flush";
        case BLKIF_OP_DISCARD: return "discard";
        case BLKIF_OP_INDIRECT: return "indirect";
        default: return "unknown";
    }
}

Result<BlkRequest> parse_discard(const blkif_request& raw, const BlkLimits& limits) {
    const auto d = view_as<blkif_request_discard>(raw);
    BlkRequest r;
    r.id = d.id;
    r.response_op = BLKIF_OP_DISCARD;
    r.op = BlkOp::Discard;
    r.secure = (d.flag & BLKIF_DISCARD_SECURE) != 0;
    r.sector = d.sector_number;
    r.nr_sectors = d.nr_sectors;
    if (auto ok = check_range(r.sector, r.nr_sectors, limits.sectors); !ok)
        return std::unexpected(ok.error());
    return r;
}

Result<BlkRequest> parse_indirect(const blkif_request& raw, const BlkLimits& limits,
                                  std::span<Segment> segments, IndirectPages& pages) {
    const auto ind = view_as<blkif_request_indirect>(raw);
    BlkRequest r;
    r.id = ind.id;
    r.response_op = ind.indirect_op;
    r.indirect = true;
    r.sector = ind.sector_number;
    if (ind.indirect_op == BLKIF_OP_READ) {
        r.op = BlkOp::Read;
    } else if (ind.indirect_op == BLKIF_OP_WRITE) {
        if (limits.read_only) return fail(XEN_EROFS, "indirect write to a read-only disk");
        r.op = BlkOp::Write;
    } else {
        return fail(XEN_EINVAL, "indirect request with operation " +
                                    std::to_string(ind.indirect_op) + " (only read or write)");
    }
    const uint32_t n = ind.nr_segments;
    if (n == 0 || n > limits.max_indirect_segments)
        return fail(XEN_EINVAL, "indirect request with " + std::to_string(n) +
                                    " segments (1.." +
                                    std::to_string(limits.max_indirect_segments) + ")");
    if (segments.size() < n) return fail(XEN_EINVAL, "segment buffer too small");

    // Each descriptor page is copied once, then only the copy is read.
    std::array<blkif_request_segment, kSegmentsPerIndirectPage> page;
    uint64_t total = 0;
    for (uint32_t first = 0; first < n; first += kSegmentsPerIndirectPage) {
        const uint32_t in_page = std::min(n - first, kSegmentsPerIndirectPage);
        const uint32_t gref = ind.indirect_grefs[first / kSegmentsPerIndirectPage];
        if (gref >= limits.grant_entries)
            return fail(XEN_EINVAL, "indirect page grant ref " + std::to_string(gref) +
                                        " beyond the grant table");
        auto bytes = std::as_writable_bytes(std::span(page.data(), in_page));
        if (auto ok = pages.read(GrantRef{gref},
                                 {reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()});
            !ok)
            return fail(ok.error().xen_errno,
                        "indirect page (ref " + std::to_string(gref) + "): " + ok.error().message);
        for (uint32_t i = 0; i < in_page; ++i) {
            if (auto ok = check_segment(page[i], first + i, limits, segments[first + i]); !ok)
                return std::unexpected(ok.error());
            total += segments[first + i].last_sect - segments[first + i].first_sect + 1;
        }
    }
    r.nr_segments = n;
    r.nr_sectors = total;
    if (auto ok = check_range(r.sector, r.nr_sectors, limits.sectors); !ok)
        return std::unexpected(ok.error());
    return r;
}

}  // namespace

ResponseHeader response_header(const blkif_request& req) {
    const uint8_t op = req.operation == BLKIF_OP_INDIRECT
                           ? view_as<blkif_request_indirect>(req).indirect_op
                           : req.operation;
    return ResponseHeader{req.id, op};
}

Result<BlkRequest> parse_request(const blkif_request& req, const BlkLimits& limits,
                                 std::span<Segment> segments, IndirectPages& indirect) {
    const uint8_t op = req.operation;
    BlkRequest r;
    r.id = req.id;
    r.response_op = op;
    switch (op) {
        case BLKIF_OP_READ:
            r.op = BlkOp::Read;
            break;
        case BLKIF_OP_WRITE:
            r.op = BlkOp::Write;
            break;
        case BLKIF_OP_FLUSH_DISKCACHE:
            if (!limits.flush) return fail(XEN_EOPNOTSUPP, "flush not offered");
            r.op = BlkOp::Flush;
            break;
        case BLKIF_OP_WRITE_BARRIER:
            if (!limits.barrier) return fail(XEN_EOPNOTSUPP, "barrier not offered");
            r.op = BlkOp::Barrier;
            break;
        case BLKIF_OP_DISCARD:
            if (!limits.discard) return fail(XEN_EOPNOTSUPP, "discard not offered");
            if (limits.read_only) return fail(XEN_EROFS, "discard on a read-only disk");
            return parse_discard(req, limits);
        case BLKIF_OP_INDIRECT:
            if (limits.max_indirect_segments == 0)
                return fail(XEN_EOPNOTSUPP, "indirect requests not offered");
            return parse_indirect(req, limits, segments, indirect);
        default:
            return fail(XEN_EOPNOTSUPP, "unknown operation " + std::to_string(op));
    }
    if (r.op != BlkOp::Read && limits.read_only)
        return fail(XEN_EROFS, std::string(op_name(op)) + " on a read-only disk");

    const uint32_t n = req.nr_segments;
    const bool may_be_empty = r.op == BlkOp::Flush || r.op == BlkOp::Barrier;
    if ((n == 0 && !may_be_empty) || n > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        return fail(XEN_EINVAL, std::string(op_name(op)) + " with " + std::to_string(n) +
                                    " segments (" + (may_be_empty ? "0" : "1") + "..11)");
    if (segments.size() < n) return fail(XEN_EINVAL, "segment buffer too small");
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (auto ok = check_segment(req.seg[i], i, limits, segments[i]); !ok)
            return std::unexpected(ok.error());
        total += segments[i].last_sect - segments[i].first_sect + 1;
    }
    r.sector = req.sector_number;
    r.nr_segments = n;
    r.nr_sectors = total;
    // A flush without data names no sectors: Linux's front-end sends sector 0, others may not.
    if (n > 0) {
        if (auto ok = check_range(r.sector, r.nr_sectors, limits.sectors); !ok)
            return std::unexpected(ok.error());
    }
    return r;
}

int16_t response_status(const Error& e) {
    return e.xen_errno == XEN_EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
}

}  // namespace pvhv::blk
