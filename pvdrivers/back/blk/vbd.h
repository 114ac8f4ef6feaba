// blkback's xenbus device ("vbd"): a disk served to one front-end through a blkif ring.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hv/evtchn/dom0_event_channels.h"
#include "hv/gnttab/grant_access.h"
#include "hv/unique_fd.h"
#include "pvdrivers/back/blk/blk_disk.h"
#include "pvdrivers/back/blk/blk_queue.h"
#include "pvdrivers/back/xenbus/backend_device.h"

namespace pvhv::blk {

// What the toolstack knows of a disk (xl's `disk = ['format=raw, vdev=xvda, access=rw,
// target=PATH']`): everything a Vbd needs besides its front-end.
struct VbdOptions {
    std::string path{};           // target=: a raw image file or a block device
    bool read_only = false;       // access=ro (mode "r"): VDISK_READONLY, writes refused
    bool cdrom = false;           // devtype=cdrom: VDISK_CDROM, and read-only as in xl
    bool direct_io = false;       // O_DIRECT on the backing store (bypass pvd's page cache)
    bool discard = true;          // offer discard when the store can (xl's discard/no-discard)
    uint32_t max_ring_page_order = 4;  // max-ring-page-order: rings of up to 16 pages
    uint32_t max_indirect_segments = kDefaultMaxIndirectSegments;  // 0: no indirect requests
    // feature-persistent: grants kept mapped per connection when the front-end agrees (Linux
    // blkback's default max_persistent_grants). 0: not offered.
    uint32_t max_persistent_grants = 1056;
    std::string label{};          // names the device in log lines, e.g. "dom3 xvda"
};

// One virtual block device. Created (and its backing store opened) when the toolstack adds
// the disk; connect()/disconnect() follow the front-end (see BackendDevice).
//
// Threads: connect() starts one thread that runs the BlkQueue (the only thread touching the
// ring, the io_uring and the guest's pages); disconnect() stops it through an eventfd and
// joins it. connect()/disconnect()/backend_keys() run on pvd's loop thread; counters() from
// any thread (relaxed atomics).
class Vbd final : public back::BackendDevice {
  public:
    // Opens the backing store; the errors name the path (ENOENT, EACCES, not a file...).
    static Result<std::unique_ptr<Vbd>> create(VbdOptions options);
    ~Vbd() override;

    std::string_view type() const override { return "vbd"; }
    // feature-flush-cache, feature-barrier, feature-discard (+ discard-granularity,
    // discard-alignment, discard-secure), feature-max-indirect-segments, max-ring-page-order,
    // feature-persistent. Flush, barrier and discard only for a writable disk.
    back::XenbusKeys backend_keys() const override;
    // Reads protocol (native x86_64 only), ring-page-order + ring-ref%u (or ring-ref),
    // event-channel, feature-persistent; maps the ring, binds the port, starts the thread. Returns sectors,
    // info, sector-size, physical-sector-size.
    Result<back::XenbusKeys> connect(const back::FrontendConnection& fe) override;
    // Stops the thread (I/O in flight is completed, not answered), unmaps, unbinds.
    void disconnect() override;
    std::vector<std::pair<std::string, uint64_t>> counters() const override;

    const BlkDisk& disk() const { return disk_; }
    BlkLimits limits(uint32_t grant_entries) const;

  private:
    Vbd(VbdOptions options, BlkDisk disk);

    // Everything one connection holds, released in reverse order of declaration.
    struct Connection {
        std::vector<GrantMapping> ring_pages;
        std::optional<Dom0Port> port;
        std::unique_ptr<BlkQueue> queue;
        UniqueFd stop;  // eventfd: written by disconnect(), polled by the thread
        std::thread thread;
    };

    const VbdOptions options_;
    const BlkDisk disk_;
    BlkCounters counters_;
    std::unique_ptr<Connection> conn_;  // pvd's loop thread only
};

}  // namespace pvhv::blk
