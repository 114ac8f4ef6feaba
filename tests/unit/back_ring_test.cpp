// BackRing: Xen's back-ring index rules over pages a hostile front-end writes.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <vector>

// The front-ring macros need the barriers a guest kernel would define.
#define xen_mb() std::atomic_thread_fence(std::memory_order_seq_cst)
#define xen_rmb() std::atomic_thread_fence(std::memory_order_acquire)
#define xen_wmb() std::atomic_thread_fence(std::memory_order_release)
#include <atomic>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include "pvdrivers/back/ring/back_ring.h"

namespace pvhv::back {
namespace {

using BlkRing = BackRing<blkif_sring_entry>;

// ring.h's layout is what BackRing assumes: the header and the entry unions.
static_assert(offsetof(blkif_sring, ring) == BlkRing::kHeaderBytes);
static_assert(offsetof(netif_tx_sring, ring) == BlkRing::kHeaderBytes);
static_assert(offsetof(blkif_sring, req_event) == BlkRing::kReqEvent);
static_assert(offsetof(blkif_sring, rsp_prod) == BlkRing::kRspProd);
static_assert(offsetof(blkif_sring, rsp_event) == BlkRing::kRspEvent);
// The sizes Linux and Xen compute with __CONST_RING_SIZE.
static_assert(BlkRing::entries_for(4096) == __CONST_RING_SIZE(blkif, 4096));
static_assert(BlkRing::entries_for(4 * 4096) == __CONST_RING_SIZE(blkif, 4 * 4096));
static_assert(BackRing<netif_tx_sring_entry>::entries_for(4096) ==
              __CONST_RING_SIZE(netif_tx, 4096));

// A front-end over the same bytes, written with the real front-ring macros.
class BackRingTest : public ::testing::Test {
  protected:
    explicit BackRingTest(size_t pages = 1) : mem_(pages * kPageSize) {
        sring_ = reinterpret_cast<blkif_sring*>(mem_.data());
        SHARED_RING_INIT(sring_);
        FRONT_RING_INIT(&front_, sring_, mem_.size());
    }
    RingPages pages() {
        std::vector<std::span<uint8_t>> v;
        for (size_t off = 0; off < mem_.size(); off += kPageSize)
            v.push_back(std::span<uint8_t>(mem_).subspan(off, kPageSize));
        return RingPages(std::move(v));
    }
    void produce(uint64_t id) {
        blkif_request* r = RING_GET_REQUEST(&front_, front_.req_prod_pvt);
        *r = blkif_request{};
        r->operation = BLKIF_OP_READ;
        r->id = id;
        front_.req_prod_pvt++;
        int notify = 0;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front_, notify);
        last_notify_ = notify != 0;
    }

    std::vector<uint8_t> mem_;
    blkif_sring* sring_ = nullptr;
    blkif_front_ring front_{};
    bool last_notify_ = false;
};

TEST_F(BackRingTest, TakesRequestsInOrderAndAnswersThem) {
    auto ring = BlkRing::attach(pages());
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->size(), 32u);
    for (uint64_t id = 1; id <= 3; ++id) produce(id);
    ASSERT_EQ(ring->unconsumed().value(), 3u);
    for (uint64_t id = 1; id <= 3; ++id) {
        auto e = ring->take();
        EXPECT_EQ(e.req.id, id);
        ring->put_response(blkif_response{.id = e.req.id, .operation = e.req.operation,
                                          .status = BLKIF_RSP_OKAY});
    }
    EXPECT_EQ(ring->unconsumed().value(), 0u);
    // The front-end waits for the first response (rsp_event = 1 after SHARED_RING_INIT).
    EXPECT_TRUE(ring->push_responses());
    int more = 0;
    RING_FINAL_CHECK_FOR_RESPONSES(&front_, more);
    ASSERT_TRUE(more);
    for (uint64_t id = 1; id <= 3; ++id) {
        blkif_response* r = RING_GET_RESPONSE(&front_, front_.rsp_cons);
        EXPECT_EQ(r->id, id);
        front_.rsp_cons++;
    }
}

TEST_F(BackRingTest, NotifiesOnlyWhenTheFrontEndAskedForIt) {
    auto ring = BlkRing::attach(pages());
    produce(1);
    (void)ring->unconsumed();
    ring->take();
    ring->put_response(blkif_response{.id = 1, .operation = 0, .status = 0});
    sring_->rsp_event = 5;  // "wake me at response 5"
    EXPECT_FALSE(ring->push_responses());
    for (uint64_t id = 2; id <= 5; ++id) produce(id);
    ASSERT_EQ(ring->unconsumed().value(), 4u);
    for (int i = 0; i < 4; ++i) {
        auto e = ring->take();
        ring->put_response(blkif_response{.id = e.req.id, .operation = 0, .status = 0});
    }
    EXPECT_TRUE(ring->push_responses());
}

TEST_F(BackRingTest, FinalCheckArmsReqEventAndSeesLateRequests) {
    auto ring = BlkRing::attach(pages());
    EXPECT_EQ(ring->final_check_for_requests().value(), 0u);
    EXPECT_EQ(sring_->req_event, 1u);  // kick me at the next request
    produce(7);
    EXPECT_TRUE(last_notify_);  // the front-end sees it must kick
    EXPECT_EQ(ring->final_check_for_requests().value(), 1u);
    EXPECT_EQ(ring->take().req.id, 7u);
    EXPECT_EQ(ring->final_check_for_requests().value(), 0u);
    EXPECT_EQ(sring_->req_event, 2u);
}

