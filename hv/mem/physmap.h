// Pages placed in the guest-physical map at run time (grant frames), each in a KVM slot of its own.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "hv/boot/guest_layout.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv {

// How a Physmap changes the VM's memory slots: kvm::VmSlots on a real VM, a recorder in tests.
class SlotControl {
  public:
    virtual ~SlotControl() = default;
    // `host` (page aligned, whole pages) becomes guest memory at `gpa` as slot `slot`.
    virtual Result<void> map_slot(uint32_t slot, Gpa gpa, std::span<uint8_t> host) = 0;
    virtual Result<void> unmap_slot(uint32_t slot) = 0;
};

struct PhysmapConfig {
    // What a page may never be placed over: the builder's memory regions (RAM, special pages),
    // the in-kernel IOAPIC and LAPIC windows, KVM's private pages. The rest is a hole.
    std::vector<PhysRange> fixed;
    // The guest's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]): no page is placed where the guest
    // could not address it.
    uint32_t phys_bits = 36;
    // KVM slots [first_slot, first_slot + nr_slots) belong to the Physmap; the builder's regions
    // use the slots below.
    uint32_t first_slot = 0;
    uint32_t nr_slots = 0;
};

// The run-time part of a domain's guest-physical map. A placed page is one page of host memory
// that its owner (the grant table) keeps mapped for as long as it is placed; the Physmap only
// records where it is and which slot shows it.
//
// Placing over RAM is refused: KVM cannot split a slot in place (a slot is deleted and
// re-created, and vCPUs that touch the range meanwhile see MMIO), and the domain's RAM view
// (GuestMemory) is immutable once vCPUs run. Xen would swap the RAM page out instead.
//
// Not thread-safe: the owner serialises every call (DomainImpl::physmap_mu_). KVM serialises
// slot changes against running vCPUs itself.
class Physmap {
  public:
    Physmap(PhysmapConfig config, SlotControl& slots);
    Physmap(const Physmap&) = delete;
    Physmap& operator=(const Physmap&) = delete;

    // XEN_EINVAL unless a page may be placed at gfn: a hole below the guest's address width,
    // or a page placed earlier (which would be replaced).
    Result<void> check(Gfn gfn) const;
    // Shows the 4 KiB `page` at gfn in a slot of its own, replacing what was placed there. On
    // a KVM failure nothing is placed at gfn afterwards (the replaced page is gone either way).
    Result<void> place(Gfn gfn, std::span<uint8_t> page);
    // Unmaps the page placed at gfn, if any. Returns whether there was one.
    Result<bool> remove(Gfn gfn);

    bool is_placed(Gfn gfn) const { return slot_of_.contains(gfn.value); }
    size_t size() const { return slot_of_.size(); }
    // "  gfn 0x10000 slot 3" per placed page, for debug dumps.
    std::string describe() const;

  private:
    const PhysmapConfig config_;
    SlotControl& slots_;
    std::map<uint64_t, uint32_t> slot_of_;  // gfn -> slot
    std::vector<uint32_t> free_slots_;      // a stack of unused slot numbers
};

}  // namespace pvhv
