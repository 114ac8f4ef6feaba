// blkback's request parser: every blkif rule, on private copies of hostile requests.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>
#include <vector>

#include "pvdrivers/back/blk/blk_request.h"

namespace pvhv::blk {
namespace {

// Indirect pages from plain memory; counts reads to prove each page is read once.
class FakeIndirect final : public IndirectPages {
  public:
    Result<void> read(GrantRef gref, std::span<uint8_t> out) override {
        ++reads[gref.value];
        auto it = pages.find(gref.value);
        if (it == pages.end()) return fail(XEN_ENOENT, "not granted");
        if (out.size() > it->second.size()) return fail(XEN_EINVAL, "too long");
        std::memcpy(out.data(), it->second.data(), out.size());
        last_len = out.size();
        return {};
    }
    blkif_request_segment* segs(uint32_t ref) {
        auto& p = pages[ref];
        p.resize(kPageSize);
        return reinterpret_cast<blkif_request_segment*>(p.data());
    }
    std::map<uint32_t, std::vector<uint8_t>> pages;
    std::map<uint32_t, int> reads;
    size_t last_len = 0;
};

class BlkRequestTest : public ::testing::Test {
  protected:
    BlkLimits limits{.sectors = 1000,
                     .read_only = false,
                     .flush = true,
                     .barrier = true,
                     .discard = true,
                     .max_indirect_segments = 256,
                     .grant_entries = 2048};
    std::vector<Segment> segs = std::vector<Segment>(kMaxIndirectSegmentsLimit);
    FakeIndirect indirect;

    blkif_request rw(uint8_t op, uint8_t nseg, uint64_t sector = 0) {
        blkif_request r{};
        r.operation = op;
        r.nr_segments = nseg;
        r.id = 0x1122334455667788;
        r.sector_number = sector;
        for (uint8_t i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; ++i) r.seg[i] = {10u + i, 0, 7};
        return r;
    }
    blkif_request indirect_req(uint8_t op, uint16_t nseg, uint64_t sector = 0) {
        blkif_request_indirect ind{};
        ind.operation = BLKIF_OP_INDIRECT;
        ind.indirect_op = op;
        ind.nr_segments = nseg;
        ind.id = 42;
        ind.sector_number = sector;
        for (uint32_t i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; ++i)
            ind.indirect_grefs[i] = 500 + i;
        blkif_request r{};
        std::memcpy(&r, &ind, sizeof ind);
        return r;
    }
    blkif_request discard(uint64_t sector, uint64_t n, uint8_t flag = 0) {
        blkif_request_discard d{};
        d.operation = BLKIF_OP_DISCARD;
        d.flag = flag;
        d.id = 9;
        d.sector_number = sector;
        d.nr_sectors = n;
        blkif_request r{};
        std::memcpy(&r, &d, sizeof d);
        return r;
    }
    // Fills `n` descriptors starting at indirect page refs 500.., each one whole page.
    void fill_indirect(uint32_t n) {
        for (uint32_t i = 0; i < n; ++i)
            indirect.segs(500 + i / kSegmentsPerIndirectPage)[i % kSegmentsPerIndirectPage] = {
                1000 + i, 0, 7};
    }
    Result<BlkRequest> parse(const blkif_request& r) {
        return parse_request(r, limits, segs, indirect);
    }
    void expect_refused(const blkif_request& r, int16_t status, const char* why) {
        auto p = parse(r);
        ASSERT_FALSE(p) << why;
        EXPECT_EQ(response_status(p.error()), status) << why << ": " << p.error().message;
        EXPECT_FALSE(p.error().message.empty());
    }
};

TEST_F(BlkRequestTest, ReadOfElevenWholePages) {
    auto p = parse(rw(BLKIF_OP_READ, 11, 100));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->id, 0x1122334455667788u);
    EXPECT_EQ(p->op, BlkOp::Read);
    EXPECT_EQ(p->response_op, BLKIF_OP_READ);
    EXPECT_FALSE(p->indirect);
    EXPECT_EQ(p->sector, 100u);
    EXPECT_EQ(p->nr_segments, 11u);
    EXPECT_EQ(p->nr_sectors, 88u);
    EXPECT_EQ(segs[10].gref, GrantRef{20});
    EXPECT_EQ(segs[10].bytes(), kPageSize);
}

TEST_F(BlkRequestTest, PartialSegmentsAddUpTheirSectors) {
    auto r = rw(BLKIF_OP_WRITE, 3, 10);
    r.seg[0] = {1, 7, 7};  // last sector of a page
    r.seg[1] = {2, 0, 0};  // first sector of a page
    r.seg[2] = {3, 2, 5};
    auto p = parse(r);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->op, BlkOp::Write);
    EXPECT_EQ(p->nr_sectors, 6u);
    EXPECT_EQ(segs[0].offset(), 7 * 512u);
    EXPECT_EQ(segs[2].offset(), 2 * 512u);
    EXPECT_EQ(segs[2].bytes(), 4 * 512u);
}

