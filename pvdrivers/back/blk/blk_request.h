// blkif requests from a front-end's ring: validated against Xen's rules and the disk, or refused.
#pragma once

#include <cstdint>
#include <span>

#include "hv/error.h"
#include "hv/types.h"
#include "hv/xen_public.h"
#include <xen/grant_table.h>
#include <xen/io/blkif.h>

namespace pvhv::blk {

// Sector-based quantities are in 512-byte units: we never publish a larger "sector-size", so
// front-ends without feature-large-sector-size (Linux's included) stay correct.
inline constexpr uint32_t kSectorSize = 512;
inline constexpr uint32_t kSectorsPerPage = kPageSize / kSectorSize;  // 8: last_sect <= 7
inline constexpr uint32_t kSegmentsPerIndirectPage =
    kPageSize / sizeof(blkif_request_segment);  // 512
// feature-max-indirect-segments we advertise by default: Linux blkback's MAX_INDIRECT_SEGMENTS
// (1 MiB per request, one indirect page).
inline constexpr uint32_t kDefaultMaxIndirectSegments = 256;
// The most any configuration may advertise: BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST pages.
inline constexpr uint32_t kMaxIndirectSegmentsLimit =
    BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * kSegmentsPerIndirectPage;

enum class BlkOp : uint8_t { Read, Write, Flush, Barrier, Discard };

// One validated segment: sectors [first_sect, last_sect] of the granted frame.
struct Segment {
    GrantRef gref{};
    uint8_t first_sect = 0;
    uint8_t last_sect = 0;

    uint32_t offset() const { return uint32_t{first_sect} * kSectorSize; }
    uint32_t bytes() const { return (uint32_t{last_sect} - first_sect + 1) * kSectorSize; }
};

// What the back-end offers one front-end: the disk and the features it advertised.
struct BlkLimits {
    uint64_t sectors = 0;  // disk size in 512-byte sectors
    bool read_only = false;
    bool flush = false;    // feature-flush-cache
    bool barrier = false;  // feature-barrier
    bool discard = false;  // feature-discard
    uint32_t max_indirect_segments = 0;  // feature-max-indirect-segments; 0: not offered
    // Refs at or above this can never be granted (the table's largest size); a cheap early
    // refusal. The real check is the map or copy, which refuses refs not granted to dom0.
    uint32_t grant_entries = 0;
};

// A request that passed every check. Segments are in the caller's span, in order; they cover
// the disk range [sector, sector + nr_sectors) back to back.
struct BlkRequest {
    uint64_t id = 0;
    uint8_t response_op = 0;  // echoed in the response (indirect: its indirect_op, as Linux)
    BlkOp op = BlkOp::Read;
    bool indirect = false;
    bool secure = false;       // discard with BLKIF_DISCARD_SECURE (we offer discard-secure=0)
    uint64_t sector = 0;       // unused by a flush or barrier without segments
    uint64_t nr_sectors = 0;
    uint32_t nr_segments = 0;
};

// What the response to any request carries, whether it parses or not: its id and operation.
// The id is at the same offset in every request layout.
struct ResponseHeader {
    uint64_t id = 0;
    uint8_t operation = 0;
};
ResponseHeader response_header(const blkif_request& req);

// Reads the first out.size() bytes of the frame that `gref` grants (an indirect page) into
// `out`, once. The back-end does it with a grant copy; tests use plain memory.
class IndirectPages {
  public:
    virtual Result<void> read(GrantRef gref, std::span<uint8_t> out) = 0;

  protected:
    ~IndirectPages() = default;
};

// Validates `req` (the back-end's private copy of a ring slot) against Xen's blkif rules and
// `limits`, as Linux's dispatch_rw_block_io / xen_blkbk_parse_indirect / dispatch_discard_io:
//   - the operation is known and offered: XEN_EOPNOTSUPP for unknown operations and for
//     flush, barrier, discard and indirect requests that were not advertised;
//   - writes, barriers, flushes and discards on a read-only disk: XEN_EROFS;
//   - nr_segments 1..11 for reads and writes, 0..11 for flush and barrier (0: a pure flush),
//     1..max_indirect_segments for indirect requests whose indirect_op is read or write;
//   - every segment: first_sect <= last_sect <= 7 and gref below limits.grant_entries;
//   - the sector range inside the disk, overflow-safe (discard: sector_number + nr_sectors).
// Indirect segment descriptors are read once through `indirect` into a local copy. Segments
// go to `segments`, which must hold max(11, limits.max_indirect_segments) entries.
// Every failure is XEN_EOPNOTSUPP (answer BLKIF_RSP_EOPNOTSUPP) or another errno
// (BLKIF_RSP_ERROR), with a message for the back-end's rate-limited log.
Result<BlkRequest> parse_request(const blkif_request& req, const BlkLimits& limits,
                                 std::span<Segment> segments, IndirectPages& indirect);

// The BLKIF_RSP_* status for a refused request.
int16_t response_status(const Error& e);

}  // namespace pvhv::blk
