// libFuzzer target: hostile grant table contents, GNTTABOP structs, dom0 map/copy requests.
#include <fuzzer/FuzzedDataProvider.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tests/unit/fake_hypercall_domain.h"
#include "tests/unit/physmap_fakes.h"
#include "hv/gnttab/grant_access.h"
#include "hv/gnttab/grant_physmap.h"
#include "hv/hypercall/handlers.h"
#include "hv/hypercall/hvm_params.h"
#include "hv/xen_public.h"

namespace pvhv {
namespace {

// Guest d7: RAM [0, 0x8000) and [0xc000, 0x10000) (a reserved hole in between, inside the
// backing region), one special page at 0x20000, a 2-frame grant table.
constexpr DomId kGuest{7};
constexpr uint64_t kRegionSize = 0x10000;
constexpr uint64_t kSpecial = 0x20000;
constexpr uint32_t kMaxFrames = 2;
constexpr uint64_t kArg = 0x1000;  // where hypercall structs are written (paging off)
constexpr size_t kMaxMappings = 32;

// The unit tests' fake domain, with this fuzzer's grant table and domid.
class FuzzDomain final : public testing::FakeHypercallDomain {
  public:
    explicit FuzzDomain(GrantTable& t) : table_(t) {}
    DomId id() const override { return kGuest; }
    uint64_t ram_pages() const override { return kRegionSize / kPageSize; }
    GrantTable* grant_table() override { return &table_; }

  private:
    GrantTable& table_;
};

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "gnttab_fuzz invariant broken: %s\n", what);
    std::abort();
}

struct Held {
    GrantMapping m;
    uint32_t ref;
    bool readonly;
};

// Every held mapping is accounted for in the table's active refs, and nothing else is.
void check_accounting(const GrantTable& table, const std::vector<Held>& held) {
    std::map<uint32_t, std::pair<uint32_t, uint32_t>> want;
    for (const auto& h : held) ++(h.readonly ? want[h.ref].first : want[h.ref].second);
    const auto active = table.active_refs();
    if (active.size() != want.size()) die("active ref count");
    for (const auto& a : active) {
        auto it = want.find(a.ref.value);
        if (it == want.end() || it->second.first != a.readers || it->second.second != a.writers)
            die("pin counts");
    }
}

// What the guest's GTF_reading/GTF_writing must look like, given which refs dom0 pins. Only
// refs the guest has not written since their first pin are checked: it may set any bit.
class FlagModel {
public:
    static constexpr uint32_t kEntries = kMaxFrames * kGrantEntriesPerFrameV1;
    explicit FlagModel(const uint8_t* entries) : entries_(entries) {}

    void guest_wrote(uint32_t ref) { touched_[ref % kEntries] = true; }

    // Compares the table's pins before and after one operation.
    void check(const std::vector<GrantTable::ActiveRef>& before, const std::vector<GrantTable::ActiveRef>& after) {
        std::map<uint32_t, const GrantTable::ActiveRef*> was, now;
        for (const auto& a : before) was[a.ref.value] = &a;
        for (const auto& a : after) now[a.ref.value] = &a;
        for (const auto& [ref, a] : now) {
            auto old = was.find(ref);
            const uint16_t f = flags(ref);
            if (old == was.end()) {  // first pin: our bits are set, the guest's past is moot
                touched_[ref] = false;
                had_writer_[ref] = a->writers > 0;
                if (!(f & GTF_reading) || (a->writers > 0 && !(f & GTF_writing))) die("flags after first pin");
            } else if (a->writers > 0) {
                had_writer_[ref] = true;
                if (!touched_[ref] && old->second->writers == 0 && !(f & GTF_writing))
                    die("writing after write pin");
            }
        }
        for (const auto& [ref, a] : was) {
            if (now.count(ref) || touched_[ref]) continue;
            const uint16_t f = flags(ref);
            if ((f & GTF_reading) || (had_writer_[ref] && (f & GTF_writing))) die("flags left after last unpin");
        }
    }

private:
    uint16_t flags(uint32_t ref) const {
        return std::atomic_ref<const uint16_t>(*reinterpret_cast<const uint16_t*>(entries_ + ref * 8)).load();
    }
    const uint8_t* entries_;
    std::vector<bool> touched_ = std::vector<bool>(kEntries, true);  // random initial contents
    std::vector<bool> had_writer_ = std::vector<bool>(kEntries, false);
};

