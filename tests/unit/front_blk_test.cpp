// pvdrivers/front's blkfront against a fake blkback: the keys it publishes, the requests it
// builds from buffers (segments, sectors within pages, indirect pages), statuses and grants.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "front_fake_env.h"

namespace pvhv::test {
namespace {

struct SeenRequest {
    uint8_t operation;
    uint64_t sector;
    std::vector<blkif_request_segment> segs;
    uint16_t handle;
};

// Serves the ring the way blkback does, on a disk held in memory, and logs every request.
class FakeBlkBack : public FakeXenbusBackend {
  public:
    FakeBlkBack(FakeFrontEnv& env, std::map<std::string, std::string> features, size_t sectors = 1024)
        : FakeXenbusBackend(env, "vbd", 51712, features), disk(sectors * 512) {}

    std::vector<uint8_t> disk;
    std::vector<SeenRequest> seen;
    unsigned int ring_pages = 0;
    bool map_readonly_as_error = true;

  protected:
    std::optional<std::map<std::string, std::string>> connect() override {
        const uint32_t order = front_uint("ring-page-order");
        ring_pages = order == ~0u ? 1 : 1u << order;
        std::vector<grant_ref_t> refs;
        if (ring_pages == 1) refs.push_back(front_uint("ring-ref"));
        for (unsigned int i = 0; ring_pages > 1 && i < ring_pages; ++i)
            refs.push_back(front_uint("ring-ref" + std::to_string(i)));
        uint8_t* first = nullptr;
        for (unsigned int i = 0; i < refs.size(); ++i) {
            uint8_t* p = granted_page(env, refs[i], true);
            if (!p || (i && p != first + i * FRONT_PAGE_SIZE)) return std::nullopt;
            if (!i) first = p;
        }
        if (front_key("protocol") != "x86_64-abi") return std::nullopt;
        port_ = front_uint("event-channel");
        auto* sring = reinterpret_cast<blkif_sring_t*>(first);
        BACK_RING_INIT(&ring_, sring, FRONT_PAGE_SIZE * ring_pages);
        return std::map<std::string, std::string>{
            {"sectors", std::to_string(disk.size() / 512)}, {"sector-size", "512"}, {"info", "0"}};
    }

    void serve() override {
        RING_IDX rp = ring_.sring->req_prod;
        while (ring_.req_cons != rp) {
            blkif_request_t req;
            std::memcpy(&req, RING_GET_REQUEST(&ring_, ring_.req_cons), sizeof(req));
            ++ring_.req_cons;
            respond(req.id, req.operation, handle(req));
        }
        int notify = 0;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring_, notify);
        if (notify) env.pending.insert(port_);
    }

  private:
    int16_t handle(const blkif_request_t& req) {
        SeenRequest s{req.operation, req.sector_number, {}, req.handle};
        uint8_t op = req.operation;
        if (op == BLKIF_OP_INDIRECT) {
            const auto& ir = reinterpret_cast<const blkif_request_indirect_t&>(req);
            const uint8_t* page = granted_page(env, ir.indirect_grefs[0], false);
            if (!page || ir.nr_segments > 512) return BLKIF_RSP_ERROR;
            auto* segs = reinterpret_cast<const blkif_request_segment*>(page);
            s = {BLKIF_OP_INDIRECT, ir.sector_number, {segs, segs + ir.nr_segments}, ir.handle};
            op = ir.indirect_op;
        } else {
            s.segs.assign(req.seg, req.seg + std::min<unsigned>(req.nr_segments, 11));
        }
        seen.push_back(s);
        if (op == BLKIF_OP_FLUSH_DISKCACHE) return BLKIF_RSP_OKAY;
        if (op == BLKIF_OP_DISCARD) {
            const auto& d = reinterpret_cast<const blkif_request_discard_t&>(req);
            if (d.sector_number + d.nr_sectors > disk.size() / 512) return BLKIF_RSP_ERROR;
            std::memset(disk.data() + d.sector_number * 512, 0, d.nr_sectors * 512);
            return BLKIF_RSP_OKAY;
        }
        uint64_t sector = s.sector;
        for (const auto& seg : s.segs) {
            if (seg.last_sect < seg.first_sect || seg.last_sect > 7) return BLKIF_RSP_ERROR;
            const size_t n = (seg.last_sect - seg.first_sect + 1) * 512u;
            if ((sector * 512) + n > disk.size()) return BLKIF_RSP_ERROR;
            uint8_t* page = granted_page(env, seg.gref, op == BLKIF_OP_READ);
            if (!page) return BLKIF_RSP_ERROR;
            uint8_t* mem = page + seg.first_sect * 512;
            if (op == BLKIF_OP_READ)
                std::memcpy(mem, disk.data() + sector * 512, n);
            else
                std::memcpy(disk.data() + sector * 512, mem, n);
            sector += n / 512;
        }
        return BLKIF_RSP_OKAY;
    }

