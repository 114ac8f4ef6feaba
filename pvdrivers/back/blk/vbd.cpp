// blkback's vbd device: xenbus keys, connecting to a front-end's ring, the device thread.
#include "pvdrivers/back/blk/vbd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <utility>

#include "hv/log.h"
#include <xen/io/protocols.h>

namespace pvhv::blk {

namespace {

// A xenstore number as Xen's xenbus_scanf("%u") would take it, minus its leniency: decimal
// digits only, within 32 bits.
Result<uint32_t> parse_u32(const std::string& key, const std::string& text) {
    uint32_t v = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v, 10);
    if (text.empty() || ec != std::errc{} || p != end)
        return fail(XEN_EINVAL, "front-end key " + key + " = '" + text + "' is not a number");
    return v;
}

Result<uint32_t> read_u32(const back::FrontendConnection& fe, const std::string& key) {
    auto text = fe.read_frontend(key);
    if (!text) return fail(XEN_ENOENT, "front-end key " + key + " missing");
    return parse_u32(key, *text);
}

}  // namespace

Result<std::unique_ptr<Vbd>> Vbd::create(VbdOptions options) {
    if (options.cdrom) options.read_only = true;
    if (options.max_indirect_segments > kMaxIndirectSegmentsLimit)
        return fail(XEN_EINVAL, "vbd: at most " + std::to_string(kMaxIndirectSegmentsLimit) +
                                    " indirect segments");
    if (options.max_ring_page_order > 4)  // Xen's XENBUS_MAX_RING_GRANT_ORDER
        return fail(XEN_EINVAL, "vbd: max-ring-page-order is at most 4");
    auto disk = BlkDisk::open(
        {.path = options.path, .read_only = options.read_only, .direct_io = options.direct_io});
    if (!disk) return std::unexpected(disk.error());
    if (options.label.empty()) options.label = "vbd " + options.path;
    return std::unique_ptr<Vbd>(new Vbd(std::move(options), std::move(*disk)));
}

Vbd::Vbd(VbdOptions options, BlkDisk disk) : options_(std::move(options)), disk_(std::move(disk)) {}

Vbd::~Vbd() { disconnect(); }

BlkLimits Vbd::limits(uint32_t grant_entries) const {
    const bool writable = !options_.read_only;
    return BlkLimits{
        .sectors = disk_.sectors(),
        .read_only = options_.read_only,
        .flush = writable,
        .barrier = writable,
        .discard = writable && options_.discard && disk_.can_discard(),
        .max_indirect_segments = options_.max_indirect_segments,
        .grant_entries = grant_entries,
    };
}

back::XenbusKeys Vbd::backend_keys() const {
    const BlkLimits l = limits(0);
    back::XenbusKeys keys;
    if (l.max_indirect_segments > 0)
        keys.emplace_back("feature-max-indirect-segments", std::to_string(l.max_indirect_segments));
    keys.emplace_back("max-ring-page-order", std::to_string(options_.max_ring_page_order));
    keys.emplace_back("feature-flush-cache", l.flush ? "1" : "0");
    keys.emplace_back("feature-barrier", l.barrier ? "1" : "0");
    keys.emplace_back("feature-discard", l.discard ? "1" : "0");
    if (l.discard) {
        keys.emplace_back("discard-granularity", std::to_string(disk_.discard_granularity()));
        keys.emplace_back("discard-alignment", "0");
        keys.emplace_back("discard-secure", "0");
    }
    keys.emplace_back("feature-persistent", options_.max_persistent_grants > 0 ? "1" : "0");
    return keys;
}

