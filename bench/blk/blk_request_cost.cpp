// blkback's host cost per request: a fake front-end's requests through the real engine (callgrind).
//
//   pvhv-blk-request-cost read|write KIB BATCH ITERATIONS [persistent]
//       requests of KIB (4..1024, multiple of 4) in batches; > 44 KiB indirect; persistent:
//       with feature-persistent (grants stay mapped between requests)
//   pvhv-blk-request-cost map|copy PAGES ITERATIONS          grant map+unmap vs copy of 4 KiB
//
// Only the back-end's work is inside the functions named blk_bench_*; count them with
//   valgrind --tool=callgrind --toggle-collect='blk_bench_*' pvhv-blk-request-cost ...
// and divide the total Ir by the requests (or pages) printed. Kernel work (io_uring, the
// page cache copy) is not in callgrind's count.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pvdrivers/back/blk/blk_disk.h"
#include "pvdrivers/back/blk/blk_queue.h"
#include "tests/unit/blk_test_frontend.h"

using namespace pvhv;
using namespace pvhv::blk;
using pvhv::testing::FakeBlkFrontend;
using pvhv::testing::TempImage;

extern "C" {
__attribute__((noinline)) void blk_bench_serve(BlkQueue* q) { q->process_once(); }

__attribute__((noinline)) void blk_bench_map(GrantTable* t, uint32_t pages, uint8_t* sink) {
    for (uint32_t i = 0; i < pages; ++i) {
        auto m = map_grant(*t, FakeBlkFrontend::data_ref(i), /*readonly=*/true);
        if (!m) std::abort();
        sink[i % kPageSize] ^= m->bytes()[0];  // the back-end would hand the page to readv
    }
}

__attribute__((noinline)) void blk_bench_copy(GrantTable* t, uint32_t pages, uint8_t* bounce) {
    for (uint32_t i = 0; i < pages; ++i)
        if (!copy_grant(GrantedBytes{*t, FakeBlkFrontend::data_ref(i), 0},
                        std::span<uint8_t>(bounce + i * kPageSize, kPageSize), kPageSize))
            std::abort();
}
}

namespace {

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: pvhv-blk-request-cost read|write KIB BATCH ITERATIONS [persistent]\n"
                 "       pvhv-blk-request-cost map|copy PAGES ITERATIONS\n");
    std::exit(2);
}

uint32_t number(const char* s) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(s, &end, 10);
    if (!end || *end || v == 0 || v > 1000000) usage();
    return static_cast<uint32_t>(v);
}

int grant_cost(bool map, uint32_t pages, uint32_t iterations) {
    if (pages > FakeBlkFrontend::kDataPages) usage();
    FakeBlkFrontend fe;
    std::vector<uint8_t> buffer(pages * kPageSize);
    for (uint32_t it = 0; it < iterations; ++it) {
        if (map)
            blk_bench_map(fe.table.get(), pages, buffer.data());
        else
            blk_bench_copy(fe.table.get(), pages, buffer.data());
    }
    std::printf("%s: %u pages x %u iterations = %u pages\n", map ? "grant map+unmap" : "grant copy",
                pages, iterations, pages * iterations);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage();
    const std::string mode = argv[1];
    if ((mode == "map" || mode == "copy") && argc == 4)
        return grant_cost(mode == "map", number(argv[2]), number(argv[3]));
    if ((mode != "read" && mode != "write") || argc < 5 || argc > 6) usage();
    const bool persistent = argc == 6 && std::string(argv[5]) == "persistent";
    if (argc == 6 && !persistent) usage();
    const uint32_t kib = number(argv[2]), batch = number(argv[3]), iterations = number(argv[4]);
    const uint32_t segs = kib / 4;
    if (kib % 4 || segs > kDefaultMaxIndirectSegments || batch > 32 ||
        (segs > BLKIF_MAX_SEGMENTS_PER_REQUEST && batch > FakeBlkFrontend::kIndirectPages) ||
        segs * batch > FakeBlkFrontend::kDataPages)
        usage();

    TempImage image(64 << 20);
    auto disk = BlkDisk::open({.path = image.path(), .read_only = false, .direct_io = false});
    if (!disk) {
        std::fprintf(stderr, "%s\n", disk.error().message.c_str());
        return 1;
    }
    FakeBlkFrontend fe;
    BlkCounters counters;
    auto q = BlkQueue::create({.frontend = FakeBlkFrontend::kDomId,
                               .grants = fe.table,
                               .ring = fe.attach_ring(),
                               .disk_fd = disk->fd(),
                               .block_device = false,
                               .limits = {.sectors = disk->sectors(),
                                          .read_only = false,
                                          .flush = true,
                                          .barrier = true,
                                          .discard = true,
                                          .max_indirect_segments = kDefaultMaxIndirectSegments,
                                          .grant_entries = 2048},
                               .max_persistent_grants = persistent ? 1056u : 0u,
                               .notify = [] {},
                               .fail = [](std::string) {},
                               .counters = &counters,
                               .label = "bench"});
    if (!q) return 1;
    const uint8_t op = mode == "read" ? BLKIF_OP_READ : BLKIF_OP_WRITE;
    const uint64_t span = uint64_t{kib} * 1024 / kSectorSize;
    uint64_t sector = 0, answered = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint32_t it = 0; it < iterations; ++it) {
        for (uint32_t b = 0; b < batch; ++b) {
            if (sector + span > disk->sectors()) sector = 0;
            if (segs <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
                fe.rw(op, b, sector, b * segs, segs);
            } else {  // as Linux's blkfront: an indirect request once 11 segments do not do
                auto* desc = reinterpret_cast<blkif_request_segment*>(fe.indirect_page(b));
                for (uint32_t s = 0; s < segs; ++s)
                    desc[s] = {FakeBlkFrontend::data_ref(b * segs + s).value, 0, 7};
                blkif_request_indirect ind{};
                ind.operation = BLKIF_OP_INDIRECT;
                ind.indirect_op = op;
                ind.nr_segments = static_cast<uint16_t>(segs);
                ind.id = b;
                ind.sector_number = sector;
                ind.indirect_grefs[0] = FakeBlkFrontend::indirect_ref(b).value;
                std::memcpy(fe.next_request(), &ind, sizeof ind);
            }
            sector += span;
        }
        fe.push();
        blk_bench_serve(q->get());
        for (const auto& r : fe.responses()) {
            if (r.status != BLKIF_RSP_OKAY) {
                std::fprintf(stderr, "request failed: %d\n", r.status);
                return 1;
            }
            ++answered;
        }
    }
    const double us = std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - t0).count();
    std::printf("%s %u KiB%s%s, batches of %u: %llu requests, %.2f us each (wall, incl. kernel)\n",
                mode.c_str(), kib, segs > BLKIF_MAX_SEGMENTS_PER_REQUEST ? " (indirect)" : "",
                persistent ? " persistent" : "", batch, static_cast<unsigned long long>(answered), us / double(answered));
    return answered == uint64_t{iterations} * batch ? 0 : 1;
}
