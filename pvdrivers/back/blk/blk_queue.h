// One vbd ring's request engine: requests off the shared ring, their I/O on io_uring, answers.
#pragma once

#include <liburing.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hv/gnttab/grant_access.h"
#include "hv/log.h"
#include "hv/types.h"
#include "pvdrivers/back/blk/blk_request.h"
#include "pvdrivers/back/ring/back_ring.h"

namespace pvhv::blk {

using BlkRing = back::BackRing<blkif_sring_entry>;

// Counters of one vbd: written by its thread, read by `pvctl top` (relaxed atomics).
struct BlkCounters {
    std::atomic<uint64_t> reads{0}, writes{0}, flushes{0}, barriers{0}, discards{0},
        indirect{0}, segments{0}, bytes_read{0}, bytes_written{0}, kicks_in{0}, kicks_out{0},
        responses{0}, errors{0}, unsupported{0}, batches{0},
        persistent_grants{0},  // mapped now (a level, not a count of events)
        grant_maps{0};         // per-request maps: persistent grants off, full, or refused
    std::vector<std::pair<std::string, uint64_t>> list() const;
};

struct BlkQueueConfig {
    DomId frontend{};
    std::shared_ptr<GrantTable> grants{};  // the front-end's table
    BlkRing ring{};                        // attached to the mapped ring pages
    int disk_fd = -1;                      // borrowed: outlives the queue
    bool block_device = false;             // discard with BLKDISCARD, else hole punching
    BlkLimits limits{};
    // feature-persistent, negotiated with the front-end: keep up to this many grants mapped
    // (writable) across requests. 0: map per request.
    uint32_t max_persistent_grants = 0;
    std::function<void()> notify{};       // kick the front-end (Dom0Port::notify)
    std::function<void(std::string)> fail{};  // the ring is broken: disconnect the device
    BlkCounters* counters = nullptr;       // outlives the queue
    std::string label{};                   // "dom3 vbd 51712", for log lines
};

// Serves one blkif ring. The thread that calls run() (or process_once()) owns everything
// here: the ring, the io_uring, the request slots; nothing is shared, so nothing is locked.
//
// Per batch it takes every request the ring holds (Xen's RING_FINAL_CHECK_FOR_REQUESTS before
// it sleeps), validates each private copy (parse_request), maps the data pages with
// map_grant and queues one readv/writev per request, then submits them all with one
// io_uring_submit; completions are answered in batches with one RING_PUSH_RESPONSES and at
// most one kick. A refused request is answered at once with BLKIF_RSP_ERROR/EOPNOTSUPP and a
// rate-limited log line. A producer index beyond what the ring can hold stops the ring for
// good (config.fail; no response is written after that).
//
// Persistent grants (blkif.h's feature-persistent, when negotiated): a data or indirect page's
// grant stays mapped (writable, as the protocol lets the front-end expect) after its request,
// keyed by ref, up to max_persistent_grants; later requests naming the ref use it without a
// new pin. When the cache is full a segment gets a per-request mapping, and after that round
// the least recently used unused 5% are dropped (Linux's purge_persistent_gnt). A guest that
// revokes or re-points a persistently mapped ref keeps its old frame pinned, as on Xen.
//
// Ordering (blkif.h): a FLUSH_DISKCACHE waits until every write taken before it completed,
// then writes its own data (if any) and fdatasyncs; it is answered only after that sync, so
// everything acknowledged before it is durable. A WRITE_BARRIER waits until every request
// taken before it was answered, does the same, and holds every request taken after it until
// it is answered.
class BlkQueue {
  public:
    static Result<std::unique_ptr<BlkQueue>> create(BlkQueueConfig config);
    // Waits for I/O still in the kernel before the mappings go: the kernel never writes into
    // a page the guest already got back.
    ~BlkQueue();
    BlkQueue(const BlkQueue&) = delete;
    BlkQueue& operator=(const BlkQueue&) = delete;

    // The device thread: serves until `stop_fd` (an eventfd) becomes readable. `kick_fd` is
    // the front-end's event channel (Dom0Port::fd); `consume_kick` resets it. On stop, I/O in
    // flight is completed but not answered, requests not started are dropped.
    void run(int kick_fd, const std::function<void()>& consume_kick, int stop_fd);

