// The back-end half of a Xen shared ring (<xen/io/ring.h>) over granted pages, guest-hostile.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::back {

// The ring's frames as one byte range. A multi-page ring (blkif's ring-page-order) is granted
// page by page, and pvd maps each grant separately, so the frames are not contiguous in pvd:
// entries that straddle a page boundary are copied in pieces. The spans are views of mappings
// that the caller keeps alive (GrantMapping) for as long as the RingPages is used.
class RingPages {
  public:
    RingPages() = default;
    // Every page must be kPageSize bytes.
    explicit RingPages(std::vector<std::span<uint8_t>> pages) : pages_(std::move(pages)) {}

    size_t size() const { return pages_.size() * kPageSize; }

    // Byte copies; [offset, offset + len) must lie inside size() (the ring computes offsets
    // from its own masked indexes, never from guest values).
    void read(size_t offset, void* dst, size_t len) const {
        auto* out = static_cast<uint8_t*>(dst);
        while (len > 0) {
            const size_t in_page = offset % kPageSize;
            const size_t n = std::min(len, size_t{kPageSize} - in_page);
            std::memcpy(out, pages_[offset / kPageSize].data() + in_page, n);
            out += n, offset += n, len -= n;
        }
    }
    void write(size_t offset, const void* src, size_t len) {
        auto* in = static_cast<const uint8_t*>(src);
        while (len > 0) {
            const size_t in_page = offset % kPageSize;
            const size_t n = std::min(len, size_t{kPageSize} - in_page);
            std::memcpy(pages_[offset / kPageSize].data() + in_page, in, n);
            in += n, offset += n, len -= n;
        }
    }
    // One of the shared header's 32-bit indexes (page 0, naturally aligned), which the guest
    // writes concurrently: every access is atomic.
    std::atomic_ref<uint32_t> index(size_t offset) const {
        return std::atomic_ref<uint32_t>(
            *reinterpret_cast<uint32_t*>(pages_.at(0).data() + offset));
    }

  private:
    std::vector<std::span<uint8_t>> pages_;
};

// Xen's back ring (the back_ring of DEFINE_RING_TYPES plus the RING_* macros a back-end uses)
// for the ring entry union `Entry` of a protocol header, e.g. `union blkif_sring_entry` or
// `union netif_tx_sring_entry`, whose members `req` and `rsp` are the request and response.
//
// The guest owns the shared page and may write anything at any time, so:
// - the private indexes (req_cons, rsp_prod_pvt) live here, never re-read from the page;
// - a request is copied out of the ring exactly once (take()); callers validate the copy;
// - a producer index that claims more requests than the ring can hold is reported (the
//   front-end is broken or hostile: Linux's blkback/netback stop the ring and disconnect);
//   unconsumed() never returns more than the slots whose responses are free, so answering
//   every request taken never overwrites a request not yet taken.
// Not thread-safe: one back-end thread owns a ring.
template <typename Entry>
class BackRing {
  public:
    using Request = decltype(Entry::req);
    using Response = decltype(Entry::rsp);

    // The shared header of every Xen ring: req_prod, req_event, rsp_prod, rsp_event, then
    // padding to 64 bytes (offsetof(struct *_sring, ring) in ring.h).
    static constexpr size_t kReqProd = 0, kReqEvent = 4, kRspProd = 8, kRspEvent = 12;
    static constexpr size_t kHeaderBytes = 64;

    // Entries in a ring of `bytes` bytes: ring.h's __CONST_RING_SIZE, the largest power of two
    // that fits after the header.
    static constexpr uint32_t entries_for(size_t bytes) {
        return bytes < kHeaderBytes + sizeof(Entry)
                   ? 0
                   : std::bit_floor(uint32_t((bytes - kHeaderBytes) / sizeof(Entry)));
    }

    BackRing() = default;
    // Attaches to a ring the front-end initialised (SHARED_RING_INIT) and picks up where its
    // indexes are, as Linux's BACK_RING_ATTACH with the current rsp_prod: a front-end that
    // reconnects with a used ring is served from its current position.
    static Result<BackRing> attach(RingPages pages) {
        BackRing r;
        r.size_ = entries_for(pages.size());
        if (r.size_ == 0) return fail(XEN_EINVAL, "ring pages too small for one entry");
        r.pages_ = std::move(pages);
        r.rsp_prod_pvt_ = r.pages_.index(kRspProd).load(std::memory_order_acquire);
        r.req_cons_ = r.rsp_prod_pvt_;
        return r;
    }

