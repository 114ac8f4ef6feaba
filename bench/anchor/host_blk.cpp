// The block anchor of bench/pv-io.sh: the host doing the guest's operations on the same file.
//
//   pvhv-anchor-blk PATH seqwrite|seqread|randread KIB QD OPS
//
// Operations of KIB at QD in flight through io_uring (as blkback issues them), sequential
// (wrapping at the end of the file) or at random KIB-aligned offsets, into one buffer that is
// never touched, like the guest's. Prints the line bench_blk prints:
//   BENCH name=blk-<mode>-<kib>k-qd<qd> ops=N bytes=B ns=T
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: pvhv-anchor-blk PATH seqwrite|seqread|randread KIB QD OPS\n");
    std::exit(2);
}

unsigned number(const char* s, unsigned max) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(s, &end, 10);
    if (!end || *end || v > max) usage();
    return static_cast<unsigned>(v);
}

uint64_t next_random(uint64_t& s) {  // bench_blk's xorshift64
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) usage();
    const std::string mode = argv[2];
    const bool write = mode == "seqwrite", random = mode == "randread";
    if (!write && !random && mode != "seqread") usage();
    const unsigned kib = number(argv[3], 1024), qd = number(argv[4], 64), ops = number(argv[5], 1u << 30);
    if (!kib || !qd) usage();
    const int fd = ::open(argv[1], write ? O_RDWR : O_RDONLY);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        std::perror(argv[1]);
        return 1;
    }
    const uint64_t op_bytes = uint64_t{kib} * 1024, slots = static_cast<uint64_t>(st.st_size) / op_bytes;
    if (slots < qd) {
        std::fprintf(stderr, "%s: too small for %u ops of %u KiB\n", argv[1], qd, kib);
        return 1;
    }
    io_uring ring{};
    if (int rc = io_uring_queue_init(qd, &ring, 0); rc < 0) {
        std::fprintf(stderr, "io_uring_queue_init: %s\n", std::strerror(-rc));
        return 1;
    }
    // One buffer per slot in flight, as the guest's requests each have their own pages.
    std::vector<char> buf(op_bytes * qd);
    uint64_t slot = 0, seed = 0x9e3779b97f4a7c15ull;
    unsigned submitted = 0, completed = 0, inflight = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (completed < ops) {
        while (submitted < ops && inflight < qd) {
            if (random)
                slot = next_random(seed) % slots;
            else if (slot >= slots)
                slot = 0;
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            char* b = buf.data() + (submitted % qd) * op_bytes;
            if (write)
                io_uring_prep_write(sqe, fd, b, static_cast<unsigned>(op_bytes), slot * op_bytes);
            else
                io_uring_prep_read(sqe, fd, b, static_cast<unsigned>(op_bytes), slot * op_bytes);
            if (!random) ++slot;
            ++submitted;
            ++inflight;
        }
        io_uring_cqe* cqe = nullptr;
        if (int rc = io_uring_submit_and_wait(&ring, 1); rc < 0) {
            std::fprintf(stderr, "io_uring_submit_and_wait: %s\n", std::strerror(-rc));
            return 1;
        }
        unsigned head, n = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res != static_cast<int>(op_bytes)) {
                std::fprintf(stderr, "short or failed I/O: %d\n", cqe->res);
                return 1;
            }
            ++n;
        }
        io_uring_cq_advance(&ring, n);
        completed += n;
        inflight -= n;
    }
    const long long ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - t0).count();
    std::printf("BENCH name=blk-%s-%uk-qd%u ops=%u bytes=%llu ns=%lld\n", mode.c_str(), kib,
                qd, ops, static_cast<unsigned long long>(ops) * op_bytes, ns);
    io_uring_queue_exit(&ring);
    ::close(fd);
    return 0;
}