    // For tests and the fuzzer, without a thread: takes every request the ring holds, does
    // their I/O to the end, answers them and kicks as run() would.
    void process_once();

    bool broken() const { return broken_; }
    uint32_t slots() const { return static_cast<uint32_t>(slots_.size()); }

  private:
    struct Slot {
        enum class State : uint8_t { Free, Deferred, WaitingFlush, InFlight };
        State state = State::Free;
        BlkRequest req{};
        uint64_t seq = 0;          // order taken off the ring
        int16_t status = BLKIF_RSP_OKAY;
        uint8_t cqes = 0;          // completions still to come
        uint64_t data_bytes = 0;   // what the readv/writev must transfer
        std::vector<Segment> segs;
        std::vector<GrantMapping> maps;  // held until the kernel is done with the pages
        std::vector<uint32_t> persistent;  // refs of persistent grants it uses (held too)
        std::vector<iovec> iov;
    };
    struct PersistentGrant {
        GrantMapping map;      // writable
        uint64_t last_use = 0;  // round_ of the last request that used it
        uint32_t users = 0;     // slots in flight using it: never purged while > 0
    };
    enum class Cqe : uint64_t { Data = 0, Sync = 1, Discard = 2 };

    explicit BlkQueue(BlkQueueConfig config);

    // Takes requests (at most a budget per call); true if the ring may hold more.
    bool take_requests();
    void admit(uint32_t idx, const blkif_request& req);
    void start(uint32_t idx);
    void issue_rw(uint32_t idx);
    void issue_sync(uint32_t idx);
    void issue_discard(uint32_t idx);
    bool map_segments(Slot& s, bool for_read);
    void release_segments(Slot& s);
    // The persistent mapping of `ref`, mapped now if there is room; nullptr: none (off,
    // full, or the ref cannot be mapped writable).
    PersistentGrant* persistent_grant(GrantRef ref);
    void purge_persistent();
    void pump();  // starts what ordering now allows
    bool earlier_write_active(uint64_t seq) const;
    void on_cqe(uint64_t user_data, int32_t res);
    void finish(uint32_t idx, int16_t status);
    void respond(uint64_t id, uint8_t op, int16_t status);
    void push_responses();
    void reap();  // handles every completion available
    bool submit(bool wait);
    io_uring_sqe* sqe();
    void arm_poll(int fd, uint64_t tag);
    void quiesce();  // waits for every completion still due
    void mark_broken(const std::string& why);
    void log(const std::string& what);

    const DomId frontend_;
    const std::shared_ptr<GrantTable> grants_;
    BlkRing ring_;
    const int disk_fd_;
    const bool block_device_;
    const BlkLimits limits_;
    const std::function<void()> notify_;
    const std::function<void(std::string)> fail_;
    BlkCounters& counters_;
    const std::string label_;
    RateLimit log_limit_{5, std::chrono::seconds(10)};

    io_uring uring_{};
    bool uring_ready_ = false;
    std::vector<Slot> slots_;      // one per ring entry: the ring never has more outstanding
    std::vector<uint32_t> free_;   // free slot indexes
    std::deque<uint32_t> deferred_;          // behind a barrier, in ring order
    std::vector<uint32_t> waiting_flushes_;  // flushes waiting for earlier writes
    const uint32_t max_persistent_;
    std::unordered_map<uint32_t, PersistentGrant> persistent_;  // by ref; pointers stable
    bool persistent_full_ = false;  // a segment found the cache full this round
    uint64_t round_ = 0;
    uint64_t next_seq_ = 0;
    uint32_t active_ = 0;        // slots WaitingFlush or InFlight
    uint32_t io_in_flight_ = 0;  // completions due from the kernel (polls not counted)
    bool barrier_active_ = false;
    bool responses_due_ = false;  // responses written, not yet pushed
    bool broken_ = false;
    bool stopping_ = false;    // no responses, no new I/O: the thread is stopping
    bool stop_seen_ = false;   // the stop eventfd fired
    bool kick_seen_ = false;   // the front-end's event channel fired
};

}  // namespace pvhv::blk
