// The hypercall interface seen by handlers: arguments, the calling domain's services, results.
#include "hv/xen_public.h"
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>


#include "hv/domain/shutdown_reason.h"
#include "hv/mem/guest_linear.h"
#include "hv/types.h"

namespace pvhv {

class EventChannelDomain;
class GrantTable;
class HvmParams;
class TimeDomain;

// Xen's 64-bit convention: number in rax, arguments in rdi, rsi, rdx, r10, r8.
struct HypercallArgs {
    uint64_t nr = 0;
    std::array<uint64_t, 5> arg{};
};

// What a hypercall may ask of the domain it runs in. Implemented by the domain (and by
// fakes in unit tests); called on the issuing vCPU's thread.
class HypercallDomain {
public:
    virtual ~HypercallDomain() = default;
    virtual DomId id() const = 0;
    virtual void console_write(std::string_view bytes) = 0;
    virtual void shutdown(ShutdownReason reason) = 0;           // SCHEDOP_shutdown
    virtual void set_shutdown_code(ShutdownReason reason) = 0;  // SCHEDOP_shutdown_code
    // SCHEDOP_block: sleep until an interrupt (or, with interrupts disabled, an event upcall).
    virtual void block(VcpuId vcpu, bool interrupts_enabled) = 0;
    virtual std::span<const hvm_memmap_table_entry> memory_map() const = 0;
    virtual uint64_t ram_pages() const = 0;
    virtual HvmParams& hvm_params() = 0;
    // XENMEM_add_to_physmap(XENMAPSPACE_shared_info): the shared info page appears at `gfn`
    // (a page of the guest's RAM, checked by the domain); a second call moves it.
    virtual Result<void> map_shared_info(Gfn gfn) = 0;
    virtual uint32_t nr_vcpus() const = 0;
    // VCPUOP_register_vcpu_info: the vCPU's vcpu_info moves to `gpa` (inside one page of RAM,
    // checked by the domain); allowed once per vCPU, as in Xen.
    virtual Result<void> register_vcpu_info(VcpuId vcpu, Gpa gpa) = 0;
    // HVMOP_set_evtchn_upcall_vector: the vector event-channel upcalls use on `vcpu`.
    virtual Result<void> set_upcall_vector(VcpuId vcpu, uint8_t vector) = 0;
    // The domain's event-channel services, or null if it has none (EVTCHNOP_* then -ENOSYS).
    virtual EventChannelDomain* event_channel_domain() = 0;
    // The domain's grant table, or null if it has none (GNTTABOP_* then return -ENOSYS).
    virtual GrantTable* grant_table() = 0;
    // XENMEM_add_to_physmap(XENMAPSPACE_grant_table): frame `idx` of the grant table appears
    // at `gfn`, a hole of the guest-physical map (checked by the domain: place_grant_frame).
    virtual Result<void> map_grant_frame(uint64_t idx, Gfn gfn) = 0;
    // HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ): how upcalls reach vCPUs without their own vector.
    virtual Result<void> set_callback_via(uint64_t via) {
        (void)via;
        return fail(XEN_ENOSYS, "no event channel upcalls");
    }
    // Time and timers (vcpu_op, set_timer_op, SCHEDOP_poll); null: those return -ENOSYS.
    virtual TimeDomain* time() { return nullptr; }
};

// Everything a handler gets: the guest's buffers (by linear address), the domain, the vCPU.
struct HypercallContext {
    const GuestLinearAccess& guest;
    HypercallDomain& domain;
    VcpuId vcpu;
    bool interrupts_enabled = false;  // the caller's RFLAGS.IF (blocking hypercalls care)
};

// A handler returns what the guest sees in rax: >= 0 on success, -XEN_Exxx on failure.
using HypercallHandler = int64_t (*)(HypercallContext&, const HypercallArgs&);

}  // namespace pvhv