TEST_F(BlkRequestTest, SegmentCountsOutsideOneToElevenAreErrors) {
    expect_refused(rw(BLKIF_OP_READ, 0), BLKIF_RSP_ERROR, "read without segments");
    expect_refused(rw(BLKIF_OP_WRITE, 0), BLKIF_RSP_ERROR, "write without segments");
    expect_refused(rw(BLKIF_OP_READ, 12), BLKIF_RSP_ERROR, "12 direct segments");
    expect_refused(rw(BLKIF_OP_WRITE, 255), BLKIF_RSP_ERROR, "255 direct segments");
    expect_refused(rw(BLKIF_OP_FLUSH_DISKCACHE, 12), BLKIF_RSP_ERROR, "flush with 12");
}

TEST_F(BlkRequestTest, SectorsWithinThePageAndInOrder) {
    auto r = rw(BLKIF_OP_READ, 2);
    r.seg[1] = {11, 0, 8};
    expect_refused(r, BLKIF_RSP_ERROR, "last_sect 8");
    r.seg[1] = {11, 5, 4};
    expect_refused(r, BLKIF_RSP_ERROR, "last_sect < first_sect");
    r.seg[1] = {11, 255, 255};
    expect_refused(r, BLKIF_RSP_ERROR, "first_sect 255");
    r.seg[1] = {11, 7, 7};
    EXPECT_TRUE(parse(r));
}

TEST_F(BlkRequestTest, GrantRefsBeyondTheTableAreRefused) {
    auto r = rw(BLKIF_OP_READ, 1);
    r.seg[0].gref = 2048;
    expect_refused(r, BLKIF_RSP_ERROR, "ref == entries");
    r.seg[0].gref = std::numeric_limits<uint32_t>::max();
    expect_refused(r, BLKIF_RSP_ERROR, "ref ~0");
    r.seg[0].gref = 2047;
    EXPECT_TRUE(parse(r));
}

TEST_F(BlkRequestTest, SectorRangeInsideTheDiskWithoutOverflow) {
    EXPECT_TRUE(parse(rw(BLKIF_OP_READ, 1, 992)));  // sectors 992..999: the last page
    expect_refused(rw(BLKIF_OP_READ, 1, 993), BLKIF_RSP_ERROR, "one sector past the end");
    expect_refused(rw(BLKIF_OP_READ, 1, 1000), BLKIF_RSP_ERROR, "at the end");
    expect_refused(rw(BLKIF_OP_WRITE, 1, std::numeric_limits<uint64_t>::max() - 3),
                   BLKIF_RSP_ERROR, "sector + n wraps");
    expect_refused(rw(BLKIF_OP_READ, 1, uint64_t{1} << 63), BLKIF_RSP_ERROR, "huge sector");
    limits.sectors = 0;
    expect_refused(rw(BLKIF_OP_READ, 1, 0), BLKIF_RSP_ERROR, "empty disk");
}