    void respond(uint64_t id, uint8_t op, int16_t status) {
        blkif_response_t* r = RING_GET_RESPONSE(&ring_, ring_.rsp_prod_pvt);
        r->id = id;
        r->operation = op;
        r->status = status;
        ++ring_.rsp_prod_pvt;
    }

    blkif_back_ring_t ring_{};
    evtchn_port_t port_ = 0;
};

class FrontBlk : public ::testing::Test {
  protected:
    void start(std::map<std::string, std::string> features, unsigned int order = 0) {
        be_ = std::make_unique<FakeBlkBack>(env_, std::move(features));
        env_.backend_step = [this] { be_->step(); };
        env_.init_grants(1);
        ASSERT_EQ(blkfront_open(&bf_, XBF_FIRST_DEVICE, order), 0);
    }
    // A page-aligned buffer of `pages` pages.
    uint8_t* buffer(unsigned int pages) { return static_cast<uint8_t*>(env_.alloc_pages(pages)); }

    FakeFrontEnv env_;
    std::unique_ptr<FakeBlkBack> be_;
    blkfront bf_{};
};

TEST_F(FrontBlk, ConnectsWithOneRingPageAndReadsTheDisk) {
    start({});
    EXPECT_EQ(be_->ring_pages, 1u);
    EXPECT_EQ(be_->front_key("ring-page-order"), "");
    EXPECT_EQ(be_->front_key("state"), "4");
    EXPECT_EQ(bf_.sectors, 1024u);
    EXPECT_EQ(bf_.sector_size, 512u);
    EXPECT_EQ(bf_.max_indirect, 0u);
    EXPECT_FALSE(bf_.feature_flush);
}

TEST_F(FrontBlk, MultiPageRingUpToWhatTheBackendOffers) {
    start({{"max-ring-page-order", "1"}}, 2);
    EXPECT_EQ(be_->ring_pages, 2u);
    EXPECT_EQ(be_->front_key("ring-page-order"), "1");
    EXPECT_NE(be_->front_key("ring-ref1"), "");
    EXPECT_EQ(RING_SIZE(&bf_.ring), 64u);
}

TEST_F(FrontBlk, SevenSectorsAcrossAPageAreTwoSegments) {
    start({});
    uint8_t* buf = buffer(2);
    for (int i = 0; i < 7 * 512; ++i) buf[3 * 512 + i] = static_cast<uint8_t>(i * 7);
    int16_t st = 99;
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_WRITE, 100, buf + 3 * 512, 7 * 512, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_OKAY);
    ASSERT_EQ(be_->seen.size(), 1u);
    const SeenRequest& r = be_->seen[0];
    EXPECT_EQ(r.operation, BLKIF_OP_WRITE);
    EXPECT_EQ(r.sector, 100u);
    EXPECT_EQ(r.handle, 51712);
    ASSERT_EQ(r.segs.size(), 2u);
    EXPECT_EQ(r.segs[0].first_sect, 3);
    EXPECT_EQ(r.segs[0].last_sect, 7);
    EXPECT_EQ(r.segs[1].first_sect, 0);
    EXPECT_EQ(r.segs[1].last_sect, 1);
    EXPECT_EQ(std::memcmp(be_->disk.data() + 100 * 512, buf + 3 * 512, 7 * 512), 0);

