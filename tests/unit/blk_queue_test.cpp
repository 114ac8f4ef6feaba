// blkback's request engine end to end: a fake front-end's ring, grants, io_uring on a /tmp image.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "blk_test_frontend.h"
#include "pvdrivers/back/blk/blk_disk.h"
#include "pvdrivers/back/blk/blk_queue.h"

namespace pvhv::blk {
namespace {

using testing::FakeBlkFrontend;
using testing::TempImage;

constexpr uint64_t kDiskBytes = 8 << 20;  // 16384 sectors

class BlkQueueTest;
void check_data_integrity(BlkQueueTest& t);
void check_indirect(BlkQueueTest& t);

class BlkQueueTest : public ::testing::Test {
  public:
    explicit BlkQueueTest(uint32_t ring_order = 0) : fe(ring_order) {}

    void SetUp() override {
        ASSERT_FALSE(image.path().empty());
        auto d = BlkDisk::open({.path = image.path(), .read_only = false, .direct_io = false});
        ASSERT_TRUE(d) << d.error().message;
        disk.emplace(std::move(*d));
        limits = BlkLimits{.sectors = disk->sectors(),
                           .read_only = false,
                           .flush = true,
                           .barrier = true,
                           .discard = true,
                           .max_indirect_segments = 256,
                           .grant_entries = FakeBlkFrontend::kGrantFrames * kGrantEntriesPerFrameV1};
    }
    void make_queue() {
        auto q = BlkQueue::create({.frontend = FakeBlkFrontend::kDomId,
                                   .grants = fe.table,
                                   .ring = fe.attach_ring(),
                                   .disk_fd = disk->fd(),
                                   .block_device = false,
                                   .limits = limits,
                                   .max_persistent_grants = persistent,
                                   .notify = [this] { ++notifies; },
                                   .fail = [this](std::string why) { failures.push_back(why); },
                                   .counters = &counters,
                                   .label = "test vbd"});
        ASSERT_TRUE(q) << q.error().message;
        queue = std::move(*q);
    }
    // Pushes what is queued, serves it to the end, returns the responses.
    std::vector<blkif_response> serve() {
        fe.push();
        queue->process_once();
        return fe.responses();
    }
    int16_t serve_one() {
        auto rsp = serve();
        EXPECT_EQ(rsp.size(), 1u);
        return rsp.empty() ? int16_t{99} : rsp[0].status;
    }
    std::vector<uint8_t> file(uint64_t offset, size_t len) {
        std::vector<uint8_t> out(len);
        EXPECT_EQ(::pread(disk->fd(), out.data(), len, static_cast<off_t>(offset)),
                  static_cast<ssize_t>(len));
        return out;
    }
    void fill_page(uint32_t page, uint32_t seed) {
        std::mt19937 rng(seed);
        for (size_t i = 0; i < kPageSize; ++i) fe.data_page(page)[i] = static_cast<uint8_t>(rng());
    }
    // Only the ring pages this test maps itself may stay pinned once everything is answered.
    void expect_no_data_pins() {
        for (const auto& a : fe.table->active_refs())
            EXPECT_LT(a.ref.value, FakeBlkFrontend::ring_ref(fe.ring_pages()).value)
                << "ref " << a.ref.value << " still pinned";
    }

    TempImage image{kDiskBytes};
    std::optional<BlkDisk> disk;
    FakeBlkFrontend fe;
    BlkLimits limits;
    uint32_t persistent = 0;  // max_persistent_grants
    BlkCounters counters;
    int notifies = 0;
    std::vector<std::string> failures;
    std::unique_ptr<BlkQueue> queue;
};

// A segment layout: page, first/last sector.
struct Seg {
    uint32_t page;
    uint8_t first, last;
    uint32_t bytes() const { return (last - first + 1u) * 512; }
};

TEST_F(BlkQueueTest, WriteThenReadWholePages) {
    make_queue();
    for (uint32_t p = 0; p < 11; ++p) fill_page(p, p + 1);
    fe.rw(BLKIF_OP_WRITE, 1, 64, 0, 11);
    auto w = serve();
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].id, 1u);
    EXPECT_EQ(w[0].operation, BLKIF_OP_WRITE);
    EXPECT_EQ(w[0].status, BLKIF_RSP_OKAY);
    for (uint32_t p = 0; p < 11; ++p)
        EXPECT_EQ(file(64 * 512 + p * kPageSize, kPageSize),
                  std::vector<uint8_t>(fe.data_page(p), fe.data_page(p) + kPageSize));
    fe.rw(BLKIF_OP_READ, 2, 64, 20, 11);
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    for (uint32_t p = 0; p < 11; ++p)
        EXPECT_EQ(0, std::memcmp(fe.data_page(p), fe.data_page(20 + p), kPageSize));
    EXPECT_EQ(counters.writes, 1u);
    EXPECT_EQ(counters.reads, 1u);
    EXPECT_EQ(counters.segments, 22u);
    EXPECT_EQ(counters.bytes_written, 11 * kPageSize);
    EXPECT_EQ(counters.bytes_read, 11 * kPageSize);
    expect_no_data_pins();
    EXPECT_TRUE(failures.empty());
}