// The table's placement records and the physmap's slots describe the same frames.
void check_placement(const GrantTable& table, const Physmap& physmap,
                     const testing::RecordingSlots& slots, const uint8_t* entries) {
    size_t placed = 0;
    for (uint32_t i = 0; i < kMaxFrames; ++i) {
        const auto gfn = table.frame_gfn(i);
        if (!gfn) continue;
        ++placed;
        const auto* s = slots.at(to_gpa(*gfn));
        if (!s || s->host != entries + i * kPageSize || s->size != kPageSize)
            die("placed frame not shown at its gfn");
        if (!physmap.is_placed(*gfn)) die("placed frame unknown to the physmap");
    }
    if (physmap.size() != placed || slots.live.size() != placed) die("stray slots");
}

uint32_t pick_ref(FuzzedDataProvider& in) {
    // Mostly a few hot refs (so that guest writes and dom0 requests meet), sometimes any ref
    // of the table (or just past it), sometimes anything.
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
        case 0: return in.ConsumeIntegralInRange<uint32_t>(0, kMaxFrames * kGrantEntriesPerFrameV1 + 4);
        case 1: return in.ConsumeIntegral<uint32_t>();
        default: return in.ConsumeIntegralInRange<uint32_t>(0, 7);
    }
}

DomId pick_grantee(FuzzedDataProvider& in) {
    return in.ConsumeBool() ? kDom0 : DomId{in.ConsumeIntegral<uint16_t>()};
}

int64_t hypercall(FuzzedDataProvider& in, GuestMemory& mem, FuzzDomain& dom) {
    static constexpr uint32_t kCmds[] = {GNTTABOP_setup_table,   GNTTABOP_query_size,
                                         GNTTABOP_set_version,   GNTTABOP_get_version,
                                         GNTTABOP_map_grant_ref, GNTTABOP_copy};
    const uint32_t cmd = in.ConsumeBool()
                             ? kCmds[in.ConsumeIntegralInRange<size_t>(0, std::size(kCmds) - 1)]
                             : in.ConsumeIntegral<uint32_t>();
    // The struct: raw bytes, often with a frame list pointing into RAM.
    auto raw = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 32));
    if (!mem.write(Gpa{kArg}, std::span<const uint8_t>(raw))) die("arg write");
    if (cmd == GNTTABOP_setup_table && in.ConsumeBool()) {
        gnttab_setup_table_t s{};
        s.dom = in.ConsumeBool() ? DOMID_SELF : in.ConsumeIntegral<uint16_t>();
        s.nr_frames = in.ConsumeIntegralInRange<uint32_t>(0, kMaxFrames + 1);
        s.frame_list.p =
            reinterpret_cast<xen_pfn_t*>(in.ConsumeIntegralInRange<uint64_t>(0, kRegionSize + 64));
        if (!mem.write(Gpa{kArg}, s)) die("setup write");
    }
    const uint64_t uop = in.ConsumeBool() ? kArg : in.ConsumeIntegral<uint64_t>();
    const uint64_t count = in.ConsumeBool() ? 1 : in.ConsumeIntegral<uint64_t>();
    GuestLinearAccess guest(mem, PagingMode{});
    HypercallContext ctx{guest, dom, VcpuId{0}};
    const int64_t rc =
        do_grant_table_op(ctx, HypercallArgs{__HYPERVISOR_grant_table_op, {cmd, uop, count, 0, 0}});
    if (rc != 0 && rc != -XEN_EINVAL && rc != -XEN_EFAULT && rc != -XEN_ENOSYS && rc != -XEN_EPERM)
        die("unexpected hypercall result");
    return rc;
}

