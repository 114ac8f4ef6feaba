// The vbd request engine: ring → validated requests → io_uring → batched responses.
#include "pvdrivers/back/blk/blk_queue.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pvhv::blk {

namespace {

constexpr uint64_t kKickTag = uint64_t{1} << 62;
constexpr uint64_t kStopTag = kKickTag + 1;
constexpr uint64_t kKindShift = 32;

bool is_write(BlkOp op) { return op != BlkOp::Read; }

}  // namespace

std::vector<std::pair<std::string, uint64_t>> BlkCounters::list() const {
    auto v = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    return {{"reads", v(reads)},           {"writes", v(writes)},
            {"flushes", v(flushes)},       {"barriers", v(barriers)},
            {"discards", v(discards)},     {"indirect", v(indirect)},
            {"segments", v(segments)},     {"bytes_read", v(bytes_read)},
            {"bytes_written", v(bytes_written)}, {"kicks_in", v(kicks_in)},
            {"kicks_out", v(kicks_out)},   {"responses", v(responses)}, {"errors", v(errors)},
            {"unsupported", v(unsupported)}, {"batches", v(batches)},
            {"persistent_grants", v(persistent_grants)}, {"grant_maps", v(grant_maps)}};
}

BlkQueue::BlkQueue(BlkQueueConfig c)
    : frontend_(c.frontend),
      grants_(std::move(c.grants)),
      ring_(std::move(c.ring)),
      disk_fd_(c.disk_fd),
      block_device_(c.block_device),
      limits_(c.limits),
      notify_(std::move(c.notify)),
      fail_(std::move(c.fail)),
      counters_(*c.counters),
      label_(std::move(c.label)),
      max_persistent_(c.max_persistent_grants) {}

Result<std::unique_ptr<BlkQueue>> BlkQueue::create(BlkQueueConfig config) {
    if (!config.grants || !config.counters || config.disk_fd < 0 || config.ring.size() == 0)
        return fail(XEN_EINVAL, "blk queue: incomplete configuration");
    if (config.limits.max_indirect_segments > kMaxIndirectSegmentsLimit)
        return fail(XEN_EINVAL, "blk queue: too many indirect segments");
    std::unique_ptr<BlkQueue> q(new BlkQueue(std::move(config)));
    const uint32_t n = q->ring_.size();
    // Per request at most two SQEs (writev + fdatasync), plus the two polls: never full.
    if (int e = io_uring_queue_init(2 * n + 4, &q->uring_, 0); e < 0) {
        errno = -e;
        return fail_errno("io_uring_queue_init");
    }
    q->uring_ready_ = true;
    q->slots_.resize(n);
    const uint32_t per_request =
        std::max<uint32_t>(BLKIF_MAX_SEGMENTS_PER_REQUEST, q->limits_.max_indirect_segments);
    for (uint32_t i = 0; i < n; ++i) {
        q->slots_[i].segs.resize(per_request);
        q->free_.push_back(n - 1 - i);
    }
    return q;
}

BlkQueue::~BlkQueue() {
    if (!uring_ready_) return;
    stopping_ = true;
    quiesce();
    io_uring_queue_exit(&uring_);
    persistent_.clear();
    counters_.persistent_grants.store(0, std::memory_order_relaxed);
}

void BlkQueue::log(const std::string& what) {
    log_guest(log_limit_, LogLevel::Warn, label_ + ": " + what);
}

void BlkQueue::mark_broken(const std::string& why) {
    if (broken_) return;
    broken_ = true;
    log_line(LogLevel::Warn, label_ + ": ring stopped: " + why);
    if (fail_) fail_(why);
}

io_uring_sqe* BlkQueue::sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&uring_);
    if (!s) {  // cannot happen with the sizes chosen in create(); stay correct anyway
        io_uring_submit(&uring_);
        s = io_uring_get_sqe(&uring_);
    }
    return s;
}

void BlkQueue::arm_poll(int fd, uint64_t tag) {
    io_uring_sqe* s = sqe();
    io_uring_prep_poll_add(s, fd, POLLIN);
    io_uring_sqe_set_data64(s, tag);
}