// Many requests of random shapes per batch (disjoint disk ranges within a batch): what is
// written lands at the right place on disk, and reads bring it back into other pages.
void check_data_integrity(BlkQueueTest& t) {
    auto& fe = t.fe;
    auto& disk = t.disk;
    auto serve = [&] { return t.serve(); };
    auto file = [&](uint64_t o, size_t l) { return t.file(o, l); };
    auto fill_page = [&](uint32_t p, uint32_t seed) { t.fill_page(p, seed); };
    std::mt19937 rng(1234);
    const uint64_t zone = disk->sectors() / 8;
    for (int round = 0; round < 12; ++round) {
        struct Req {
            uint64_t sector;
            std::vector<Seg> segs;
        };
        std::vector<Req> reqs;
        uint32_t next_page = 0;
        for (uint32_t z = 0; z < 8; ++z) {
            Req r;
            const uint32_t n = 1 + rng() % 11;
            uint64_t sectors = 0;
            for (uint32_t i = 0; i < n; ++i) {
                const uint8_t a = rng() % 8, b = rng() % 8;
                r.segs.push_back({next_page++, std::min(a, b), std::max(a, b)});
                sectors += r.segs.back().bytes() / 512;
            }
            r.sector = z * zone + rng() % (zone - sectors);
            reqs.push_back(r);
        }
        for (uint32_t p = 0; p < next_page; ++p) fill_page(p, round * 1000 + p);
        for (size_t i = 0; i < reqs.size(); ++i) {
            blkif_request* w = fe.next_request();
            w->operation = BLKIF_OP_WRITE;
            w->id = i;
            w->sector_number = reqs[i].sector;
            w->nr_segments = static_cast<uint8_t>(reqs[i].segs.size());
            for (size_t s = 0; s < reqs[i].segs.size(); ++s)
                w->seg[s] = {FakeBlkFrontend::data_ref(reqs[i].segs[s].page).value,
                             reqs[i].segs[s].first, reqs[i].segs[s].last};
        }
        auto wr = serve();
        ASSERT_EQ(wr.size(), reqs.size());
        for (const auto& r : wr) EXPECT_EQ(r.status, BLKIF_RSP_OKAY);
        // On disk, and read back into pages 256.. with the same layout.
        for (size_t i = 0; i < reqs.size(); ++i) {
            uint64_t off = reqs[i].sector * 512;
            for (const Seg& s : reqs[i].segs) {
                const uint8_t* src = fe.data_page(s.page) + s.first * 512;
                EXPECT_EQ(file(off, s.bytes()), std::vector<uint8_t>(src, src + s.bytes()));
                off += s.bytes();
            }
            blkif_request* rd = fe.next_request();
            rd->operation = BLKIF_OP_READ;
            rd->id = 100 + i;
            rd->sector_number = reqs[i].sector;
            rd->nr_segments = static_cast<uint8_t>(reqs[i].segs.size());
            for (size_t s = 0; s < reqs[i].segs.size(); ++s)
                rd->seg[s] = {FakeBlkFrontend::data_ref(256 + reqs[i].segs[s].page).value,
                              reqs[i].segs[s].first, reqs[i].segs[s].last};
        }
        auto rr = serve();
        ASSERT_EQ(rr.size(), reqs.size());
        for (const auto& r : rr) EXPECT_EQ(r.status, BLKIF_RSP_OKAY);
        for (const auto& r : reqs)
            for (const Seg& s : r.segs)
                ASSERT_EQ(0, std::memcmp(fe.data_page(256 + s.page) + s.first * 512,
                                         fe.data_page(s.page) + s.first * 512, s.bytes()));
    }
}