TEST_F(BackRingTest, FinalCheckForSeveralRequestsAsksForTheLastOfThem) {
    auto ring = BlkRing::attach(pages());
    produce(1);
    // One is there, three are wanted: kick me when the third from req_cons arrives.
    EXPECT_EQ(ring->final_check_for_requests(3).value(), 1u);
    EXPECT_EQ(sring_->req_event, 3u);
    produce(2);
    EXPECT_FALSE(last_notify_);
    produce(3);
    EXPECT_TRUE(last_notify_);
    EXPECT_EQ(ring->final_check_for_requests(3).value(), 3u);
    // Enough already there: req_event is left alone.
    sring_->req_event = 77;
    EXPECT_EQ(ring->final_check_for_requests(2).value(), 3u);
    EXPECT_EQ(sring_->req_event, 77u);
    // 0 means 1; more than the ring means the whole ring.
    for (int i = 0; i < 3; ++i) ring->take();
    EXPECT_EQ(ring->final_check_for_requests(0).value(), 0u);
    EXPECT_EQ(sring_->req_event, 4u);
    EXPECT_EQ(ring->final_check_for_requests(1000).value(), 0u);
    EXPECT_EQ(sring_->req_event, 3u + ring->size());
}

TEST_F(BackRingTest, NeverHandsOutMoreRequestsThanFreeResponseSlots) {
    auto ring = BlkRing::attach(pages());
    for (uint64_t id = 0; id < 32; ++id) produce(id);
    ASSERT_EQ(ring->unconsumed().value(), 32u);
    for (int i = 0; i < 32; ++i) ring->take();
    // All 32 slots hold requests in flight: a front-end that claims more is overflowing.
    sring_->req_prod += 1;
    EXPECT_FALSE(ring->unconsumed());
    sring_->req_prod -= 1;
    // Answer one: one slot is free again, and the front-end may produce into it.
    ring->put_response(blkif_response{.id = 0, .operation = 0, .status = 0});
    ring->push_responses();
    sring_->req_prod += 1;
    EXPECT_EQ(ring->unconsumed().value(), 1u);
}

TEST_F(BackRingTest, ProducerFarPastTheConsumerIsAnError) {
    auto ring = BlkRing::attach(pages());
    sring_->req_prod = 1000;
    auto n = ring->unconsumed();
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().xen_errno, XEN_EINVAL);
    EXPECT_FALSE(ring->final_check_for_requests());
    sring_->req_prod = 0xffffffffu;  // "behind" by wrap-around: also more than the ring holds
    EXPECT_FALSE(ring->unconsumed());
}

TEST_F(BackRingTest, ProducerMovingBackwardsIsAnError) {
    auto ring = BlkRing::attach(pages());
    for (uint64_t id = 0; id < 4; ++id) produce(id);
    (void)ring->unconsumed();
    for (int i = 0; i < 4; ++i) ring->take();
    sring_->req_prod = 2;  // behind req_cons, yet not past the responses by more than the ring
    EXPECT_FALSE(ring->unconsumed());
}

TEST_F(BackRingTest, RequestIsCopiedOnceTheGuestRewritingItChangesNothing) {
    auto ring = BlkRing::attach(pages());
    produce(42);
    (void)ring->unconsumed();
    auto e = ring->take();
    RING_GET_REQUEST(&front_, 0)->id = 99;  // after the copy
    EXPECT_EQ(e.req.id, 42u);
}

TEST_F(BackRingTest, AttachResumesAtTheSharedResponseIndex) {
    for (uint64_t id = 0; id < 5; ++id) produce(id);
    sring_->rsp_prod = 5;  // a previous back-end answered five
    front_.rsp_cons = 5;
    produce(5);
    auto ring = BlkRing::attach(pages());
    ASSERT_EQ(ring->unconsumed().value(), 1u);
    EXPECT_EQ(ring->take().req.id, 5u);
}

class MultiPageBackRingTest : public BackRingTest {
  protected:
    MultiPageBackRingTest() : BackRingTest(4) {}
};

TEST_F(MultiPageBackRingTest, EntriesStraddlingPagesArriveWhole) {
    auto ring = BlkRing::attach(pages());
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->size(), 128u);  // (4*4096 - 64) / 112 = 145 -> 128
    // Slot 36 spans the first page boundary: 64 + 36 * 112 = 4096 - 64 ... + 112.
    for (uint64_t id = 0; id < 100; ++id) {
        blkif_request* r = RING_GET_REQUEST(&front_, front_.req_prod_pvt);
        *r = blkif_request{};
        r->id = id;
        r->nr_segments = 11;
        for (auto& s : r->seg) s.gref = grant_ref_t(id * 100);
        r->seg[10].last_sect = 7;
        front_.req_prod_pvt++;
    }
    RING_PUSH_REQUESTS(&front_);
    ASSERT_EQ(ring->unconsumed().value(), 100u);
    for (uint64_t id = 0; id < 100; ++id) {
        auto e = ring->take();
        ASSERT_EQ(e.req.id, id);
        EXPECT_EQ(e.req.nr_segments, 11);
        EXPECT_EQ(e.req.seg[10].gref, grant_ref_t(id * 100));
        EXPECT_EQ(e.req.seg[10].last_sect, 7);
        ring->put_response(blkif_response{.id = id, .operation = 0, .status = 0});
    }
    ring->push_responses();
    for (uint64_t id = 0; id < 100; ++id)
        EXPECT_EQ(RING_GET_RESPONSE(&front_, id)->id, id);
}

TEST(BackRingAttach, RefusesPagesTooSmallForAnEntry) {
    EXPECT_FALSE(BlkRing::attach(RingPages{}));
}

}  // namespace
}  // namespace pvhv::back