bool BlkQueue::submit(bool wait) {
    for (;;) {
        const int r = wait ? io_uring_submit_and_wait(&uring_, 1) : io_uring_submit(&uring_);
        if (r >= 0) return true;
        if (r == -EINTR) continue;
        if (r == -EAGAIN || r == -EBUSY) {  // completions must be reaped first
            reap();
            continue;
        }
        log_line(LogLevel::Error, label_ + ": io_uring_submit: " + std::strerror(-r));
        return false;
    }
}

bool BlkQueue::take_requests() {
    if (broken_ || stopping_) return false;
    // Bounded work per call, so a front-end that keeps producing (and a stream of refused
    // requests, answered at once) cannot keep the thread from its completions.
    uint32_t budget = 2 * ring_.size();
    for (;;) {
        auto n = ring_.unconsumed();
        if (n && *n == 0) n = ring_.final_check_for_requests();
        if (!n) {
            mark_broken(n.error().message);
            return false;
        }
        if (*n == 0) return false;
        for (uint32_t i = 0; i < *n; ++i) {
            if (free_.empty() || budget == 0) return budget == 0;
            --budget;
            const uint32_t idx = free_.back();
            free_.pop_back();
            const blkif_request req = ring_.take().req;  // the one read of this slot
            admit(idx, req);
        }
    }
}

void BlkQueue::admit(uint32_t idx, const blkif_request& req) {
    // Indirect descriptor pages: copied out of a persistent mapping when there is one, else
    // with a grant copy (one pin for the copy, nothing kept). Either way read once.
    class Pages final : public IndirectPages {
      public:
        explicit Pages(BlkQueue& q) : q_(q) {}
        Result<void> read(GrantRef gref, std::span<uint8_t> out) override {
            if (PersistentGrant* p = q_.persistent_grant(gref)) {
                p->last_use = q_.round_;
                std::memcpy(out.data(), p->map.bytes().data(), out.size());
                return {};
            }
            return copy_grant(GrantedBytes{*q_.grants_, gref, 0}, out,
                              static_cast<uint32_t>(out.size()));
        }

      private:
        BlkQueue& q_;
    };
    Slot& s = slots_[idx];
    Pages pages(*this);
    auto parsed = parse_request(req, limits_, s.segs, pages);
    if (!parsed) {
        const ResponseHeader h = response_header(req);
        log("request " + std::to_string(h.id) + " refused: " + parsed.error().message);
        respond(h.id, h.operation, response_status(parsed.error()));
        free_.push_back(idx);
        return;
    }
    s.req = *parsed;
    s.seq = next_seq_++;
    s.status = BLKIF_RSP_OKAY;
    switch (s.req.op) {
        case BlkOp::Read: counters_.reads.fetch_add(1, std::memory_order_relaxed); break;
        case BlkOp::Write: counters_.writes.fetch_add(1, std::memory_order_relaxed); break;
        case BlkOp::Flush: counters_.flushes.fetch_add(1, std::memory_order_relaxed); break;
        case BlkOp::Barrier: counters_.barriers.fetch_add(1, std::memory_order_relaxed); break;
        case BlkOp::Discard: counters_.discards.fetch_add(1, std::memory_order_relaxed); break;
    }
    if (s.req.indirect) counters_.indirect.fetch_add(1, std::memory_order_relaxed);
    counters_.segments.fetch_add(s.req.nr_segments, std::memory_order_relaxed);

    if (!deferred_.empty() || barrier_active_ || (s.req.op == BlkOp::Barrier && active_ > 0)) {
        s.state = Slot::State::Deferred;
        deferred_.push_back(idx);
        return;
    }
    start(idx);
}

void BlkQueue::start(uint32_t idx) {
    Slot& s = slots_[idx];
    ++active_;
    switch (s.req.op) {
        case BlkOp::Read:
        case BlkOp::Write:
            issue_rw(idx);
            return;
        case BlkOp::Barrier:
            barrier_active_ = true;  // active_ was 0 before it: nothing earlier to wait for
            issue_sync(idx);
            return;
        case BlkOp::Flush:
            if (earlier_write_active(s.seq)) {
                s.state = Slot::State::WaitingFlush;
                waiting_flushes_.push_back(idx);
            } else {
                issue_sync(idx);
            }
            return;
        case BlkOp::Discard:
            issue_discard(idx);
            return;
    }
}