TEST_F(BlkQueueTest, DataIntegrityForManySizesAndOffsets) {
    make_queue();
    check_data_integrity(*this);
    expect_no_data_pins();
    EXPECT_GT(counters.grant_maps, 0u);
}

void check_indirect(BlkQueueTest& t) {
    auto& fe = t.fe;
    auto& disk = t.disk;
    auto serve = [&] { return t.serve(); };
    auto fill_page = [&](uint32_t p, uint32_t seed) { t.fill_page(p, seed); };
    std::mt19937 rng(77);
    for (uint32_t n : {12u, 100u, 256u}) {
        std::vector<Seg> segs;
        uint64_t sectors = 0;
        for (uint32_t i = 0; i < n; ++i) {
            const uint8_t a = rng() % 8, b = rng() % 8;
            segs.push_back({i, std::min(a, b), std::max(a, b)});
            sectors += segs.back().bytes() / 512;
            fill_page(i, n * 7 + i);
        }
        auto* desc = reinterpret_cast<blkif_request_segment*>(fe.indirect_page(0));
        for (uint32_t i = 0; i < n; ++i)
            desc[i] = {FakeBlkFrontend::data_ref(i).value, segs[i].first, segs[i].last};
        const uint64_t sector = rng() % (disk->sectors() - sectors);
        for (uint8_t op : {uint8_t{BLKIF_OP_WRITE}, uint8_t{BLKIF_OP_READ}}) {
            if (op == BLKIF_OP_READ)  // read back into pages 256.. instead
                for (uint32_t i = 0; i < n; ++i) desc[i].gref = FakeBlkFrontend::data_ref(256 + i).value;
            auto* r = reinterpret_cast<blkif_request_indirect*>(fe.next_request());
            r->operation = BLKIF_OP_INDIRECT;
            r->indirect_op = op;
            r->nr_segments = static_cast<uint16_t>(n);
            r->id = n;
            r->sector_number = sector;
            r->indirect_grefs[0] = FakeBlkFrontend::indirect_ref(0).value;
            auto rsp = serve();
            ASSERT_EQ(rsp.size(), 1u);
            EXPECT_EQ(rsp[0].status, BLKIF_RSP_OKAY);
            EXPECT_EQ(rsp[0].operation, op);  // the indirect_op, as Linux answers
        }
        for (uint32_t i = 0; i < n; ++i)
            ASSERT_EQ(0, std::memcmp(fe.data_page(256 + i) + segs[i].first * 512,
                                     fe.data_page(i) + segs[i].first * 512, segs[i].bytes()));
    }
    EXPECT_EQ(t.counters.indirect, 6u);
}

TEST_F(BlkQueueTest, IndirectRequestsMoveData) {
    make_queue();
    check_indirect(*this);
    expect_no_data_pins();
}

TEST_F(BlkQueueTest, ABatchIsAnsweredWithOnePushAndOneKick) {
    make_queue();
    for (uint32_t i = 0; i < 20; ++i) fe.rw(BLKIF_OP_READ, i, i * 8, i, 1);
    auto rsp = serve();
    EXPECT_EQ(rsp.size(), 20u);
    std::set<uint64_t> ids;
    for (const auto& r : rsp) ids.insert(r.id);
    EXPECT_EQ(ids.size(), 20u);
    EXPECT_EQ(notifies, 1);
    EXPECT_EQ(counters.kicks_out, 1u);
    // The front-end did not re-arm rsp_event beyond what it consumed: a later batch kicks
    // only because responses() above re-armed it (RING_FINAL_CHECK_FOR_RESPONSES).
    fe.rw(BLKIF_OP_READ, 99, 0, 0, 1);
    EXPECT_EQ(serve().size(), 1u);
    EXPECT_EQ(notifies, 2);
}