TEST_F(BlkRequestTest, FlushAndBarrierMayCarryNoSegments) {
    auto f = parse(rw(BLKIF_OP_FLUSH_DISKCACHE, 0, std::numeric_limits<uint64_t>::max()));
    ASSERT_TRUE(f) << f.error().message;  // no data: the sector means nothing
    EXPECT_EQ(f->op, BlkOp::Flush);
    EXPECT_EQ(f->nr_segments, 0u);
    auto b = parse(rw(BLKIF_OP_WRITE_BARRIER, 2, 8));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->op, BlkOp::Barrier);
    EXPECT_EQ(b->nr_sectors, 16u);
    // With data, the range is checked as for a write.
    expect_refused(rw(BLKIF_OP_WRITE_BARRIER, 1, 999), BLKIF_RSP_ERROR, "barrier past the end");
    expect_refused(rw(BLKIF_OP_FLUSH_DISKCACHE, 1, 999), BLKIF_RSP_ERROR, "flush past the end");
}

TEST_F(BlkRequestTest, FeaturesNotOfferedAreNotSupported) {
    limits.flush = limits.barrier = limits.discard = false;
    limits.max_indirect_segments = 0;
    expect_refused(rw(BLKIF_OP_FLUSH_DISKCACHE, 0), BLKIF_RSP_EOPNOTSUPP, "flush");
    expect_refused(rw(BLKIF_OP_WRITE_BARRIER, 0), BLKIF_RSP_EOPNOTSUPP, "barrier");
    expect_refused(discard(0, 8), BLKIF_RSP_EOPNOTSUPP, "discard");
    expect_refused(indirect_req(BLKIF_OP_READ, 20), BLKIF_RSP_EOPNOTSUPP, "indirect");
    EXPECT_TRUE(indirect.reads.empty());
}

TEST_F(BlkRequestTest, UnknownOperationsAreNotSupportedAndEchoed) {
    for (uint8_t op : {uint8_t{BLKIF_OP_RESERVED_1}, uint8_t{7}, uint8_t{99}, uint8_t{255}}) {
        auto r = rw(op, 1);
        expect_refused(r, BLKIF_RSP_EOPNOTSUPP, "unknown op");
        EXPECT_EQ(response_header(r).operation, op);
        EXPECT_EQ(response_header(r).id, 0x1122334455667788u);
    }
}

TEST_F(BlkRequestTest, ReadOnlyDiskRefusesEverythingButReads) {
    limits.read_only = true;
    EXPECT_TRUE(parse(rw(BLKIF_OP_READ, 1)));
    expect_refused(rw(BLKIF_OP_WRITE, 1), BLKIF_RSP_ERROR, "write");
    expect_refused(rw(BLKIF_OP_WRITE_BARRIER, 1), BLKIF_RSP_ERROR, "barrier");
    expect_refused(rw(BLKIF_OP_FLUSH_DISKCACHE, 0), BLKIF_RSP_ERROR, "flush");
    expect_refused(discard(0, 8), BLKIF_RSP_ERROR, "discard");
    fill_indirect(20);
    expect_refused(indirect_req(BLKIF_OP_WRITE, 20), BLKIF_RSP_ERROR, "indirect write");
    EXPECT_TRUE(parse(indirect_req(BLKIF_OP_READ, 20)));
    auto p = parse(rw(BLKIF_OP_WRITE, 1));
    EXPECT_EQ(p.error().xen_errno, XEN_EROFS);
}

TEST_F(BlkRequestTest, DiscardRangeAndFlag) {
    auto d = parse(discard(100, 900, BLKIF_DISCARD_SECURE));
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->op, BlkOp::Discard);
    EXPECT_EQ(d->id, 9u);
    EXPECT_EQ(d->response_op, BLKIF_OP_DISCARD);
    EXPECT_EQ(d->sector, 100u);
    EXPECT_EQ(d->nr_sectors, 900u);
    EXPECT_TRUE(d->secure);
    EXPECT_EQ(d->nr_segments, 0u);
    EXPECT_TRUE(parse(discard(1000, 0)));  // nothing to discard, at the end: fine
    expect_refused(discard(100, 901), BLKIF_RSP_ERROR, "past the end");
    expect_refused(discard(1, std::numeric_limits<uint64_t>::max()), BLKIF_RSP_ERROR, "wraps");
}