bool BlkQueue::earlier_write_active(uint64_t seq) const {
    for (const Slot& o : slots_)
        if (o.state == Slot::State::InFlight && is_write(o.req.op) && o.seq < seq) return true;
    return false;
}

BlkQueue::PersistentGrant* BlkQueue::persistent_grant(GrantRef ref) {
    if (max_persistent_ == 0) return nullptr;
    if (auto it = persistent_.find(ref.value); it != persistent_.end()) return &it->second;
    if (persistent_.size() >= max_persistent_) {
        persistent_full_ = true;
        return nullptr;
    }
    // Writable whatever this request does: later ones may read into the same page.
    auto m = map_grant(*grants_, ref, /*readonly=*/false);
    if (!m) return nullptr;  // e.g. a read-only grant: the per-request path decides
    auto [it, _] = persistent_.emplace(ref.value, PersistentGrant{std::move(*m), round_, 0});
    counters_.persistent_grants.store(persistent_.size(), std::memory_order_relaxed);
    return &it->second;
}

void BlkQueue::purge_persistent() {
    persistent_full_ = false;
    std::vector<std::pair<uint64_t, uint32_t>> idle;  // (last_use, ref)
    for (const auto& [ref, p] : persistent_)
        if (p.users == 0) idle.emplace_back(p.last_use, ref);
    const size_t n = std::min(idle.size(), std::max<size_t>(1, max_persistent_ / 20));
    std::partial_sort(idle.begin(), idle.begin() + static_cast<ptrdiff_t>(n), idle.end());
    for (size_t i = 0; i < n; ++i) persistent_.erase(idle[i].second);
    counters_.persistent_grants.store(persistent_.size(), std::memory_order_relaxed);
}

bool BlkQueue::map_segments(Slot& s, bool for_read) {
    s.maps.clear();
    s.iov.clear();
    s.data_bytes = 0;
    for (uint32_t i = 0; i < s.req.nr_segments; ++i) {
        const Segment& seg = s.segs[i];
        if (PersistentGrant* p = persistent_grant(seg.gref)) {
            ++p->users;
            p->last_use = round_;
            s.persistent.push_back(seg.gref.value);
            s.iov.push_back(iovec{p->map.writable_bytes().data() + seg.offset(), seg.bytes()});
            s.data_bytes += seg.bytes();
            continue;
        }
        counters_.grant_maps.fetch_add(1, std::memory_order_relaxed);
        // A disk read writes into the guest's page; a write only reads it.
        auto m = map_grant(*grants_, seg.gref, /*readonly=*/!for_read);
        if (!m) {
            log("request " + std::to_string(s.req.id) + ": segment " + std::to_string(i) +
                " grant ref " + std::to_string(seg.gref.value) + ": " + m.error().message);
            release_segments(s);
            return false;
        }
        const std::span<uint8_t> page =
            for_read ? m->writable_bytes()
                     : std::span<uint8_t>(const_cast<uint8_t*>(m->bytes().data()), kPageSize);
        s.iov.push_back(iovec{page.data() + seg.offset(), seg.bytes()});
        s.data_bytes += seg.bytes();
        s.maps.push_back(std::move(*m));
    }
    return true;
}

void BlkQueue::issue_rw(uint32_t idx) {
    Slot& s = slots_[idx];
    const bool read = s.req.op == BlkOp::Read;
    if (!map_segments(s, read)) return finish(idx, BLKIF_RSP_ERROR);
    io_uring_sqe* q = sqe();
    const uint64_t offset = s.req.sector * kSectorSize;
    if (read)
        io_uring_prep_readv(q, disk_fd_, s.iov.data(), static_cast<unsigned>(s.iov.size()), offset);
    else
        io_uring_prep_writev(q, disk_fd_, s.iov.data(), static_cast<unsigned>(s.iov.size()), offset);
    io_uring_sqe_set_data64(q, idx);
    s.state = Slot::State::InFlight;
    s.cqes = 1;
    ++io_in_flight_;
}