// A flush is answered only after every write taken before it completed (and then synced).
TEST_F(BlkQueueTest, FlushIsAnsweredAfterTheWritesBeforeIt) {
    make_queue();
    for (int round = 0; round < 30; ++round) {
        for (uint32_t i = 0; i < 6; ++i) fe.rw(BLKIF_OP_WRITE, i, i * 88, i * 11, 11);
        blkif_request* f = fe.next_request();
        f->operation = BLKIF_OP_FLUSH_DISKCACHE;
        f->id = 1000;
        for (uint32_t i = 0; i < 3; ++i) fe.rw(BLKIF_OP_WRITE, 2000 + i, 4096 + i * 88, 66 + i * 11, 11);
        auto rsp = serve();
        ASSERT_EQ(rsp.size(), 10u);
        const auto flush = std::find_if(rsp.begin(), rsp.end(), [](auto& r) { return r.id == 1000; });
        ASSERT_NE(flush, rsp.end());
        EXPECT_EQ(flush->status, BLKIF_RSP_OKAY);
        EXPECT_EQ(flush->operation, BLKIF_OP_FLUSH_DISKCACHE);
        for (auto it = flush; it != rsp.end(); ++it) EXPECT_GE(it->id, 1000u) << "round " << round;
    }
    EXPECT_EQ(counters.flushes, 30u);
}

// A barrier waits for everything before it and holds everything after it; its own data is
// written and synced before it is answered.
TEST_F(BlkQueueTest, BarrierOrdersBothWaysAndWritesItsData) {
    make_queue();
    for (int round = 0; round < 20; ++round) {
        for (uint32_t i = 0; i < 4; ++i) fe.rw(BLKIF_OP_WRITE, i, i * 88, i * 11, 11);
        fill_page(100, round);
        fe.rw(BLKIF_OP_WRITE_BARRIER, 500, 1000, 100, 1);
        for (uint32_t i = 0; i < 4; ++i) fe.rw(i % 2 ? BLKIF_OP_READ : BLKIF_OP_WRITE, 900 + i, 2000 + i * 88, 50 + i * 11, 11);
        auto rsp = serve();
        ASSERT_EQ(rsp.size(), 9u);
        EXPECT_EQ(rsp[4].id, 500u) << "round " << round;
        EXPECT_EQ(rsp[4].status, BLKIF_RSP_OKAY);
        EXPECT_EQ(rsp[4].operation, BLKIF_OP_WRITE_BARRIER);
        for (int i = 0; i < 4; ++i) EXPECT_LT(rsp[i].id, 4u);
        for (int i = 5; i < 9; ++i) EXPECT_GE(rsp[i].id, 900u);
        EXPECT_EQ(file(1000 * 512, kPageSize),
                  std::vector<uint8_t>(fe.data_page(100), fe.data_page(100) + kPageSize));
    }
    EXPECT_EQ(counters.barriers, 20u);
}

TEST_F(BlkQueueTest, FlushWithDataWritesIt) {
    make_queue();
    fill_page(7, 7);
    fe.rw(BLKIF_OP_FLUSH_DISKCACHE, 1, 24, 7, 1);
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    EXPECT_EQ(file(24 * 512, kPageSize),
              std::vector<uint8_t>(fe.data_page(7), fe.data_page(7) + kPageSize));
    EXPECT_EQ(counters.bytes_written, kPageSize);
}

