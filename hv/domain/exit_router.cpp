// Exit routing: what each kind of vCPU exit means for a pvhv domain.
#include "hv/domain/exit_router.h"

#include <algorithm>
#include <cstdio>
#include <type_traits>

#include "hv/cpu/cpuid_policy.h"
#include "hv/hypercall/dispatcher.h"
#include "hv/hypercall/hypercall_page.h"
#include "pvhv/hypercall_transport.h"

#include "hv/format.h"

namespace pvhv {

namespace {
using fmt::hex;

std::string rip_of(VcpuContext& ctx) {
    auto r = ctx.regs();
    return r ? " at rip " + hex((*r)->rip) : std::string();
}

// "vcpu3": built only when a message needs it, never on the exit fast path.
std::string vcpu_name(VcpuId id) { return "vcpu" + std::to_string(id.value); }

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
}  // namespace

void ExitRouter::handle(VcpuContext& ctx, VcpuExit& exit) {
    auto vcpu = [&] { return vcpu_name(ctx.id()); };
    std::visit(Overloaded{
                   [&](IoExit& io) { this->io(ctx, io); },
                   [&](MmioExit& m) {
                       const bool claimed = m.write ? mmio_.write(m.addr, m.data) : mmio_.read(m.addr, m.data);
                       // Nothing at that address (a hole, or the gfn a grant frame left): reads
                       // float high like an empty bus, writes vanish. Counted, not fatal.
                       if (!claimed) {
                           counters_.mmio_unclaimed.fetch_add(1, std::memory_order_relaxed);
                           if (!m.write) std::fill(m.data.begin(), m.data.end(), 0xff);
                       }
                   },
                   [&](MsrExit& m) { msr(ctx, m); },
                   [&](HltExit&) {},  // the in-kernel LAPIC handles HLT; nothing to do
                   [&](InterruptedExit&) {},
                   [&](ShutdownExit&) { fatal_(ctx.id(), vcpu() + ": triple fault"); },
                   [&](SystemEventExit& e) {
                       if (e.type == KVM_SYSTEM_EVENT_SHUTDOWN)
                           domain_.shutdown(ShutdownReason::Poweroff);
                       else if (e.type == KVM_SYSTEM_EVENT_RESET)
                           domain_.shutdown(ShutdownReason::Reboot);
                       else
                           fatal_(ctx.id(), vcpu() + ": system event " + std::to_string(e.type));
                   },
                   [&](FailEntryExit& e) {
                       fatal_(ctx.id(), vcpu() + ": VM entry failed, reason " + std::to_string(e.reason));
                   },
                   [&](InternalErrorExit& e) {
                       fatal_(ctx.id(), vcpu() + ": KVM internal error, suberror " +
                                          std::to_string(e.suberror) + rip_of(ctx));
                   },
                   [&](UnhandledExit& e) {
                       fatal_(ctx.id(), vcpu() + ": unhandled exit " + std::to_string(e.reason));
                   },
               },
               exit);
}

void ExitRouter::run_failed(VcpuId id, const Error& e) {
    fatal_(id, vcpu_name(id) + ": " + e.message);
}

void ExitRouter::io(VcpuContext& ctx, IoExit& io) {
    if (io.port == PVHV_HYPERCALL_PORT && io.out && io.data.size() == 4) {
        hypercall(ctx);
        return;
    }
    const bool claimed = io.out ? pio_.write(io.port, io.data) : pio_.read(io.port, io.data);
    // Unclaimed ports behave like an empty ISA bus: reads float high, writes vanish.
    if (!claimed && !io.out) std::fill(io.data.begin(), io.data.end(), 0xff);
}

void ExitRouter::hypercall(VcpuContext& ctx) {
    auto regs = ctx.regs();
    auto sregs = ctx.sregs();
    if (!regs || !sregs) {
        fatal_(ctx.id(), "cannot read the registers of a hypercall: " +
                             (regs ? sregs.error() : regs.error()).message);
        return;
    }
    kvm_regs& r = **regs;
    const kvm_sregs& s = **sregs;
    const HypercallArgs args{static_cast<uint32_t>(r.rax), {r.rdi, r.rsi, r.rdx, r.r10, r.r8}};
    const GuestLinearAccess guest(mem_, PagingMode{s.cr0, s.cr3, s.cr4, s.efer});
    constexpr uint64_t kRflagsIf = 1u << 9;
    HypercallContext hctx{guest, domain_, ctx.id(), (r.rflags & kRflagsIf) != 0};
    r.rax = static_cast<uint64_t>(dispatch_hypercall(hctx, args, counters_));
    ctx.mark_regs_changed();
}

void ExitRouter::msr(VcpuContext& ctx, MsrExit& m) {
    if (m.index == kXenHypercallMsr && m.write) {
        auto r = write_hypercall_page(mem_, *m.data);
        *m.error = r ? 0 : 1;  // #GP on a bad page, as Xen does
        if (!r)
            log_guest(log_limit_, LogLevel::Warn,
                      "dom" + std::to_string(domain_.id().value) + " " +
                          vcpu_name(ctx.id()) + ": hypercall MSR: " + r.error().message);
        return;
    }
    // MSRs nobody emulates raise #GP, as KVM would have done without the user-space exit.
    *m.error = 1;
}

}  // namespace pvhv
