// Grant table v1: frames, their placement, and the pin/unpin state behind maps and copies.
#include "hv/gnttab/grant_table.h"

#include <cstdio>
#include <cstring>
#include <utility>

#include "hv/format.h"

namespace pvhv {

namespace {

using fmt::hex;

std::string flag_names(uint16_t flags) {
    static constexpr const char* kTypes[] = {"invalid", "permit", "accept_transfer", "transitive"};
    std::string s = kTypes[flags & GTF_type_mask];
    if ((flags & GTF_type_mask) == GTF_accept_transfer) {
        if (flags & GTF_transfer_committed) s += " committed";
        if (flags & GTF_transfer_completed) s += " completed";
        return s;
    }
    if (flags & GTF_readonly) s += " readonly";
    if (flags & GTF_reading) s += " reading";
    if (flags & GTF_writing) s += " writing";
    if (flags & GTF_sub_page) s += " sub_page";
    return s;
}

}  // namespace

Result<MemoryRegion> GrantTable::allocate_frames(DomId owner, uint32_t max_frames) {
    if (max_frames < kGrantInitialFrames || max_frames > kGrantMaxFramesLimit)
        return fail(XEN_EINVAL, "grant table: max_frames out of range");
    return MemoryRegion::create(Gpa{0}, uint64_t{max_frames} * kPageSize,
                                "grant-table-d" + std::to_string(owner.value));
}

Result<std::shared_ptr<GrantTable>> GrantTable::create(Config config, MemoryRegion frames,
                                                       std::unique_ptr<GrantableRam> ram) {
    if (config.max_frames < kGrantInitialFrames || config.max_frames > kGrantMaxFramesLimit)
        return fail(XEN_EINVAL, "grant table: max_frames out of range");
    if (frames.host() == nullptr || frames.size() < uint64_t{config.max_frames} * kPageSize)
        return fail(XEN_EINVAL, "grant table: frame region smaller than max_frames pages");
    if (!ram) return fail(XEN_EINVAL, "grant table: no RAM map");
    return std::make_shared<GrantTable>(Key{}, config, std::move(frames), std::move(ram));
}

GrantTable::GrantTable(Key, Config config, MemoryRegion frames, std::unique_ptr<GrantableRam> ram)
    : owner_(config.owner),
      max_frames_(config.max_frames),
      frames_(std::move(frames)),
      ram_(std::move(ram)),
      frame_gfn_(config.max_frames),
      ever_placed_(config.max_frames) {}

// Every GrantMapping holds a reference to its table, so no ref can still be pinned here.
GrantTable::~GrantTable() = default;

uint32_t GrantTable::nr_frames() const {
    std::lock_guard lock(mu_);
    return nr_frames_;
}

void GrantTable::grow_locked(uint32_t nr) {
    // The memfd pages of new frames are still zero (the table never shrinks), which is what
    // Xen's freshly cleared frames hold.
    if (nr > nr_frames_) nr_frames_ = nr;
}

Result<std::vector<uint64_t>> GrantTable::setup(uint32_t nr) {
    std::lock_guard lock(mu_);
    if (nr > max_frames_)
        return fail(XEN_EINVAL, "d" + std::to_string(owner_.value) + " is limited to " +
                                    std::to_string(max_frames_) + " grant frames");
    grow_locked(nr);
    std::vector<uint64_t> out(nr);
    for (uint32_t i = 0; i < nr; ++i)
        out[i] = frame_gfn_[i] ? frame_gfn_[i]->value : kGrantFrameNotPlaced;
    return out;
}

Result<GrantTable::FramePlacement> GrantTable::place_frame(uint64_t idx, Gfn gfn) {
    std::lock_guard lock(mu_);
    // As gnttab_get_shared_frame_mfn: an index past the end grows the table if it can. With
    // v1, XENMAPIDX_grant_table_status is just a huge index, so it fails here as on Xen.
    if (idx >= max_frames_)
        return fail(XEN_EINVAL, "grant frame index " + hex(idx) + " beyond max_frames");
    const auto i = static_cast<uint32_t>(idx);
    grow_locked(i + 1);
    FramePlacement p;
    p.index = i;
    for (uint32_t j = 0; j < max_frames_; ++j) {
        if (j != i && frame_gfn_[j] == gfn) {
            frame_gfn_[j].reset();
            p.displaced = j;
        }
    }
    if (frame_gfn_[i] != gfn) p.previous_gfn = frame_gfn_[i];
    frame_gfn_[i] = gfn;
    p.memfd_offset = uint64_t{i} * kPageSize;
    p.host = std::span<uint8_t>(frames_.host() + p.memfd_offset, kPageSize);
    if (!ever_placed_[i]) {
        std::memset(p.host.data(), 0, kPageSize);
        ever_placed_[i] = true;
        p.first = true;
    }
    return p;
}

std::optional<uint32_t> GrantTable::unplace_gfn(Gfn gfn) {
    std::lock_guard lock(mu_);
    for (uint32_t j = 0; j < max_frames_; ++j) {
        if (frame_gfn_[j] == gfn) {
            frame_gfn_[j].reset();
            return j;
        }
    }
    return std::nullopt;
}

std::optional<Gfn> GrantTable::frame_gfn(uint32_t idx) const {
    std::lock_guard lock(mu_);
    return idx < max_frames_ ? frame_gfn_[idx] : std::nullopt;
}

Result<std::span<uint8_t>> GrantTable::frame_bytes(uint32_t idx) const {
    std::lock_guard lock(mu_);
    if (idx >= nr_frames_)
        return fail(XEN_EINVAL, "grant frame " + std::to_string(idx) + " not in use");
    return std::span<uint8_t>(frames_.host() + uint64_t{idx} * kPageSize, kPageSize);
}

LiveGrantEntry GrantTable::entry(GrantRef ref) const {
    // Frames are consecutive pages of one region, so ref * 8 is the entry's offset.
    return LiveGrantEntry(frames_.host() + uint64_t{ref.value} * sizeof(grant_entry_v1_t));
}

void GrantTable::close() {
    std::lock_guard lock(mu_);
    closed_ = true;
}

bool GrantTable::closed() const {
    std::lock_guard lock(mu_);
    return closed_;
}

Result<GrantTable::Pin> GrantTable::acquire(GrantRef ref, bool readonly, bool for_mapping,
                                            DomId grantee) {
    std::lock_guard lock(mu_);
    // As Xen's rcu_lock_domain_by_id failing for a dying granter.
    if (closed_) return fail(XEN_ESRCH, "d" + std::to_string(owner_.value) + " is being destroyed");
    if (ref.value >= nr_frames_ * kGrantEntriesPerFrameV1)
        return fail(XEN_ENOENT,
                    "bad grant ref " + hex(ref.value) + " for d" + std::to_string(owner_.value));
    LiveGrantEntry live = entry(ref);
    auto it = active_.find(ref.value);
    const bool pinned = it != active_.end();
    if (pinned) {
        // One grantee per active entry, as Xen's act->domid.
        if (it->second.grantee != grantee)
            return fail(XEN_EBUSY, "grant ref " + hex(ref.value) + " is in use by d" +
                                       std::to_string(it->second.grantee.value));
        if ((readonly ? it->second.readers : it->second.writers) >= kGrantMaxPins)
            return fail(XEN_EBUSY, "too many pins of grant ref " + hex(ref.value));
    }
    // The guest entry is consulted for the first pin and for the first write pin only; later
    // pins share the active entry (frame, grantee) taken then, exactly as Xen does.
    if (!pinned || (!readonly && it->second.writers == 0)) {
        const GrantRaceHook* hook = race_hook_ ? &race_hook_ : nullptr;
        if (auto r = set_grant_status_v1(live, pinned, readonly, for_mapping, grantee, hook); !r)
            return std::unexpected(r.error());
        if (!pinned) {
            // Read after the cmpxchg that saw GTF_permit_access: the guest writes the frame
            // before the flags (grant_table.h protocol), so this is the granted frame. Read once.
            const Gfn gfn{live.load_frame()};
            auto frame = ram_->frame(gfn);
            if (!frame) {
                // Xen's unlock_out_clear: nothing is pinned, so undo exactly what we set.
                live.clear_flags(readonly ? GTF_reading : GTF_reading | GTF_writing);
                return fail(XEN_EFAULT, "grant ref " + hex(ref.value) + " of d" +
                                            std::to_string(owner_.value) + ": " +
                                            frame.error().message);
            }
            it = active_.emplace(ref.value, Active{grantee, gfn, *frame, 0, 0}).first;
        }
    }
    ++(readonly ? it->second.readers : it->second.writers);
    return Pin{it->second.frame, it->second.gfn};
}

void GrantTable::release(GrantRef ref, bool readonly) {
    std::lock_guard lock(mu_);
    auto it = active_.find(ref.value);
    if (it == active_.end()) return;  // unreachable: every Pin is released exactly once
    Active& a = it->second;
    uint16_t clear = 0;
    if (readonly) {
        --a.readers;
    } else {
        --a.writers;
        if (a.writers == 0) clear |= GTF_writing;
    }
    if (a.readers == 0 && a.writers == 0) {
        clear |= GTF_reading;
        active_.erase(it);
    }
    // Cleared even if the guest revoked the grant meanwhile: the bits are ours, and the
    // guest waits for them to drop before it reuses the entry.
    if (clear) entry(ref).clear_flags(clear);
}

std::vector<GrantTable::ActiveRef> GrantTable::active_refs() const {
    std::lock_guard lock(mu_);
    std::vector<ActiveRef> out;
    for (const auto& [ref, a] : active_)
        out.push_back({GrantRef{ref}, a.grantee, a.gfn, a.readers, a.writers});
    return out;
}

void GrantTable::set_race_hook_for_testing(GrantRaceHook hook) {
    std::lock_guard lock(mu_);
    race_hook_ = std::move(hook);
}

std::string GrantTable::describe(size_t max_entries) const {
    std::lock_guard lock(mu_);
    const uint32_t nr_entries = nr_frames_ * kGrantEntriesPerFrameV1;
    std::string out = "d" + std::to_string(owner_.value) +
                      " grant table v1: " + std::to_string(nr_frames_) + " of " +
                      std::to_string(max_frames_) + " frames, " + std::to_string(nr_entries) +
                      " entries" + (closed_ ? " (closed: the domain is being destroyed)" : "") +
                      "\n";
    for (uint32_t i = 0; i < nr_frames_; ++i)
        out += "  frame " + std::to_string(i) + ": " +
               (frame_gfn_[i] ? "gfn " + hex(frame_gfn_[i]->value) : std::string("not placed")) +
               "\n";
    out += "  entries in use:\n";
    size_t shown = 0, in_use = 0;
    for (uint32_t ref = 0; ref < nr_entries; ++ref) {
        const LiveGrantEntry live = entry(GrantRef{ref});
        const GrantHeader h = GrantHeader::from_raw(live.load_header());
        if ((h.flags & (GTF_type_mask | GTF_reading | GTF_writing)) == 0) continue;
        ++in_use;
        if (shown == max_entries) continue;
        ++shown;
        char line[160];
        std::snprintf(line, sizeof line, "    ref %#06x flags %#06x (%s) domid %u frame %#x\n", ref,
                      h.flags, flag_names(h.flags).c_str(), h.domid, live.load_frame());
        out += line;
    }
    if (in_use > shown) out += "    ... " + std::to_string(in_use - shown) + " more\n";
    if (in_use == 0) out += "    none\n";
    out += "  active:\n";
    for (const auto& [ref, a] : active_) {
        char line[160];
        std::snprintf(
            line, sizeof line, "    ref %#06x grantee d%u gfn %#llx readers %u writers %u\n", ref,
            a.grantee.value, static_cast<unsigned long long>(a.gfn.value), a.readers, a.writers);
        out += line;
    }
    if (active_.empty()) out += "    none\n";
    return out;
}

}  // namespace pvhv
