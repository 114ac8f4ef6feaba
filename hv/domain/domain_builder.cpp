// Domain::create: builds a domain in one visible order (memory, VM, boot image, devices, vCPUs).
#include <fstream>
#include <iterator>

#include "hv/boot/linux_hypercall_rewrite.h"
#include "hv/boot/pvh_loader.h"
#include "hv/cpu/boot_state.h"
#include "hv/cpu/cpuid_policy.h"
#include "hv/domain/domain_impl.h"
#include "hv/hypercall/handlers.h"
#include "hv/log.h"

namespace pvhv {

namespace {

// Kernel and ramdisk files are user input, not guest input, but are still bounded.
constexpr uint64_t kMaxImageBytes = uint64_t{1} << 30;

Result<std::vector<uint8_t>> read_file(const std::string& path, const char* what) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) return fail(XEN_ENOENT, std::string("cannot open ") + what + " " + path);
    const auto size = static_cast<uint64_t>(f.tellg());
    if (size > kMaxImageBytes) return fail(XEN_E2BIG, std::string(what) + " " + path + " is too large");
    std::vector<uint8_t> bytes(size);
    f.seekg(0);
    if (!f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
        return fail(XEN_EIO, std::string("cannot read ") + what + " " + path);
    return bytes;
}

std::string default_system_map(const DomainConfig& c) {
    if (!c.system_map.empty()) return c.system_map;
    const auto slash = c.kernel.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : c.kernel.substr(0, slash);
    const std::string candidate = dir + "/System.map";
    return std::ifstream(candidate) ? candidate : std::string();
}

// Linux with the Xen leaves issues vmcall/vmmcall from two functions; point them at the pio
// transport. Test guests and kernels without those functions need nothing.
Result<void> rewrite_hypercall_sites(const DomainConfig& c, const GuestMemory& mem, const ElfImage& kernel) {
    if (!c.xen_cpuid) return {};
    const std::string map_path = default_system_map(c);
    if (map_path.empty()) return {};
    std::ifstream f(map_path);
    const std::string map((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto report = rewrite_linux_hypercalls(mem, kernel, map);
    if (!report) return fail(report.error().xen_errno, map_path + ": " + report.error().message);
    log_line(LogLevel::Info, c.name + ": " + report->describe());
    return {};
}

}  // namespace

Result<std::unique_ptr<Domain>> Domain::create(DomId id, const DomainConfig& config,
                                               DomainObserver* observer, DomainRegistry& registry) {
    if (config.type != GuestType::Pvh)
        return fail(XEN_ENOSYS, "guest type hvm (full virtualisation) is not implemented yet");
    if (config.vcpus == 0 || config.vcpus > kAcpiMaxVcpus)
        return fail(XEN_EINVAL, "vcpus must be 1.." + std::to_string(kAcpiMaxVcpus));

    // 1. Guest memory, laid out as hv/boot/guest_layout.h describes.
    auto layout = GuestLayout::for_memory(config.memory_mib << 20);
    if (!layout) return std::unexpected(layout.error());
    auto mem = create_guest_memory(*layout);
    if (!mem) return std::unexpected(mem.error());

    // 2. The KVM VM: memory slots, in-kernel LAPIC/IOAPIC/PIC/PIT, the hypercall MSR trap.
    auto sys = kvm::System::open();
    if (!sys) return std::unexpected(sys.error());
    auto vm = kvm::Vm::create(*sys);
    if (!vm) return std::unexpected(vm.error());
    if (auto r = vm->map_memory(*mem); !r) return std::unexpected(r.error());
    if (auto r = vm->create_irqchip_and_pit(); !r) return std::unexpected(r.error());
    // Only a guest told about Xen (CPUID) has a reason to write the hypercall MSR.
    if (config.xen_cpuid)
        if (auto r = vm->enable_unknown_msr_exits(); !r) return std::unexpected(r.error());

    // 3. The boot image: kernel, ramdisk, command line, ACPI, start_info; Linux's hypercall sites.
    auto kernel_file = read_file(config.kernel, "kernel");
    if (!kernel_file) return std::unexpected(kernel_file.error());
    auto kernel = ElfImage::parse(*kernel_file);
    if (!kernel) return fail(kernel.error().xen_errno, config.kernel + ": " + kernel.error().message);
    std::vector<uint8_t> ramdisk;
    if (!config.ramdisk.empty()) {
        auto r = read_file(config.ramdisk, "ramdisk");
        if (!r) return std::unexpected(r.error());
        ramdisk = std::move(*r);
    }
    PvhLoadRequest request{ramdisk, config.cmdline, AcpiConfig{.vcpus = config.vcpus}};
    auto boot = load_pvh(*mem, *layout, *kernel, request);
    if (!boot) return fail(boot.error().xen_errno, config.kernel + ": " + boot.error().message);
    if (auto r = rewrite_hypercall_sites(config, *mem, *kernel); !r) return std::unexpected(r.error());

    auto impl = std::make_unique<DomainImpl>(id, config, observer, registry, std::move(*sys), std::move(*vm),
                                             *layout, std::move(*mem));
    impl->set_memory_map(to_hvm_memmap(boot->e820));
    if (auto r = impl->add_event_channels(); !r) return std::unexpected(r.error());
    // Grant table: 64 frames at most (Xen's default), placed by the guest in holes of the
    // map: not the builder's regions, the APIC windows or KVM's private pages, and below
    // MAXPHYADDR. Slots after the regions' own; one spare, as a frame moves new slot first.
    {
        auto cpuid = impl->kvm_system().supported_cpuid();
        if (!cpuid) return std::unexpected(cpuid.error());
        PhysmapConfig physmap{layout->fixed_ranges(), guest_phys_addr_bits(*cpuid),
                              static_cast<uint32_t>(impl->memory().regions().size()),
                              kGrantDefaultMaxFrames + 1};
        physmap.fixed.push_back({kvm::kPrivatePagesBase, kvm::kPrivatePagesSize});
        if (auto r = impl->add_grant_table(kGrantDefaultMaxFrames, std::move(physmap)); !r)
            return std::unexpected(r.error());
    }

    // 4. Devices: COM1 for console=ttyS0, the 0xe9 debug port for early guest output, the
    //    ACPI sleep/reset registers the FADT points at (poweroff/reboot without Xen leaves).
    if (auto r = impl->add_serial_port(); !r) return std::unexpected(r.error());
    if (auto r = impl->add_debug_port(); !r) return std::unexpected(r.error());
    if (request.acpi.sleep_port != 0)
        if (auto r = impl->add_acpi_sleep_device(request.acpi.sleep_port); !r)
            return std::unexpected(r.error());

    // 5. vCPUs: the CPUID policy for each; vCPU 0 at the PVH entry, the others wait for
    //    INIT/SIPI from the guest (KVM leaves non-boot vCPUs in wait-for-SIPI).
    auto supported = impl->kvm_system().supported_cpuid();
    if (!supported) return std::unexpected(supported.error());
    const uint32_t tsc_khz = impl->vm().tsc_khz();
    for (uint32_t i = 0; i < config.vcpus; ++i) {
        auto vcpu = kvm::Vcpu::create(impl->kvm_system(), impl->vm(), VcpuId{i});
        if (!vcpu) return std::unexpected(vcpu.error());
        const CpuidPolicyInput policy{.vcpu_id = i, .nr_vcpus = config.vcpus, .domid = id.value,
                                      .xen_leaves = config.xen_cpuid,
                                      .tsc_khz = tsc_khz,
                                      .xen_version = (kXenMajor << 16) | kXenMinor};
        if (auto r = vcpu->set_cpuid(make_cpuid(*supported, policy)); !r) return std::unexpected(r.error());
        if (i == 0)
            if (auto r = set_pvh_entry_state(*vcpu, boot->entry, static_cast<uint32_t>(boot->start_info.value)); !r)
                return std::unexpected(r.error());
        impl->add_vcpu(std::move(*vcpu));
    }
    return std::unique_ptr<Domain>(new Domain(std::move(impl)));
}

}  // namespace pvhv
