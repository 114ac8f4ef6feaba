// libFuzzer target: a front-end that writes arbitrary blkif rings, indirect pages and grant
// entries, served by blkback's real parser and request engine (io_uring on a memfd disk).
#include <fuzzer/FuzzedDataProvider.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "pvdrivers/back/blk/blk_disk.h"
#include "pvdrivers/back/blk/blk_queue.h"
#include "tests/unit/blk_test_frontend.h"

namespace {

using namespace pvhv;
using namespace pvhv::blk;
using pvhv::testing::FakeBlkFrontend;

constexpr uint64_t kDiskBytes = 1 << 20;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "blkif_ring_fuzz invariant broken: %s\n", what);
    std::abort();
}

// The disk: a memfd (a regular file that can punch holes), opened by path like any image.
const BlkDisk& disk() {
    static const BlkDisk d = [] {
        const int fd = ::memfd_create("blkif-fuzz-disk", MFD_CLOEXEC);
        if (fd < 0 || ::ftruncate(fd, kDiskBytes) != 0) die("memfd");
        auto r = BlkDisk::open({.path = "/proc/self/fd/" + std::to_string(fd),
                                .read_only = false,
                                .direct_io = false});
        if (!r) die("open the disk");
        return std::move(*r);
    }();
    return d;
}

FakeBlkFrontend& frontend(uint32_t order) {
    static FakeBlkFrontend one_page(0), four_pages(2);
    return order == 0 ? one_page : four_pages;
}

// Every ref back to what the front-end granted at construction; everything else revoked.
void reset_grants(FakeBlkFrontend& fe) {
    for (uint32_t ref = 0; ref < FakeBlkFrontend::kGrantFrames * kGrantEntriesPerFrameV1; ++ref)
        fe.ungrant(GrantRef{ref});
    for (uint32_t i = 0; i < fe.ring_pages(); ++i)
        fe.grant(FakeBlkFrontend::ring_ref(i), FakeBlkFrontend::kRingGfn + i);
    for (uint32_t i = 0; i < FakeBlkFrontend::kIndirectPages; ++i)
        fe.grant(FakeBlkFrontend::indirect_ref(i), FakeBlkFrontend::kIndirectGfn + i);
    for (uint32_t i = 0; i < FakeBlkFrontend::kDataPages; ++i)
        fe.grant(FakeBlkFrontend::data_ref(i), FakeBlkFrontend::kDataGfn + i);
}