TEST_F(BlkRequestTest, IndirectReadsDescriptorsOnceFromTheGrantedPage) {
    fill_indirect(100);
    auto p = parse(indirect_req(BLKIF_OP_READ, 100, 16));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_TRUE(p->indirect);
    EXPECT_EQ(p->id, 42u);
    EXPECT_EQ(p->op, BlkOp::Read);
    EXPECT_EQ(p->response_op, BLKIF_OP_READ);
    EXPECT_EQ(p->nr_segments, 100u);
    EXPECT_EQ(p->nr_sectors, 800u);
    EXPECT_EQ(segs[99].gref, GrantRef{1099});
    EXPECT_EQ(indirect.reads[500], 1);
    EXPECT_EQ(indirect.last_len, 100 * sizeof(blkif_request_segment));  // only what is used
    EXPECT_EQ(response_header(indirect_req(BLKIF_OP_WRITE, 1)).operation, BLKIF_OP_WRITE);
}

TEST_F(BlkRequestTest, IndirectAcrossPagesUpToTheAdvertisedMaximum) {
    limits.max_indirect_segments = kMaxIndirectSegmentsLimit;
    limits.sectors = uint64_t{1} << 40;
    limits.grant_entries = 1 << 20;
    fill_indirect(1200);
    auto p = parse(indirect_req(BLKIF_OP_WRITE, 1200));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->nr_segments, 1200u);
    EXPECT_EQ(segs[1199].gref, GrantRef{2199});
    EXPECT_EQ(indirect.reads[500], 1);
    EXPECT_EQ(indirect.reads[502], 1);
    EXPECT_EQ(indirect.reads.count(503), 0u);
}

TEST_F(BlkRequestTest, IndirectRefusals) {
    fill_indirect(300);
    expect_refused(indirect_req(BLKIF_OP_READ, 0), BLKIF_RSP_ERROR, "no segments");
    expect_refused(indirect_req(BLKIF_OP_READ, 257), BLKIF_RSP_ERROR, "over the maximum");
    expect_refused(indirect_req(BLKIF_OP_FLUSH_DISKCACHE, 8), BLKIF_RSP_ERROR, "flush op");
    expect_refused(indirect_req(BLKIF_OP_INDIRECT, 8), BLKIF_RSP_ERROR, "nested indirect");
    expect_refused(indirect_req(BLKIF_OP_DISCARD, 8), BLKIF_RSP_ERROR, "discard op");
    expect_refused(indirect_req(BLKIF_OP_READ, 256, 0), BLKIF_RSP_ERROR,
                   "2048 sectors on a 1000-sector disk");
    // A bad descriptor anywhere refuses the whole request.
    indirect.segs(500)[37] = {1037, 3, 2};
    expect_refused(indirect_req(BLKIF_OP_READ, 100), BLKIF_RSP_ERROR, "bad descriptor");
    indirect.segs(500)[37] = {5000, 0, 7};
    expect_refused(indirect_req(BLKIF_OP_READ, 100), BLKIF_RSP_ERROR, "descriptor ref");
    // The indirect page itself: not readable, or beyond the table.
    indirect.pages.erase(500);
    expect_refused(indirect_req(BLKIF_OP_READ, 10), BLKIF_RSP_ERROR, "page not granted");
    auto r = indirect_req(BLKIF_OP_READ, 10);
    const uint32_t far_ref = 4096;
    std::memcpy(reinterpret_cast<uint8_t*>(&r) + offsetof(blkif_request_indirect, indirect_grefs),
                &far_ref, sizeof far_ref);
    expect_refused(r, BLKIF_RSP_ERROR, "page ref beyond the table");
}

}  // namespace
}  // namespace pvhv::blk