TEST_F(BlkQueueTest, DiscardPunchesAHoleAndKeepsTheSize) {
    if (!disk->can_discard()) GTEST_SKIP() << "/tmp cannot punch holes";
    make_queue();
    for (uint32_t p = 0; p < 4; ++p) fill_page(p, 40 + p);
    fe.rw(BLKIF_OP_WRITE, 1, 0, 0, 4);
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    auto* d = reinterpret_cast<blkif_request_discard*>(fe.next_request());
    d->operation = BLKIF_OP_DISCARD;
    d->id = 2;
    d->sector_number = 8;
    d->nr_sectors = 16;
    auto rsp = serve();
    ASSERT_EQ(rsp.size(), 1u);
    EXPECT_EQ(rsp[0].status, BLKIF_RSP_OKAY);
    EXPECT_EQ(rsp[0].operation, BLKIF_OP_DISCARD);
    EXPECT_EQ(file(8 * 512, 2 * kPageSize), std::vector<uint8_t>(2 * kPageSize, 0));
    EXPECT_EQ(file(0, kPageSize), std::vector<uint8_t>(fe.data_page(0), fe.data_page(0) + kPageSize));
    EXPECT_EQ(file(3 * kPageSize, kPageSize),
              std::vector<uint8_t>(fe.data_page(3), fe.data_page(3) + kPageSize));
    struct stat st {};
    ASSERT_EQ(::fstat(disk->fd(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), kDiskBytes);
    EXPECT_EQ(counters.discards, 1u);
}

TEST_F(BlkQueueTest, ReadOnlyDiskRefusesWritesAndLeavesTheImageAlone) {
    limits.read_only = true;
    limits.flush = limits.barrier = limits.discard = false;
    make_queue();
    fill_page(0, 5);
    fe.rw(BLKIF_OP_WRITE, 1, 0, 0, 1);
    fe.rw(BLKIF_OP_WRITE_BARRIER, 2, 0, 0, 1);
    fe.next_request()->operation = BLKIF_OP_FLUSH_DISKCACHE;
    fe.rw(BLKIF_OP_READ, 4, 0, 1, 1);
    auto rsp = serve();
    ASSERT_EQ(rsp.size(), 4u);
    EXPECT_EQ(rsp[0].status, BLKIF_RSP_ERROR);
    EXPECT_EQ(rsp[1].status, BLKIF_RSP_EOPNOTSUPP);  // not offered on a read-only disk
    EXPECT_EQ(rsp[2].status, BLKIF_RSP_EOPNOTSUPP);
    EXPECT_EQ(rsp[3].status, BLKIF_RSP_OKAY);
    EXPECT_EQ(file(0, kPageSize), std::vector<uint8_t>(kPageSize, 0));
    EXPECT_EQ(counters.errors, 1u);
    EXPECT_EQ(counters.unsupported, 2u);
}

// Every hostile request gets an error answer; the ring keeps working and nothing stays pinned.
TEST_F(BlkQueueTest, HostileRequestsAreAnsweredWithErrors) {
    make_queue();
    fe.rw(BLKIF_OP_READ, 1, disk->sectors() - 7, 0, 1);  // one sector past the end
    fe.rw(BLKIF_OP_WRITE, 2, ~uint64_t{0} - 3, 0, 1);    // wraps
    fe.rw(BLKIF_OP_READ, 3, 0, 0, 1)->nr_segments = 0;
    fe.rw(BLKIF_OP_WRITE, 4, 0, 0, 11)->nr_segments = 12;
    fe.rw(BLKIF_OP_READ, 5, 0, 0, 2)->seg[1] = {FakeBlkFrontend::data_ref(1).value, 6, 3};
    fe.rw(BLKIF_OP_READ, 6, 0, 0, 1)->seg[0].gref = 1500;  // in the table, never granted
    fe.grant(FakeBlkFrontend::data_ref(2), FakeBlkFrontend::kDataGfn + 2, 0, /*domid=*/5);
    fe.rw(BLKIF_OP_READ, 7, 0, 2, 1);                      // granted to domain 5
    fe.grant(FakeBlkFrontend::data_ref(3), FakeBlkFrontend::kDataGfn + 3, GTF_readonly);
    fe.rw(BLKIF_OP_READ, 8, 0, 3, 1);                      // a disk read needs a writable grant
    fe.rw(77, 9, 0, 0, 1);                                 // unknown operation
    fe.rw(BLKIF_OP_READ, 10, 0, 4, 3)->seg[2].gref = 1 << 30;  // beyond the table
    auto rsp = serve();
    ASSERT_EQ(rsp.size(), 10u);
    for (const auto& r : rsp) {
        EXPECT_EQ(r.status, r.id == 9 ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR) << "id " << r.id;
        if (r.id == 9) {
            EXPECT_EQ(r.operation, 77);
        }
    }
    EXPECT_TRUE(failures.empty());
    // A read-only grant is fine for a disk write (only read by the back-end).
    fe.rw(BLKIF_OP_WRITE, 11, 0, 3, 1);
    fe.rw(BLKIF_OP_READ, 12, 8, 0, 1);
    rsp = serve();
    ASSERT_EQ(rsp.size(), 2u);
    EXPECT_EQ(rsp[0].status, BLKIF_RSP_OKAY);
    EXPECT_EQ(rsp[1].status, BLKIF_RSP_OKAY);
    expect_no_data_pins();
    EXPECT_EQ(counters.errors, 9u);
    EXPECT_EQ(counters.unsupported, 1u);
}

TEST_F(BlkQueueTest, ProducerFarPastTheConsumerStopsTheRing) {
    make_queue();
    fe.rw(BLKIF_OP_READ, 1, 0, 0, 1);
    fe.push();
    std::atomic_ref<RING_IDX>(fe.sring->req_prod).store(1000);
    queue->process_once();
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_NE(failures[0].find("req_prod"), std::string::npos) << failures[0];
    EXPECT_TRUE(queue->broken());
    EXPECT_TRUE(fe.responses().empty());
    queue->process_once();  // stays stopped, silently
    EXPECT_EQ(failures.size(), 1u);
    EXPECT_EQ(fe.sring->rsp_prod, 0u);
}

// The front-end keeps producing without consuming responses: allowed up to a ring of
// requests the back-end has not answered; beyond that the ring is broken.
TEST_F(BlkQueueTest, RequestsWhileResponsesAreNotConsumed) {
    make_queue();
    const uint32_t n = RING_SIZE(&fe.front);
    for (int lap = 0; lap < 3; ++lap) {
        for (uint32_t i = 0; i < n; ++i) fe.rw(BLKIF_OP_READ, i, 0, 0, 1);
        fe.push();
        queue->process_once();
        EXPECT_TRUE(failures.empty());
        EXPECT_EQ(fe.sring->rsp_prod, (lap + 1) * n);
    }
    EXPECT_EQ(counters.reads, 3 * n);
    // Now one more than the ring can hold beyond the last response.
    std::atomic_ref<RING_IDX>(fe.sring->req_prod).store(fe.sring->rsp_prod + n + 1);
    queue->process_once();
    EXPECT_EQ(failures.size(), 1u);
}

TEST_F(BlkQueueTest, DirectIoMovesTheSameData) {
    auto d = BlkDisk::open({.path = image.path(), .read_only = false, .direct_io = true});
    if (!d) GTEST_SKIP() << "no O_DIRECT on /tmp: " << d.error().message;
    disk.emplace(std::move(*d));
    make_queue();
    auto r = fe.rw(BLKIF_OP_WRITE, 1, 40, 0, 3);
    r->seg[0].first_sect = 3;  // 512-byte aligned pieces of pages are fine for O_DIRECT
    for (uint32_t p = 0; p < 3; ++p) fill_page(p, 90 + p);
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    fe.rw(BLKIF_OP_READ, 2, 40, 10, 3)->seg[0].first_sect = 3;
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    EXPECT_EQ(0, std::memcmp(fe.data_page(10) + 3 * 512, fe.data_page(0) + 3 * 512, 5 * 512));
    EXPECT_EQ(0, std::memcmp(fe.data_page(11), fe.data_page(1), 2 * kPageSize));
}

TEST(BlkDisk, GeometryOfFilesAndRefusals) {
    TempImage odd(10 * 512 + 100);  // a partial last sector is not part of the disk
    auto d = BlkDisk::open({.path = odd.path(), .read_only = true, .direct_io = false});
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->sectors(), 10u);
    EXPECT_TRUE(d->read_only());
    EXPECT_FALSE(d->block_device());
    EXPECT_FALSE(d->can_discard());  // only a writable disk discards
    EXPECT_EQ(d->physical_sector_size(), 512u);
    auto none = BlkDisk::open({.path = "/nonexistent/disk", .read_only = false, .direct_io = false});
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("/nonexistent/disk"), std::string::npos);
}

