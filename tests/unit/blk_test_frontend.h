// A blkif front-end over a fake guest (RAM and grant table), for blkback's tests and fuzzer.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

// The front-ring macros need the barriers a guest kernel would define.
#define xen_mb() std::atomic_thread_fence(std::memory_order_seq_cst)
#define xen_rmb() std::atomic_thread_fence(std::memory_order_acquire)
#define xen_wmb() std::atomic_thread_fence(std::memory_order_release)

#include "hv/gnttab/grant_access.h"
#include "hv/gnttab/grant_table.h"
#include "hv/gnttab/grantable_ram.h"
#include "pvdrivers/back/blk/blk_queue.h"

namespace pvhv::testing {

// Guest d7 with 4 MiB of RAM and a 4-frame grant table (2048 refs). Guest-physical layout:
// the ring at gfn 16 (up to 16 pages), indirect pages at gfn 32.., data pages at gfn 64..
// Refs: ring page i is 8 + i, indirect page i is 32 + i, data page i is 100 + i; every one
// granted to dom0 read-write at construction, as Linux's blkfront does.
class FakeBlkFrontend {
  public:
    static constexpr DomId kDomId{7};
    static constexpr uint64_t kRam = 4 << 20;
    static constexpr uint64_t kRingGfn = 16, kIndirectGfn = 32, kDataGfn = 64;
    static constexpr uint32_t kIndirectPages = 8, kDataPages = 512;
    static constexpr uint32_t kGrantFrames = 4;

    explicit FakeBlkFrontend(uint32_t ring_order = 0) : ring_pages_(1u << ring_order) {
        auto region = MemoryRegion::create(Gpa{0}, kRam, "ram");
        (void)mem.add_region(std::move(*region));
        auto frames = GrantTable::allocate_frames(kDomId, kGrantFrames);
        auto ram = std::make_unique<LayoutGrantableRam>(mem, std::vector<PhysRange>{{0, kRam}});
        table = *GrantTable::create({kDomId, kGrantFrames}, std::move(*frames), std::move(ram));
        (void)table->setup(kGrantFrames);
        for (uint32_t i = 0; i < ring_pages_; ++i) grant(ring_ref(i), kRingGfn + i);
        for (uint32_t i = 0; i < kIndirectPages; ++i) grant(indirect_ref(i), kIndirectGfn + i);
        for (uint32_t i = 0; i < kDataPages; ++i) grant(data_ref(i), kDataGfn + i);
        sring = reinterpret_cast<blkif_sring*>(page_at(kRingGfn));
        SHARED_RING_INIT(sring);
        FRONT_RING_INIT(&front, sring, ring_pages_ * kPageSize);
    }

    uint32_t ring_pages() const { return ring_pages_; }
    static GrantRef ring_ref(uint32_t i) { return GrantRef{8 + i}; }
    static GrantRef indirect_ref(uint32_t i) { return GrantRef{32 + i}; }
    static GrantRef data_ref(uint32_t i) { return GrantRef{100 + i}; }
    uint8_t* data_page(uint32_t i) { return page_at(kDataGfn + i); }
    uint8_t* indirect_page(uint32_t i) { return page_at(kIndirectGfn + i); }
    uint8_t* page_at(uint64_t gfn) { return mem.span(Gpa{gfn << kPageShift}, kPageSize)->data(); }

    grant_entry_v1_t* entry(GrantRef ref) {
        auto f = table->frame_bytes(ref.value / kGrantEntriesPerFrameV1);
        return reinterpret_cast<grant_entry_v1_t*>(f->data()) + ref.value % kGrantEntriesPerFrameV1;
    }
    void grant(GrantRef ref, uint64_t gfn, uint16_t extra_flags = 0, uint16_t domid = 0) {
        grant_entry_v1_t* e = entry(ref);
        e->domid = domid;
        e->frame = static_cast<uint32_t>(gfn);
        std::atomic_ref<uint16_t>(e->flags).store(GTF_permit_access | extra_flags,
                                                  std::memory_order_release);
    }
    void ungrant(GrantRef ref) {
        std::atomic_ref<uint16_t>(entry(ref)->flags).store(0, std::memory_order_release);
    }

    // The back-end's view of the ring: its pages mapped as blkback maps them.
    blk::BlkRing attach_ring() {
        ring_maps.clear();
        std::vector<std::span<uint8_t>> spans;
        for (uint32_t i = 0; i < ring_pages_; ++i) {
            ring_maps.push_back(*map_grant(*table, ring_ref(i), false));
            spans.push_back(ring_maps.back().writable_bytes());
        }
        return *blk::BlkRing::attach(back::RingPages(std::move(spans)));
    }

    // The next request slot, zeroed; push() publishes everything queued since the last one.
    blkif_request* next_request() {
        auto* r = RING_GET_REQUEST(&front, front.req_prod_pvt);
        std::memset(r, 0, sizeof *r);
        front.req_prod_pvt++;
        return r;
    }
    // A read or write of whole data pages [first_page, first_page + n) at `sector`.
    blkif_request* rw(uint8_t op, uint64_t id, uint64_t sector, uint32_t first_page, uint32_t n) {
        blkif_request* r = next_request();
        r->operation = op;
        r->id = id;
        r->sector_number = sector;
        r->nr_segments = static_cast<uint8_t>(n);
        for (uint32_t i = 0; i < n; ++i)
            r->seg[i] = {data_ref(first_page + i).value, 0, 7};
        return r;
    }
    bool push() {
        int notify = 0;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
        return notify != 0;
    }
    // Every response published since the last call, in ring order.
    std::vector<blkif_response> responses() {
        std::vector<blkif_response> out;
        int more = 0;
        do {
            const RING_IDX prod = std::atomic_ref<RING_IDX>(sring->rsp_prod).load(std::memory_order_acquire);
            while (front.rsp_cons != prod) out.push_back(*RING_GET_RESPONSE(&front, front.rsp_cons++));
            RING_FINAL_CHECK_FOR_RESPONSES(&front, more);
        } while (more);
        return out;
    }

    GuestMemory mem;  // first: outlives the table and every mapping
    std::shared_ptr<GrantTable> table;
    blkif_sring* sring = nullptr;
    blkif_front_ring_t front{};
    std::vector<GrantMapping> ring_maps;

  private:
    uint32_t ring_pages_;
};

// A raw image file of `bytes` (sparse, zeros) under /tmp, removed with the object.
class TempImage {
  public:
    explicit TempImage(uint64_t bytes) {
        char name[] = "/tmp/pvhv-blk-XXXXXX";
        const int fd = ::mkstemp(name);
        if (fd >= 0) {
            path_ = name;
            if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) path_.clear();
            ::close(fd);
        }
    }
    ~TempImage() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    TempImage(const TempImage&) = delete;
    TempImage& operator=(const TempImage&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace pvhv::testing
