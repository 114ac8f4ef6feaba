// Where a guest's shared_info and vcpu_info sit in its physical memory (EventPageLocator).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "hv/evtchn/event_delivery.h"
#include "hv/mem/guest_memory.h"

namespace pvhv {

// The guest-physical addresses recorded by XENMEM_add_to_physmap(XENMAPSPACE_shared_info) and
// VCPUOP_register_vcpu_info, resolved through GuestMemory::span() on every event (so a remap
// takes effect at once and nothing caches a host pointer).
//
// Locking: each address is one atomic; setters run on vCPU threads, readers on any thread
// delivering an event. A delivery racing with a move may use the old location, which is why
// register_vcpu_info's caller follows up with EventDelivery2L::vcpu_info_moved().
class GuestEventPages final : public EventPageLocator {
public:
    GuestEventPages(const GuestMemory& mem, uint32_t nr_vcpus);

    // The page the guest mapped shared_info at (page-aligned guest RAM), or none.
    Result<void> set_shared_info(Gpa gpa);
    void clear_shared_info();

    // VCPUOP_register_vcpu_info's checks that belong to the location: the vcpu_info must lie
    // within one page of RAM (-EINVAL), once per vCPU (-EINVAL), and 8-byte aligned (-EINVAL;
    // Xen does not insist, but the selector is updated with 64-bit atomics). Copies the current
    // vcpu_info (shared_info slot) to the new place, or zeroes it with the upcall masked when
    // there was none, as Xen's map_vcpu_info.
    Result<void> register_vcpu_info(VcpuId vcpu, Gpa gpa);

    Result<std::span<uint8_t>> shared_info() const override;
    Result<std::span<uint8_t>> vcpu_info(VcpuId v) const override;
    // Where vcpu_info(v) is, as a guest-physical address (for KVM, which wants addresses).
    Result<Gpa> vcpu_info_gpa(VcpuId v) const;

private:
    static constexpr uint64_t kNone = ~uint64_t{0};

    const GuestMemory& mem_;
    const uint32_t nr_vcpus_;
    std::atomic<uint64_t> shared_info_gpa_{kNone};
    std::unique_ptr<std::atomic<uint64_t>[]> vcpu_info_gpa_;  // per vCPU; kNone = not registered
};

}  // namespace pvhv