void BlkQueue::issue_sync(uint32_t idx) {
    Slot& s = slots_[idx];
    s.state = Slot::State::InFlight;
    s.cqes = 0;
    if (s.req.nr_segments > 0) {
        // Data first, then the sync that makes it (and all before it) durable: a link, so
        // the sync starts only after the write succeeded (else it completes -ECANCELED).
        if (!map_segments(s, /*for_read=*/false)) return finish(idx, BLKIF_RSP_ERROR);
        io_uring_sqe* w = sqe();
        io_uring_prep_writev(w, disk_fd_, s.iov.data(), static_cast<unsigned>(s.iov.size()),
                             s.req.sector * kSectorSize);
        io_uring_sqe_set_data64(w, idx);
        w->flags |= IOSQE_IO_LINK;
        ++s.cqes;
    }
    io_uring_sqe* f = sqe();
    io_uring_prep_fsync(f, disk_fd_, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(f, idx | static_cast<uint64_t>(Cqe::Sync) << kKindShift);
    ++s.cqes;
    io_in_flight_ += s.cqes;
}

void BlkQueue::issue_discard(uint32_t idx) {
    Slot& s = slots_[idx];
    if (s.req.nr_sectors == 0) return finish(idx, BLKIF_RSP_OKAY);
    const uint64_t offset = s.req.sector * kSectorSize;
    const uint64_t len = s.req.nr_sectors * kSectorSize;
    if (block_device_) {
        // No io_uring operation discards on a block device in our kernels' liburing: the
        // ioctl runs here, as Linux's blkback issues it synchronously from its thread.
        uint64_t range[2] = {offset, len};
        int16_t st = BLKIF_RSP_OKAY;
        if (::ioctl(disk_fd_, BLKDISCARD, range) != 0) {
            st = errno == EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
            log("discard: " + std::string(std::strerror(errno)));
        }
        return finish(idx, st);
    }
    io_uring_sqe* q = sqe();
    io_uring_prep_fallocate(q, disk_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                            static_cast<off_t>(offset), static_cast<off_t>(len));
    io_uring_sqe_set_data64(q, idx | static_cast<uint64_t>(Cqe::Discard) << kKindShift);
    s.state = Slot::State::InFlight;
    s.cqes = 1;
    ++io_in_flight_;
}

void BlkQueue::pump() {
    if (stopping_) return;
    for (size_t i = 0; i < waiting_flushes_.size();) {
        const uint32_t idx = waiting_flushes_[i];
        if (earlier_write_active(slots_[idx].seq)) {
            ++i;
            continue;
        }
        waiting_flushes_.erase(waiting_flushes_.begin() + static_cast<ptrdiff_t>(i));
        issue_sync(idx);
    }
    while (!deferred_.empty() && !barrier_active_) {
        const uint32_t idx = deferred_.front();
        if (slots_[idx].req.op == BlkOp::Barrier && active_ > 0) break;
        deferred_.pop_front();
        start(idx);
    }
}

void BlkQueue::on_cqe(uint64_t user_data, int32_t res) {
    const auto idx = static_cast<uint32_t>(user_data & 0xffffffffu);
    const auto kind = static_cast<Cqe>(user_data >> kKindShift);
    --io_in_flight_;  // every non-poll completion was counted when its SQE was queued
    if (idx >= slots_.size() || slots_[idx].state != Slot::State::InFlight) return;
    Slot& s = slots_[idx];
    if (res < 0) {
        const bool unsupported = res == -EOPNOTSUPP && kind != Cqe::Data;
        if (s.status == BLKIF_RSP_OKAY)
            s.status = unsupported ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
        if (res != -ECANCELED)
            log("request " + std::to_string(s.req.id) + ": " + std::strerror(-res));
    } else if (kind == Cqe::Data) {
        if (static_cast<uint64_t>(res) != s.data_bytes) {
            s.status = BLKIF_RSP_ERROR;
            log("request " + std::to_string(s.req.id) + ": short transfer (" +
                std::to_string(res) + " of " + std::to_string(s.data_bytes) + " bytes)");
        } else if (s.req.op == BlkOp::Read) {
            counters_.bytes_read.fetch_add(s.data_bytes, std::memory_order_relaxed);
        } else {
            counters_.bytes_written.fetch_add(s.data_bytes, std::memory_order_relaxed);
        }
    }
    if (--s.cqes == 0) finish(idx, s.status);
}

void BlkQueue::release_segments(Slot& s) {
    s.maps.clear();  // unpins: the guest may end these grants from here on
    for (uint32_t ref : s.persistent) --persistent_.at(ref).users;
    s.persistent.clear();
}

void BlkQueue::finish(uint32_t idx, int16_t status) {
    Slot& s = slots_[idx];
    release_segments(s);
    if (s.req.op == BlkOp::Barrier) barrier_active_ = false;
    s.state = Slot::State::Free;
    --active_;
    free_.push_back(idx);
    if (!stopping_) respond(s.req.id, s.req.response_op, status);
}

void BlkQueue::respond(uint64_t id, uint8_t op, int16_t status) {
    if (status == BLKIF_RSP_ERROR) counters_.errors.fetch_add(1, std::memory_order_relaxed);
    if (status == BLKIF_RSP_EOPNOTSUPP)
        counters_.unsupported.fetch_add(1, std::memory_order_relaxed);
    if (broken_) return;
    blkif_response rsp{};
    rsp.id = id;
    rsp.operation = op;
    rsp.status = status;
    ring_.put_response(rsp);
    counters_.responses.fetch_add(1, std::memory_order_relaxed);
    responses_due_ = true;
}

void BlkQueue::push_responses() {
    ++round_;
    if (persistent_full_) purge_persistent();
    if (!responses_due_ || broken_) return;
    responses_due_ = false;
    counters_.batches.fetch_add(1, std::memory_order_relaxed);
    if (ring_.push_responses() && notify_) {
        counters_.kicks_out.fetch_add(1, std::memory_order_relaxed);
        notify_();
    }
}

void BlkQueue::reap() {
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&uring_, &cqe) == 0) {
        const uint64_t data = io_uring_cqe_get_data64(cqe);
        const int32_t res = cqe->res;
        io_uring_cqe_seen(&uring_, cqe);
        if (data == kStopTag)
            stop_seen_ = true;
        else if (data == kKickTag)
            kick_seen_ = true;
        else
            on_cqe(data, res);
    }
}