Result<back::XenbusKeys> Vbd::connect(const back::FrontendConnection& fe) {
    if (conn_) return fail(XEN_EBUSY, options_.label + ": already connected");
    if (!fe.grants || !fe.channels || !fe.read_frontend)
        return fail(XEN_EINVAL, options_.label + ": incomplete front-end connection");

    // Only the native 64-bit layout: a 32-bit front-end's requests are laid out differently
    // (Linux's blkif_x86_32_request), and no such guest runs here.
    if (auto proto = fe.read_frontend("protocol");
        proto && *proto != XEN_IO_PROTO_ABI_X86_64)
        return fail(XEN_EOPNOTSUPP, "front-end protocol '" + *proto +
                                             "' is not supported (only " XEN_IO_PROTO_ABI_X86_64 ")");

    // As Linux's read_per_ring_refs: ring-page-order with ring-ref0..N-1, else ring-ref.
    std::vector<uint32_t> refs;
    if (auto order_text = fe.read_frontend("ring-page-order")) {
        auto order = parse_u32("ring-page-order", *order_text);
        if (!order) return std::unexpected(order.error());
        if (*order > options_.max_ring_page_order)
            return fail(XEN_EINVAL, "front-end ring-page-order " + std::to_string(*order) +
                                        " above max-ring-page-order " +
                                        std::to_string(options_.max_ring_page_order));
        for (uint32_t i = 0; i < (1u << *order); ++i) {
            auto r = read_u32(fe, "ring-ref" + std::to_string(i));
            if (!r) return std::unexpected(r.error());
            refs.push_back(*r);
        }
    } else {
        auto r = read_u32(fe, "ring-ref");
        if (!r) return std::unexpected(r.error());
        refs.push_back(*r);
    }
    auto evtchn = read_u32(fe, "event-channel");
    if (!evtchn) return std::unexpected(evtchn.error());
    // Persistent grants only if both sides say so (Linux: feature_persistent && the
    // front-end's key); the front-end then grants its pages writable for good.
    bool persistent = false;
    if (options_.max_persistent_grants > 0 && fe.read_frontend("feature-persistent")) {
        auto v = read_u32(fe, "feature-persistent");
        if (!v) return std::unexpected(v.error());
        persistent = *v != 0;
    }

    auto conn = std::make_unique<Connection>();
    std::vector<std::span<uint8_t>> spans;
    for (uint32_t ref : refs) {
        auto m = map_grant(*fe.grants, GrantRef{ref}, /*readonly=*/false);
        if (!m)
            return fail(m.error().xen_errno, "ring grant ref " + std::to_string(ref) + ": " +
                                                 m.error().message);
        spans.push_back(m->writable_bytes());
        conn->ring_pages.push_back(std::move(*m));
    }
    auto ring = BlkRing::attach(back::RingPages(std::move(spans)));
    if (!ring) return std::unexpected(ring.error());

    auto port = fe.channels->bind_interdomain(fe.frontend, EvtchnPort{*evtchn});
    if (!port)
        return fail(port.error().xen_errno, "event-channel " + std::to_string(*evtchn) + ": " +
                                                port.error().message);
    conn->port.emplace(std::move(*port));
    conn->stop.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!conn->stop.valid()) return fail_errno("eventfd");

    const Dom0Port* p = &*conn->port;
    auto queue = BlkQueue::create({
        .frontend = fe.frontend,
        .grants = fe.grants,
        .ring = std::move(*ring),
        .disk_fd = disk_.fd(),
        .block_device = disk_.block_device(),
        .limits = limits(fe.grants->max_frames() * kGrantEntriesPerFrameV1),
        .max_persistent_grants = persistent ? options_.max_persistent_grants : 0,
        .notify = [p] { (void)p->notify(); },
        .fail = fe.fail,
        .counters = &counters_,
        .label = options_.label,
    });
    if (!queue) return std::unexpected(queue.error());
    conn->queue = std::move(*queue);

    conn->thread = std::thread([q = conn->queue.get(), p, stop = conn->stop.get()] {
        q->run(p->fd(), [p] { (void)p->consume(); }, stop);
    });
    conn_ = std::move(conn);
    log_line(LogLevel::Info, options_.label + ": connected (" + std::to_string(refs.size()) +
                                 "-page ring, event channel " + std::to_string(*evtchn) +
                                 (persistent ? ", persistent grants" : "") + ")");

    const uint32_t info = (options_.read_only ? VDISK_READONLY : 0) |
                          (options_.cdrom ? VDISK_CDROM : 0);
    return back::XenbusKeys{
        {"sectors", std::to_string(disk_.sectors())},
        {"info", std::to_string(info)},
        {"sector-size", std::to_string(kSectorSize)},
        {"physical-sector-size", std::to_string(disk_.physical_sector_size())},
    };
}

void Vbd::disconnect() {
    if (!conn_) return;
    const uint64_t one = 1;
    if (::write(conn_->stop.get(), &one, sizeof one) != sizeof one)
        log_line(LogLevel::Error, options_.label + ": cannot stop the device thread");
    if (conn_->thread.joinable()) conn_->thread.join();
    conn_.reset();  // the queue (after its I/O), then the port, then the ring mappings
    log_line(LogLevel::Info, options_.label + ": disconnected");
}

std::vector<std::pair<std::string, uint64_t>> Vbd::counters() const { return counters_.list(); }

}  // namespace pvhv::blk