    uint8_t* back = buffer(2);
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 100, back + 512, 7 * 512, &st), 0);
    EXPECT_EQ(std::memcmp(back + 512, buf + 3 * 512, 7 * 512), 0);
    EXPECT_EQ(gnt_refs_in_use(), 1u);  // only the ring's: every data grant ended
    EXPECT_EQ(bf_.leaked_grants, 0u);
}

TEST_F(FrontBlk, WritesGrantReadOnlyAndReadsGrantWritable) {
    start({});
    uint8_t* buf = buffer(1);
    int16_t st;
    // A back-end that checks grants refuses to write into a read-only one, so a read through
    // a front-end that granted wrongly would fail; and the write path must not need writes.
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 0, buf, 4096, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_OKAY);
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_WRITE, 0, buf, 4096, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_OKAY);
}

TEST_F(FrontBlk, WithoutIndirectLargeIoSplitsIntoElevenSegmentRequestsInFlightTogether) {
    start({});
    uint8_t* buf = buffer(30);
    int16_t st;
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_WRITE, 8, buf, 30 * 4096, &st), 0);
    ASSERT_EQ(be_->seen.size(), 3u);
    EXPECT_EQ(be_->seen[0].segs.size(), 11u);
    EXPECT_EQ(be_->seen[1].segs.size(), 11u);
    EXPECT_EQ(be_->seen[1].sector, 8u + 88);
    EXPECT_EQ(be_->seen[2].segs.size(), 8u);
    EXPECT_EQ(bf_.kicks, 1u);  // all three queued before one kick
}

TEST_F(FrontBlk, IndirectRequestsWhenOfferedAndUseful) {
    start({{"feature-max-indirect-segments", "256"}});
    EXPECT_EQ(bf_.max_indirect, unsigned{BLKFRONT_MAX_INDIRECT_SEGS});
    uint8_t* buf = buffer(40);
    for (size_t i = 0; i < 40 * 4096; ++i) buf[i] = static_cast<uint8_t>(i >> 9);
    int16_t st;
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_WRITE, 0, buf, 40 * 4096, &st), 0);
    ASSERT_EQ(be_->seen.size(), 2u);
    EXPECT_EQ(be_->seen[0].operation, BLKIF_OP_INDIRECT);
    EXPECT_EQ(be_->seen[0].segs.size(), 32u);
    EXPECT_EQ(be_->seen[1].operation, BLKIF_OP_WRITE);  // the 8 pages left fit a direct one
    EXPECT_EQ(be_->seen[1].segs.size(), 8u);
    EXPECT_EQ(bf_.indirect_requests, 1u);
    EXPECT_EQ(std::memcmp(be_->disk.data(), buf, 40 * 4096), 0);
    EXPECT_EQ(gnt_refs_in_use(), 1u);  // the indirect page's grant ended too

    // Eleven pages or fewer never go indirect; blkfront_rw_direct never does.
    be_->seen.clear();
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 0, buf, 11 * 4096, &st), 0);
    ASSERT_EQ(blkfront_rw_direct(&bf_, BLKIF_OP_READ, 0, buf, 20 * 4096, 11, &st), 0);
    ASSERT_EQ(be_->seen.size(), 3u);
    for (const auto& r : be_->seen) EXPECT_EQ(r.operation, BLKIF_OP_READ);
}