    uint32_t size() const { return size_; }
    uint32_t req_cons() const { return req_cons_; }
    uint32_t rsp_prod_pvt() const { return rsp_prod_pvt_; }

    // Requests that may be taken now (RING_HAS_UNCONSUMED_REQUESTS), after one acquire load of
    // the guest's req_prod. XEN_EINVAL when req_prod claims more outstanding requests than the
    // ring holds (RING_REQUEST_PROD_OVERFLOW): the ring is unusable, stop serving it.
    Result<uint32_t> unconsumed() const {
        const uint32_t prod = pages_.index(kReqProd).load(std::memory_order_acquire);
        if (prod - rsp_prod_pvt_ > size_)
            return fail(XEN_EINVAL, "front-end's req_prod " + std::to_string(prod) +
                                        " is more than " + std::to_string(size_) +
                                        " requests past the responses (" +
                                        std::to_string(rsp_prod_pvt_) + ")");
        const uint32_t requests = prod - req_cons_;
        if (requests > size_)  // behind requests already taken: req_prod went backwards
            return fail(XEN_EINVAL, "front-end's req_prod " + std::to_string(prod) +
                                        " went back behind requests taken (" +
                                        std::to_string(req_cons_) + ")");
        const uint32_t free_responses = size_ - (req_cons_ - rsp_prod_pvt_);
        return std::min(requests, free_responses);
    }

    // Copies the next request out of the ring (RING_COPY_REQUEST) and consumes it. Only after
    // unconsumed() returned more than the requests taken since.
    Entry take() {
        Entry e{};
        pages_.read(slot_offset(req_cons_++), &e, sizeof(Entry));
        return e;
    }

    // Writes the next response (RING_GET_RESPONSE at rsp_prod_pvt); the guest sees it after
    // push_responses(). Only for a request taken and not yet answered.
    void put_response(const Response& rsp) {
        pages_.write(slot_offset(rsp_prod_pvt_++), &rsp, sizeof(Response));
    }

    // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publishes the responses written so far and tells
    // whether the front-end asked to be notified of them (its rsp_event lies in what was
    // published).
    bool push_responses() {
        const uint32_t old_prod = pages_.index(kRspProd).load(std::memory_order_relaxed);
        const uint32_t new_prod = rsp_prod_pvt_;
        pages_.index(kRspProd).store(new_prod, std::memory_order_release);  // entries first
        std::atomic_thread_fence(std::memory_order_seq_cst);  // rsp_prod before rsp_event
        const uint32_t event = pages_.index(kRspEvent).load(std::memory_order_relaxed);
        return uint32_t(new_prod - event) < uint32_t(new_prod - old_prod);
    }

    // RING_FINAL_CHECK_FOR_REQUESTS: before the back-end sleeps, asks for a kick on the next
    // request (req_event = req_cons + 1) and looks again, closing the race with a front-end
    // that produced in between. Returns the requests to take now (0: safe to sleep).
    // With `wanted` > 1 (netback's RX ring, where one packet needs several posted buffers)
    // the kick is asked for when the `wanted`-th request from req_cons arrives, and fewer
    // than `wanted` returned means the same: sleep until kicked. `wanted` is clamped to
    // [1, size()].
    Result<uint32_t> final_check_for_requests(uint32_t wanted = 1) {
        wanted = std::clamp(wanted, uint32_t{1}, size_);
        auto n = unconsumed();
        if (!n || *n >= wanted) return n;
        pages_.index(kReqEvent).store(req_cons_ + wanted, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);  // req_event before req_prod
        return unconsumed();
    }

  private:
    size_t slot_offset(uint32_t idx) const {
        return kHeaderBytes + size_t(idx & (size_ - 1)) * sizeof(Entry);
    }

    RingPages pages_;
    uint32_t size_ = 0;
    uint32_t req_cons_ = 0;      // next request to take
    uint32_t rsp_prod_pvt_ = 0;  // next response slot; published by push_responses()
};

}  // namespace pvhv::back
