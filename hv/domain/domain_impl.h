// The state behind a Domain: KVM objects, memory, devices, vCPU threads, lifecycle.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "hv/boot/guest_layout.h"
#include "hv/cpu/vcpu_thread.h"
#include "hv/devices/acpi_sleep_device.h"
#include "hv/devices/bus.h"
#include "hv/devices/debug_port.h"
#include "hv/devices/uart_8250.h"
#include "hv/domain/domain.h"
#include "hv/domain/domain_registry.h"
#include "hv/domain/exit_router.h"
#include "hv/domain/upcall_injector.h"
#include "hv/evtchn/event_channel_op.h"
#include "hv/evtchn/event_delivery.h"
#include "hv/evtchn/guest_event_pages.h"
#include "hv/evtchn/port_table.h"
#include "hv/gnttab/grant_table.h"
#include "hv/hypercall/hvm_params.h"
#include "hv/kvm/system.h"
#include "hv/kvm/vm.h"
#include "hv/mem/guest_memory.h"
#include "hv/mem/physmap.h"
#include "hv/sched/vcpu_waiters.h"
#include "hv/time/domain_time.h"
#include "hv/time/kvm_clock.h"

namespace pvhv {

class DomainImpl : public HypercallDomain, public EventChannelDomain, private TimeHost {
public:
    DomainImpl(DomId id, DomainConfig config, DomainObserver* observer, DomainRegistry& registry,
               kvm::System sys, kvm::Vm vm, GuestLayout layout, GuestMemory mem);
    ~DomainImpl() override;

    // Wiring, in this order, by domain_builder.cpp.
    void set_memory_map(std::vector<hvm_memmap_table_entry> map) { memmap_ = std::move(map); }
    Result<void> add_event_channels();
    // A v1 grant table of `max_frames` over the domain's RAM; its frames are placed in the
    // holes `physmap` describes (one KVM slot each).
    Result<void> add_grant_table(uint32_t max_frames, PhysmapConfig physmap);
    Result<void> add_serial_port();
    Result<void> add_debug_port();
    Result<void> add_acpi_sleep_device(uint16_t port);  // the FADT's sleep/reset registers
    void add_vcpu(kvm::Vcpu vcpu);
    size_t serial_input(std::string_view bytes) { return uart_ ? uart_->input(bytes) : 0; }

    Result<void> start();
    Result<void> set_paused(bool paused);
    void destroy();  // from a non-vCPU thread only: it joins the vCPU threads

    DomainState state() const;
    std::optional<ShutdownReason> shutdown_reason() const;
    bool wait_stopped(std::chrono::milliseconds timeout) const;
    const DomainConfig& config() const { return config_; }
    DomainCounters& counters() { return counters_; }
    std::chrono::nanoseconds cpu_time() const;
    kvm::Vm& vm() { return vm_; }
    const kvm::System& kvm_system() const { return sys_; }
    const GuestMemory& memory() const { return mem_; }
    // For pvd's back-ends (map_grant/copy_grant); null before add_grant_table.
    std::shared_ptr<GrantTable> shared_grant_table() const { return grant_table_; }
    // Event channels, grant table and placed pages as text (debug_dump.cpp).
    std::string debug_dump() const;

    // HypercallDomain
    DomId id() const override { return id_; }
    void console_write(std::string_view bytes) override;
    void shutdown(ShutdownReason reason) override;
    void set_shutdown_code(ShutdownReason reason) override;
    void block(VcpuId vcpu, bool interrupts_enabled) override;
    std::span<const hvm_memmap_table_entry> memory_map() const override { return memmap_; }
    uint64_t ram_pages() const override { return layout_.memory / kPageSize; }
    HvmParams& hvm_params() override { return params_; }
    Result<void> map_shared_info(Gfn gfn) override;
    uint32_t nr_vcpus() const override { return config_.vcpus; }
    Result<void> register_vcpu_info(VcpuId vcpu, Gpa gpa) override;
    Result<void> set_upcall_vector(VcpuId vcpu, uint8_t vector) override;
    Result<void> set_callback_via(uint64_t via) override;
    TimeDomain* time() override { return &time_; }
    EventChannelDomain* event_channel_domain() override { return this; }
    GrantTable* grant_table() override { return grant_table_.get(); }
    Result<void> map_grant_frame(uint64_t idx, Gfn gfn) override;