void run(FuzzedDataProvider& in) {
    GuestMemory mem;
    auto ram_region = MemoryRegion::create(Gpa{0}, kRegionSize, "ram");
    auto special = MemoryRegion::create(Gpa{kSpecial}, kPageSize, "special");
    auto frames = GrantTable::allocate_frames(kGuest, kMaxFrames);
    if (!ram_region || !special || !frames) die("setup");
    if (!mem.add_region(std::move(*ram_region)) || !mem.add_region(std::move(*special)))
        die("regions");
    auto ram = std::make_unique<LayoutGrantableRam>(
        mem, std::vector<PhysRange>{{0, 0x8000}, {0xc000, 0x4000}});
    auto made = GrantTable::create({kGuest, kMaxFrames}, std::move(*frames), std::move(ram));
    if (!made) die("create");
    std::shared_ptr<GrantTable> table = std::move(*made);
    uint8_t* const entries = table->frames().host();
    const size_t table_bytes = kMaxFrames * kPageSize;

    // The guest's table contents: arbitrary bytes.
    auto initial = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, table_bytes));
    std::copy(initial.begin(), initial.end(), entries);

    FuzzDomain dom(*table);
    testing::RecordingSlots slots;
    // Holes: [0x10000, 0x20000) and above 0x21000, below 40 address bits.
    Physmap physmap{PhysmapConfig{{{0, kRegionSize}, {kSpecial, kPageSize}}, 40, 2, kMaxFrames + 1},
                    slots};
    std::vector<Held> held;
    std::vector<uint8_t> local(kPageSize + 16);
    FlagModel model(entries);
    std::optional<uint32_t> hook_ref;  // the entry a race hook keeps changing

    while (in.remaining_bytes() > 0) {
        const auto pins_before = table->active_refs();
        switch (in.ConsumeIntegralInRange<int>(0, 9)) {
            case 0:
                hypercall(in, mem, dom);
                break;
            case 1: {  // dom0 maps
                const uint32_t ref = pick_ref(in);
                const bool ro = in.ConsumeBool();
                auto m = map_grant(*table, GrantRef{ref}, ro, pick_grantee(in));
                if (!m) break;
                if (m->bytes().size() != kPageSize) die("mapping size");
                // The mapped page must be guest RAM as the layout says, never the special page.
                const uint64_t gpa = m->gfn().value << kPageShift;
                if (!(gpa + kPageSize <= 0x8000 ||
                      (gpa >= 0xc000 && gpa + kPageSize <= kRegionSize)))
                    die("mapped non-RAM");
                if (m->bytes().data() != mem.span(Gpa{gpa}, kPageSize)->data())
                    die("mapping address");
                if (ro != m->writable_bytes().empty()) die("writable view");
                volatile uint8_t touch = m->bytes()[kPageSize - 1];
                (void)touch;
                if (!ro) m->writable_bytes()[0] ^= 1;
                if (held.size() < kMaxMappings) held.push_back({std::move(*m), ref, ro});
                break;
            }
            case 2:  // dom0 unmaps one
                if (!held.empty())
                    held.erase(held.begin() +
                               in.ConsumeIntegralInRange<size_t>(0, held.size() - 1));
                break;
            case 3: {  // dom0 copies
                const uint32_t len = in.ConsumeBool()
                                         ? in.ConsumeIntegralInRange<uint32_t>(0, kPageSize + 1)
                                         : in.ConsumeIntegral<uint32_t>();
                const bool src_grant = in.ConsumeBool(), dst_grant = in.ConsumeBool();
                GrantedBytes gs{*table, GrantRef{pick_ref(in)},
                                in.ConsumeIntegralInRange<uint32_t>(0, kPageSize + 1)};
                GrantedBytes gd{*table, GrantRef{pick_ref(in)},
                                in.ConsumeIntegralInRange<uint32_t>(0, kPageSize + 1)};
                const size_t local_len = in.ConsumeIntegralInRange<size_t>(0, local.size());
                CopySource src =
                    src_grant ? CopySource{gs}
                              : CopySource{std::span<const uint8_t>(local.data(), local_len)};
                CopyDest dst = dst_grant ? CopyDest{gd}
                                         : CopyDest{std::span<uint8_t>(local.data(), local_len)};
                auto r = copy_grant(src, dst, len, pick_grantee(in));
                if (r && ((src_grant && gs.offset + uint64_t{len} > kPageSize) ||
                          (dst_grant && gd.offset + uint64_t{len} > kPageSize)))
                    die("copy past the page");
                break;
            }
            case 4: {  // the guest rewrites an entry (plain stores, as a buggy guest might)
                const size_t ref = pick_ref(in) % (kMaxFrames * kGrantEntriesPerFrameV1);
                uint8_t* e = entries + ref * sizeof(grant_entry_v1_t);
                model.guest_wrote(static_cast<uint32_t>(ref));
                if (in.ConsumeBool()) {
                    auto bytes = in.ConsumeBytes<uint8_t>(sizeof(grant_entry_v1_t));
                    std::copy(bytes.begin(), bytes.end(), e);
                    break;
                }
                // A plausible grant, so that maps and copies get past the checks: small
                // frames cover RAM, the reserved hole, the special page and beyond memory.
                static constexpr uint16_t kFlags[] = {
                    GTF_permit_access, GTF_permit_access | GTF_readonly, GTF_permit_access | GTF_sub_page,
                    GTF_invalid,       GTF_accept_transfer,            GTF_transitive};
                grant_entry_v1_t g{};
                g.flags = in.ConsumeBool() ? kFlags[in.ConsumeIntegralInRange<size_t>(0, std::size(kFlags) - 1)]
                                           : in.ConsumeIntegral<uint16_t>();
                g.domid = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint16_t>();
                g.frame = in.ConsumeIntegralInRange<uint32_t>(0, 0x28);
                std::memcpy(e, &g, sizeof g);
                break;
            }
            case 5: {  // the guest flips flag bits atomically
                const size_t ref = pick_ref(in) % (kMaxFrames * kGrantEntriesPerFrameV1);
                model.guest_wrote(static_cast<uint32_t>(ref));
                std::atomic_ref<uint16_t>(
                    *reinterpret_cast<uint16_t*>(entries + ref * sizeof(grant_entry_v1_t)))
                    .fetch_xor(in.ConsumeIntegral<uint16_t>());
                break;
            }
            case 6: {  // XENMAPSPACE_grant_table (and a future remove_from_physmap)
                const Gfn gfn{in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 0x30)
                                               : in.ConsumeIntegral<uint64_t>()};
                if (in.ConsumeBool()) {
                    const uint64_t idx = in.ConsumeBool()
                                             ? in.ConsumeIntegralInRange<uint64_t>(0, kMaxFrames)
                                             : in.ConsumeIntegral<uint64_t>();
                    const bool was_placed = idx < kMaxFrames &&
                                            table->frame_gfn(static_cast<uint32_t>(idx));
                    slots.fail_map = in.ConsumeIntegralInRange<int>(0, 15) == 0;
                    auto r = place_grant_frame(*table, physmap, idx, gfn);
                    slots.fail_map = false;
                    const uint64_t gpa = gfn.value << kPageShift;
                    const bool hole = gfn.value < (uint64_t{1} << 28) && gpa >= kRegionSize &&
                                      gpa != kSpecial;
                    if (r && (!hole || idx >= kMaxFrames)) die("placement accepted");
                    if (!r && hole && idx < kMaxFrames && r.error().xen_errno != XEN_EIO)
                        die("placement refused");
                    // Placing a frame that was not placed may zero it (its first placement):
                    // to the model, the guest wrote it.
                    if (r && !was_placed)
                        for (uint32_t e = 0; e < kGrantEntriesPerFrameV1; ++e)
                            model.guest_wrote(static_cast<uint32_t>(idx) * kGrantEntriesPerFrameV1 + e);
                } else if (table->unplace_gfn(gfn)) {
                    if (!physmap.remove(gfn)) die("remove");
                }
                check_placement(*table, physmap, slots, entries);
                break;
            }
            case 7:
                (void)table->describe(in.ConsumeIntegralInRange<size_t>(0, 600));
                break;
            case 8: {  // a guest racing the cmpxchg of the next pins
                if (in.ConsumeBool()) {
                    table->set_race_hook_for_testing({});
                    hook_ref.reset();
                    break;
                }
                const size_t ref = pick_ref(in) % (kMaxFrames * kGrantEntriesPerFrameV1);
                hook_ref = static_cast<uint32_t>(ref);
                const uint32_t mask = in.ConsumeIntegral<uint32_t>();
                const unsigned until = in.ConsumeIntegralInRange<unsigned>(0, 6);
                uint8_t* e = entries + ref * sizeof(grant_entry_v1_t);
                table->set_race_hook_for_testing([e, mask, until](unsigned attempt) {
                    if (attempt < until)
                        std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(e)).fetch_xor(mask);
                });
                break;
            }
            case 9:  // setup_table straight on the table
                (void)table->setup(in.ConsumeIntegralInRange<uint32_t>(0, kMaxFrames + 1));
                break;
        }
        check_accounting(*table, held);
        if (hook_ref) model.guest_wrote(*hook_ref);
        model.check(pins_before, table->active_refs());
        if (table->nr_frames() < 1 || table->nr_frames() > kMaxFrames) die("nr_frames");
    }
    held.clear();
    if (!table->active_refs().empty()) die("pins left after every mapping went");
}

}  // namespace
}  // namespace pvhv

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    pvhv::run(in);
    return 0;
}