// Only the ring pages (mapped by the front-end helper for the queue) and at most
// `persistent` kept grants may stay pinned between rounds: every other data and indirect
// page is released once its request is answered.
void check_pins(FakeBlkFrontend& fe, uint32_t persistent) {
    uint32_t kept = 0;
    for (const auto& a : fe.table->active_refs()) {
        const bool ring = a.ref.value >= FakeBlkFrontend::ring_ref(0).value &&
                          a.ref.value < FakeBlkFrontend::ring_ref(fe.ring_pages()).value;
        if (!ring && ++kept > persistent) die("a data or indirect page stayed pinned");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    FakeBlkFrontend& fe = frontend(in.ConsumeBool() ? 0 : 2);
    reset_grants(fe);
    uint8_t* ring = reinterpret_cast<uint8_t*>(fe.sring);
    const size_t ring_bytes = fe.ring_pages() * kPageSize;
    std::memset(ring, 0, ring_bytes);
    SHARED_RING_INIT(fe.sring);
    FRONT_RING_INIT(&fe.front, fe.sring, ring_bytes);

    const uint8_t features = in.ConsumeIntegral<uint8_t>();
    const BlkLimits limits{.sectors = disk().sectors(),
                           .read_only = (features & 1) != 0,
                           .flush = (features & 2) != 0,
                           .barrier = (features & 4) != 0,
                           .discard = (features & 8) != 0,
                           .max_indirect_segments = in.ConsumeIntegralInRange<uint32_t>(0, 256),
                           .grant_entries =
                               FakeBlkFrontend::kGrantFrames * kGrantEntriesPerFrameV1};
    const uint32_t persistent = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(1, 40) : 0;
    BlkCounters counters;
    int failures = 0;
    auto q = BlkQueue::create({.frontend = FakeBlkFrontend::kDomId,
                               .grants = fe.table,
                               .ring = fe.attach_ring(),
                               .disk_fd = disk().fd(),
                               .block_device = false,
                               .limits = limits,
                               .max_persistent_grants = persistent,
                               .notify = [] {},
                               .fail = [&](std::string) { ++failures; },
                               .counters = &counters,
                               .label = "fuzz vbd"});
    if (!q) die("queue creation");
    BlkQueue& queue = **q;

    while (in.remaining_bytes() > 0) {
        switch (in.ConsumeIntegralInRange<int>(0, 6)) {
            case 0: {  // raw bytes anywhere in the ring, header included
                const size_t at = in.ConsumeIntegralInRange<size_t>(0, ring_bytes - 1);
                auto bytes = in.ConsumeBytes<uint8_t>(std::min<size_t>(ring_bytes - at, 256));
                if (!bytes.empty()) std::memcpy(ring + at, bytes.data(), bytes.size());
                break;
            }
            case 1: {  // a request built field by field, with plausible refs
                blkif_request* r = fe.next_request();
                r->operation = in.ConsumeIntegralInRange<uint8_t>(0, 7);
                r->nr_segments = in.ConsumeIntegralInRange<uint8_t>(0, 12);
                r->id = in.ConsumeIntegral<uint64_t>();
                r->sector_number = in.ConsumeBool() ? in.ConsumeIntegral<uint64_t>()
                                                    : in.ConsumeIntegralInRange<uint64_t>(0, 2100);
                for (auto& s : r->seg)
                    s = {in.ConsumeIntegralInRange<uint32_t>(0, 700),
                         in.ConsumeIntegralInRange<uint8_t>(0, 8),
                         in.ConsumeIntegralInRange<uint8_t>(0, 8)};
                if (r->operation == BLKIF_OP_INDIRECT) {
                    blkif_request_indirect ind{};
                    ind.operation = BLKIF_OP_INDIRECT;
                    ind.indirect_op = in.ConsumeIntegralInRange<uint8_t>(0, 3);
                    ind.nr_segments = in.ConsumeIntegralInRange<uint16_t>(0, 300);
                    ind.id = r->id;
                    ind.sector_number = r->sector_number;
                    for (auto& g : ind.indirect_grefs) g = in.ConsumeIntegralInRange<uint32_t>(30, 41);
                    std::memcpy(r, &ind, sizeof ind);
                }
                fe.push();
                break;
            }
            case 2: {  // the producer index, sane or not
                const uint32_t prod = in.ConsumeBool()
                                          ? fe.sring->rsp_prod + in.ConsumeIntegralInRange<uint32_t>(0, 140)
                                          : in.ConsumeIntegral<uint32_t>();
                std::atomic_ref<RING_IDX>(fe.sring->req_prod).store(prod);
                break;
            }
            case 3: {  // indirect descriptors
                const uint32_t page = in.ConsumeIntegralInRange<uint32_t>(0, FakeBlkFrontend::kIndirectPages - 1);
                auto* segs = reinterpret_cast<blkif_request_segment*>(fe.indirect_page(page));
                const uint32_t from = in.ConsumeIntegralInRange<uint32_t>(0, kSegmentsPerIndirectPage - 1);
                const uint32_t n = in.ConsumeIntegralInRange<uint32_t>(0, 64);
                for (uint32_t i = from; i < std::min(from + n, kSegmentsPerIndirectPage); ++i)
                    segs[i] = {in.ConsumeIntegralInRange<uint32_t>(95, 620), 0,
                               in.ConsumeIntegralInRange<uint8_t>(0, 8)};
                break;
            }
            case 4: {  // a grant entry changes: revoked, read-only, another domain, other frame
                const GrantRef ref{in.ConsumeIntegralInRange<uint32_t>(0, 2047)};
                const uint16_t flags = in.ConsumeBool() ? GTF_readonly : 0;
                if (in.ConsumeBool())
                    fe.ungrant(ref);
                else
                    fe.grant(ref, in.ConsumeIntegralInRange<uint64_t>(0, 1100), flags,
                             in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint16_t>());
                break;
            }
            default: {  // the back-end serves what is there
                // The guest may have scribbled on rsp_prod: count our own responses.
                const uint64_t answered = counters.responses;
                queue.process_once();
                check_pins(fe, persistent);
                const uint64_t written = counters.responses - answered;
                if (queue.broken() != (failures > 0)) die("broken without fail(), or the reverse");
                if (failures > 1) die("fail() more than once");
                if (written > queue.slots()) die("more responses than the ring holds in one round");
                if (queue.broken()) break;  // what it wrote before stopping is not published
                const RING_IDX after = fe.sring->rsp_prod;  // just published (if any)
                for (RING_IDX i = after - static_cast<RING_IDX>(written); i != after; ++i) {
                    const int16_t st = RING_GET_RESPONSE(&fe.front, i)->status;
                    if (st != BLKIF_RSP_OKAY && st != BLKIF_RSP_ERROR && st != BLKIF_RSP_EOPNOTSUPP)
                        die("invalid response status");
                }
                break;
            }
        }
    }
    queue.process_once();
    check_pins(fe, persistent);
    q->reset();
    fe.ring_maps.clear();
    if (!fe.table->active_refs().empty()) die("pins left after the queue went away");
    return 0;
}