TEST_F(FrontBlk, FixedSizeRequestsKeepEightInFlight) {
    start({{"feature-max-indirect-segments", "256"}});
    uint8_t* buf = buffer(8 * 16);
    int16_t st;
    // Eight 64 KiB requests of 16 segments each, indirect, one kick for all of them.
    ASSERT_EQ(blkfront_rw_segments(&bf_, BLKIF_OP_WRITE, 0, buf, 8 * 16 * 4096, 16, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_OKAY);
    ASSERT_EQ(be_->seen.size(), 8u);
    for (unsigned int i = 0; i < 8; ++i) {
        EXPECT_EQ(be_->seen[i].operation, BLKIF_OP_INDIRECT);
        EXPECT_EQ(be_->seen[i].segs.size(), 16u);
        EXPECT_EQ(be_->seen[i].sector, i * 128u);
    }
    EXPECT_EQ(bf_.kicks, 1u);
    EXPECT_EQ(gnt_refs_in_use(), 1u);

    // Small sizes are direct requests; more segments than the back-end takes are refused.
    be_->seen.clear();
    ASSERT_EQ(blkfront_rw_segments(&bf_, BLKIF_OP_READ, 0, buf, 4 * 4096, 1, &st), 0);
    ASSERT_EQ(be_->seen.size(), 4u);
    EXPECT_EQ(be_->seen[3].operation, BLKIF_OP_READ);
    EXPECT_EQ(blkfront_rw_segments(&bf_, BLKIF_OP_READ, 0, buf, 4096, 33, &st), -XEN_EINVAL);
}

TEST_F(FrontBlk, TheFirstBadStatusIsReturnedAndEveryGrantEnds) {
    start({});
    uint8_t* buf = buffer(2);
    int16_t st;
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 1023, buf, 2 * 512, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_ERROR);
    ASSERT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 1023, buf, 512, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_OKAY);
    EXPECT_EQ(gnt_refs_in_use(), 1u);
}

TEST_F(FrontBlk, RefusesWhatItCannotExpress) {
    start({});
    uint8_t* buf = buffer(1);
    int16_t st;
    EXPECT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 0, buf + 100, 512, &st), -XEN_EINVAL);
    EXPECT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 0, buf, 100, &st), -XEN_EINVAL);
    EXPECT_EQ(blkfront_rw(&bf_, BLKIF_OP_READ, 0, buf, 0, &st), -XEN_EINVAL);
    EXPECT_EQ(blkfront_rw(&bf_, BLKIF_OP_FLUSH_DISKCACHE, 0, buf, 512, &st), -XEN_EINVAL);
    EXPECT_EQ(blkfront_rw_direct(&bf_, BLKIF_OP_READ, 0, buf, 512, 12, &st), -XEN_EINVAL);
    EXPECT_TRUE(be_->seen.empty());
}

TEST_F(FrontBlk, FlushAndDiscard) {
    start({{"feature-flush-cache", "1"}, {"feature-discard", "1"}});
    EXPECT_TRUE(bf_.feature_flush);
    EXPECT_TRUE(bf_.feature_discard);
    int16_t st;
    ASSERT_EQ(blkfront_flush(&bf_, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_OKAY);
    ASSERT_EQ(be_->seen.size(), 1u);
    EXPECT_EQ(be_->seen[0].operation, BLKIF_OP_FLUSH_DISKCACHE);
    EXPECT_TRUE(be_->seen[0].segs.empty());
    std::memset(be_->disk.data(), 0xaa, 4096);
    ASSERT_EQ(blkfront_discard(&bf_, 2, 4, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_OKAY);
    EXPECT_EQ(be_->disk[2 * 512], 0);
    EXPECT_EQ(be_->disk[6 * 512], 0xaa);
    ASSERT_EQ(blkfront_discard(&bf_, 1020, 8, &st), 0);
    EXPECT_EQ(st, BLKIF_RSP_ERROR);
}

TEST_F(FrontBlk, RawRequestsForHostileTests) {
    start({});
    blkif_request_t req{};
    req.operation = BLKIF_OP_READ;
    req.nr_segments = 0;
    req.id = 0xabcd;
    blkfront_push_raw(&bf_, &req);
    blkif_response_t rsp{};
    ASSERT_EQ(blkfront_wait_raw(&bf_, &rsp, 1000), 0);
    EXPECT_EQ(rsp.id, 0xabcdu);
    EXPECT_EQ(rsp.status, BLKIF_RSP_OKAY);  // this fake does not check: the real one must
    EXPECT_EQ(blkfront_wait_raw(&bf_, &rsp, 1000), -XEN_ETIMEDOUT);
}

TEST_F(FrontBlk, CloseReleasesTheRing) {
    start({});
    ASSERT_EQ(blkfront_close(&bf_), 0);
    EXPECT_EQ(be_->state(), XenbusStateClosed);
    EXPECT_EQ(gnt_refs_in_use(), 0u);
}

}  // namespace
}  // namespace pvhv::test