class BlkQueuePersistentTest : public BlkQueueTest {
  protected:
    BlkQueuePersistentTest() { persistent = 1056; }
    // Data pages pinned right now (the ring and indirect pages excluded).
    size_t data_pins() {
        size_t n = 0;
        for (const auto& a : fe.table->active_refs())
            if (a.ref.value >= FakeBlkFrontend::data_ref(0).value) ++n;
        return n;
    }
};

TEST_F(BlkQueuePersistentTest, DataIntegrityWithGrantsKeptMapped) {
    make_queue();
    check_data_integrity(*this);
    check_indirect(*this);
    EXPECT_EQ(counters.grant_maps, 0u);  // every page mapped once, then reused
    EXPECT_EQ(counters.persistent_grants, data_pins() + 1);  // + the indirect page
    queue.reset();
    EXPECT_EQ(data_pins(), 0u);
}

TEST_F(BlkQueuePersistentTest, ReusedGrantsAreNotMappedAgain) {
    make_queue();
    for (int i = 0; i < 5; ++i) {
        fill_page(0, i);
        fe.rw(BLKIF_OP_WRITE, 1, 0, 0, 11);
        EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
        fe.rw(BLKIF_OP_READ, 2, 0, 20, 11);
        EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
        EXPECT_EQ(0, std::memcmp(fe.data_page(0), fe.data_page(20), kPageSize));
    }
    EXPECT_EQ(counters.persistent_grants, 22u);
    EXPECT_EQ(data_pins(), 22u);
    for (const auto& a : fe.table->active_refs())
        if (a.ref.value >= FakeBlkFrontend::data_ref(0).value) {
            EXPECT_EQ(a.writers, 1u);
        }
}