void BlkQueue::quiesce() {
    while (io_in_flight_ > 0) {
        if (!submit(/*wait=*/true)) break;  // polls may complete first: loop
        reap();
    }
    for (Slot& s : slots_) release_segments(s);
}

void BlkQueue::process_once() {
    bool more = take_requests();
    pump();
    while (more || io_in_flight_ > 0) {
        if (!submit(/*wait=*/io_in_flight_ > 0)) break;
        reap();
        more = take_requests();
        pump();
        push_responses();
    }
    push_responses();
}

void BlkQueue::run(int kick_fd, const std::function<void()>& consume_kick, int stop_fd) {
    arm_poll(kick_fd, kKickTag);
    arm_poll(stop_fd, kStopTag);
    bool more = take_requests();
    pump();
    push_responses();
    for (;;) {
        // Polls are always armed, so waiting for one completion cannot hang.
        if (!submit(/*wait=*/!more)) {
            mark_broken("io_uring failed");
            break;
        }
        reap();
        if (stop_seen_) break;
        if (kick_seen_) {
            kick_seen_ = false;
            counters_.kicks_in.fetch_add(1, std::memory_order_relaxed);
            consume_kick();
            arm_poll(kick_fd, kKickTag);
        }
        // Completions free ring space too, so look at the ring after them as after a kick.
        more = take_requests();
        pump();
        push_responses();
    }
    stopping_ = true;
    quiesce();
}

}  // namespace pvhv::blk