    // EventChannelDomain: other domains (dom0 included) are found in the registry.
    PortTable& event_channels() override { return *ports_; }
    const DomainDirectory& domain_directory() const override { return registry_; }

private:
    // TimeHost
    void send_timer_virq(VcpuId vcpu) override;
    void place_pvclock(VcpuId vcpu, Gpa gpa) override;
    void apply_pvclock(VcpuId vcpu, kvm::Vcpu& v);  // on v's thread
    uint32_t valid_ports() const override { return ports_ ? ports_->valid_ports() : 0; }
    bool port_pending(EvtchnPort port) const override { return event_delivery_.is_pending(port); }
    bool has_upcall_vector(VcpuId vcpu) const override { return upcalls_.has_vector(vcpu); }
    void fatal(VcpuId vcpu, const std::string& why);
    void close_grant_table();
    // Moves to `next` unless the domain is already past it; tells the observer (unlocked).
    void transition(DomainState next, std::optional<ShutdownReason> reason);

    const DomId id_;
    const DomainConfig config_;
    DomainObserver* const observer_;
    DomainRegistry& registry_;  // outlives the domain; holds ports_ while registered_
    bool registered_ = false;   // set while building, read by destroy(): no lock needed
    kvm::System sys_;
    kvm::Vm vm_;
    const GuestLayout layout_;
    GuestMemory mem_;
    std::vector<hvm_memmap_table_entry> memmap_;  // fixed once built
    HvmParams params_;
    DomainCounters counters_;
    Bus pio_{"pio"};
    Bus mmio_{"mmio"};
    std::unique_ptr<Uart8250> uart_;
    std::unique_ptr<DebugPort> debug_port_;
    std::unique_ptr<AcpiSleepDevice> acpi_sleep_;
    ExitRouter router_;
    std::vector<std::unique_ptr<VcpuThread>> vcpus_;  // fixed once built

    // Event channels: where the guest's shared_info/vcpu_info are, sleeping vCPUs, how
    // upcalls reach vCPUs, the 2-level delivery, the port table; then time, whose timer
    // thread raises VIRQs in that table (declared last: destroyed first).
    GuestEventPages event_pages_;
    VcpuWaiters waiters_;
    UpcallInjector upcalls_;
    EventDelivery2L event_delivery_{event_pages_, upcalls_};
    std::shared_ptr<PortTable> ports_;
    KvmClock kvm_clock_{vm_};
    // Per vCPU: the kvmclock MSR value last placed (0: none), kept to restore it after INIT;
    // whether the vCPU is past wait-for-SIPI (until then nobody needs to kick it to set that).
    std::unique_ptr<std::atomic<uint64_t>[]> pvclock_msr_;
    std::unique_ptr<std::atomic<bool>[]> vcpu_started_;
    DomainTime time_;

    // Grant table (v1), shared with pvd's back-ends. Lifetime: GrantMappings hold the table and
    // the table holds the guest RAM mappings, so memory a back-end still maps outlives this
    // object; destroy() closes the table (no new pins). Grant frames are the table's memfd
    // pages, shown to the guest through KVM slots that physmap_ adds in holes of the map.
    // physmap_mu_ guards physmap_ and serialises placements (add_to_physmap on any vCPU) with
    // the table's placement records; the table's own lock is taken inside it.
    std::shared_ptr<GrantTable> grant_table_;
    kvm::VmSlots slots_{vm_};
    mutable std::mutex physmap_mu_;
    std::unique_ptr<Physmap> physmap_;

    mutable std::mutex mu_;  // guards state_, reason_, shutdown_code_ (cv_ signals changes)
    mutable std::condition_variable cv_;
    DomainState state_ = DomainState::Created;
    std::optional<ShutdownReason> reason_;
    std::optional<ShutdownReason> shutdown_code_;
    std::mutex destroy_mu_;  // serialises destroy() callers
};

}  // namespace pvhv
