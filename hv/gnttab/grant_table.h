// One domain's grant table (v1): its frames, their guest placement, the active (pinned) refs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hv/error.h"
#include "hv/gnttab/grant_entry.h"
#include "hv/gnttab/grantable_ram.h"
#include "hv/mem/guest_memory.h"
#include "hv/types.h"

namespace pvhv {

class GrantMapping;

// Xen's defaults: a table starts with one frame (INITIAL_NR_GRANT_FRAMES) and may grow to
// `gnttab_max_frames` (64) frames of 512 v1 entries each.
inline constexpr uint32_t kGrantInitialFrames = 1;
inline constexpr uint32_t kGrantDefaultMaxFrames = 64;
inline constexpr uint32_t kGrantMaxFramesLimit = 1024;  // what create() accepts at most
// What GNTTABOP_setup_table reports for a frame the guest has not placed in its physmap:
// Xen's M2P lookup of an unplaced frame gives INVALID_M2P_ENTRY (all ones).
inline constexpr uint64_t kGrantFrameNotPlaced = ~uint64_t{0};
// Cap on concurrent pins of one ref per kind (Xen refuses beyond 127 per 8-bit counter). Far
// above what back-ends need; it only keeps the counts from wrapping.
inline constexpr uint32_t kGrantMaxPins = 1u << 20;

// The table of the granting domain `owner`. The guest-visible entries live in `frames`, a
// memfd region of max_frames pages that the domain supplies and the table owns: frame i is
// bytes [i * 4096, (i + 1) * 4096) of it (memfd offset i * 4096), and appears in the guest's
// physical space wherever XENMEM_add_to_physmap(XENMAPSPACE_grant_table, i) put it (the
// region's own base address is not used). Only v1 is implemented.
//
// Lifetime: held by std::shared_ptr. A GrantMapping keeps its table alive, and the table keeps
// the granter's RAM mapped (LayoutGrantableRam holds the memory regions' mappings), so a
// back-end that still holds a mapping when the domain is destroyed keeps valid bytes that no
// guest sees any more, until it lets go. The domain calls close() as it is destroyed: no new
// pins after that. The grant frames themselves are the table's own memfd region.
class GrantTable : public std::enable_shared_from_this<GrantTable> {
    struct Key {};

  public:
    struct Config {
        DomId owner;
        uint32_t max_frames = kGrantDefaultMaxFrames;
    };

    // A memfd region for `max_frames` grant frames, for the domain to pass to create().
    static Result<MemoryRegion> allocate_frames(DomId owner, uint32_t max_frames);
    static Result<std::shared_ptr<GrantTable>> create(Config config, MemoryRegion frames,
                                                      std::unique_ptr<GrantableRam> ram);
    GrantTable(Key, Config config, MemoryRegion frames, std::unique_ptr<GrantableRam> ram);
    ~GrantTable();
    GrantTable(const GrantTable&) = delete;
    GrantTable& operator=(const GrantTable&) = delete;

    DomId owner() const { return owner_; }
    uint32_t version() const { return 1; }
    uint32_t max_frames() const { return max_frames_; }
    uint32_t nr_frames() const;
    uint32_t nr_entries() const { return nr_frames() * kGrantEntriesPerFrameV1; }

    // GNTTABOP_setup_table: grows the table to at least `nr` frames (XEN_EINVAL beyond
    // max_frames) and returns the guest frame of each of the first `nr` frames, or
    // kGrantFrameNotPlaced for one the guest has not placed.
    Result<std::vector<uint64_t>> setup(uint32_t nr);

    // XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx, gfn), as Xen's gnttab_map_frame:
    // grows the table to idx + 1 frames if idx < max_frames (XEN_EINVAL otherwise) and
    // records that frame idx now sits at `gfn`. The caller (the domain's physmap) then maps
    // `memfd_offset` of frames() at gfn and unmaps `previous_gfn`, if any. A frame placed for
    // the first time is zeroed first (Xen clears frames as the table grows; the guest has never
    // seen this one, so nothing can be pinned in it).
    struct FramePlacement {
        uint32_t index = 0;
        std::optional<Gfn> previous_gfn;    // where this frame was before
        std::optional<uint32_t> displaced;  // another grant frame that was at gfn
        bool first = false;                 // never placed before (and so just zeroed)
        uint64_t memfd_offset = 0;
        std::span<uint8_t> host;
    };
    Result<FramePlacement> place_frame(uint64_t idx, Gfn gfn);
    // The guest put something else at `gfn` (remove_from_physmap, populate): the grant frame
    // there, if any, is no longer placed. Returns its index.
    std::optional<uint32_t> unplace_gfn(Gfn gfn);
    std::optional<Gfn> frame_gfn(uint32_t idx) const;

    // The backing memfd region (for KVM slots) and frame idx < nr_frames() as bytes.
    const MemoryRegion& frames() const { return frames_; }
    Result<std::span<uint8_t>> frame_bytes(uint32_t idx) const;

    // The owner is being destroyed: map_grant/copy_grant fail from now on (XEN_ESRCH,
    // GNTST_bad_domain); pins already taken stay valid until released. Idempotent.
    void close();
    bool closed() const;

    // One pinned ref: who holds it and how (read-only and writable pins; mappings and copies
    // in flight both count, as in Xen's active entry).
    struct ActiveRef {
        GrantRef ref;
        DomId grantee;
        Gfn gfn;
        uint32_t readers = 0;
        uint32_t writers = 0;
    };
    std::vector<ActiveRef> active_refs() const;

    // Text dump for `pvctl debug-dump`: size, frame placement, entries in use (type not
    // invalid, or reading/writing set), active refs. At most `max_entries` entry lines.
    std::string describe(size_t max_entries = 256) const;

    // Test seam: runs between the header snapshot and each cmpxchg of set_grant_status_v1,
    // with the table lock held (it must not call back into the table).
    void set_race_hook_for_testing(GrantRaceHook hook);

  private:
    friend class GrantMapping;

    struct Pin {
        std::span<uint8_t> frame;
        Gfn gfn;
    };
    // Xen's map_grant_ref / acquire_grant_for_copy on the active entry; release undoes one.
    Result<Pin> acquire(GrantRef ref, bool readonly, bool for_mapping, DomId grantee);
    void release(GrantRef ref, bool readonly);

    LiveGrantEntry entry(GrantRef ref) const;  // ref < nr_entries, caller holds mu_
    void grow_locked(uint32_t nr);

    struct Active {
        DomId grantee;
        Gfn gfn;
        std::span<uint8_t> frame;  // the granted frame, resolved once at the first pin
        uint32_t readers = 0;
        uint32_t writers = 0;
    };

    // Immutable after construction.
    const DomId owner_;
    const uint32_t max_frames_;
    const MemoryRegion frames_;
    const std::unique_ptr<GrantableRam> ram_;

    // mu_ guards everything below. It is a leaf lock: nothing else is locked while it is held
    // (GrantableRam lookups are lock-free), and no operation holds two tables' locks, so
    // two-domain copies need no lock order. The entries themselves are guest memory that no
    // lock can guard: they are only touched with single atomic loads and read-modify-writes.
    mutable std::mutex mu_;
    uint32_t nr_frames_ = kGrantInitialFrames;
    std::vector<std::optional<Gfn>> frame_gfn_;  // size max_frames_
    std::vector<bool> ever_placed_;              // size max_frames_
    bool closed_ = false;
    std::map<uint32_t, Active> active_;          // by ref; present iff pinned
    GrantRaceHook race_hook_;
};

}  // namespace pvhv