// The cache is bounded: past its size segments get per-request maps and the least recently
// used idle grants are dropped.
TEST_F(BlkQueuePersistentTest, TheCacheIsBoundedAndPurged) {
    persistent = 16;
    make_queue();
    for (uint32_t round = 0; round < 8; ++round) {
        for (uint32_t p = 0; p < 11; ++p) fill_page(round * 11 + p, round * 100 + p);
        fe.rw(BLKIF_OP_WRITE, round, round * 88, round * 11, 11);
        EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
        EXPECT_LE(data_pins(), 16u);
        EXPECT_LE(counters.persistent_grants, 16u);
    }
    EXPECT_GT(counters.grant_maps, 0u);
    for (uint32_t round = 0; round < 8; ++round)
        for (uint32_t p = 0; p < 11; ++p)
            ASSERT_EQ(file(round * 88 * 512 + p * kPageSize, kPageSize),
                      std::vector<uint8_t>(fe.data_page(round * 11 + p),
                                           fe.data_page(round * 11 + p) + kPageSize));
}

TEST_F(BlkQueuePersistentTest, ReadOnlyGrantFallsBackToAPerRequestMap) {
    make_queue();
    fe.grant(FakeBlkFrontend::data_ref(3), FakeBlkFrontend::kDataGfn + 3, GTF_readonly);
    fill_page(3, 3);
    fe.rw(BLKIF_OP_WRITE, 1, 0, 3, 1);  // the disk only reads the page: fine
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    EXPECT_EQ(counters.grant_maps, 1u);
    EXPECT_EQ(counters.persistent_grants, 0u);
    fe.rw(BLKIF_OP_READ, 2, 0, 3, 1);   // the disk would write it: refused
    EXPECT_EQ(serve_one(), BLKIF_RSP_ERROR);
    EXPECT_EQ(data_pins(), 0u);
}

// A guest that revokes (or re-points) a persistently mapped ref keeps the old frame pinned,
// as on Xen; pvd keeps using valid memory and lets go when the queue goes.
TEST_F(BlkQueuePersistentTest, RevokingAPersistentGrantDoesNoHarm) {
    make_queue();
    fill_page(0, 1);
    fe.rw(BLKIF_OP_WRITE, 1, 0, 0, 1);
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    fe.grant(FakeBlkFrontend::data_ref(0), FakeBlkFrontend::kDataGfn + 300);  // re-pointed
    fe.rw(BLKIF_OP_READ, 2, 0, 0, 1);
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);  // into the old frame, still pinned
    fe.ungrant(FakeBlkFrontend::data_ref(0));
    fe.rw(BLKIF_OP_READ, 3, 0, 0, 1);
    EXPECT_EQ(serve_one(), BLKIF_RSP_OKAY);
    EXPECT_EQ(data_pins(), 1u);
    queue.reset();
    EXPECT_EQ(data_pins(), 0u);
}

class BlkQueueMultiPageTest : public BlkQueueTest {
  protected:
    BlkQueueMultiPageTest() : BlkQueueTest(2) {}
};

TEST_F(BlkQueueMultiPageTest, FourPageRingServesAFullRing) {
    make_queue();
    ASSERT_EQ(queue->slots(), 128u);  // __CONST_RING_SIZE(blkif, 4 pages)
    for (uint32_t i = 0; i < 128; ++i) {
        fill_page(i, i);
        fe.rw(BLKIF_OP_WRITE, i, i * 8, i, 1);
    }
    auto rsp = serve();
    ASSERT_EQ(rsp.size(), 128u);  // requests straddling page boundaries included
    for (const auto& r : rsp) EXPECT_EQ(r.status, BLKIF_RSP_OKAY);
    for (uint32_t i = 0; i < 128; ++i)
        ASSERT_EQ(file(i * kPageSize, kPageSize),
                  std::vector<uint8_t>(fe.data_page(i), fe.data_page(i) + kPageSize));
}

}  // namespace
}  // namespace pvhv::blk
