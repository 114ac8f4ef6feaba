// Loads a PVH kernel image and writes the hvm_start_info block the kernel reads at entry.
#include "hv/boot/pvh_loader.h"

#include <elf.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/elfnote.h>

#include <algorithm>
#include <optional>

#include "hv/format.h"

namespace pvhv {

using fmt::dec;
using fmt::hex;

namespace {

constexpr uint64_t page_align_up(uint64_t v) {
    return (v + kPageSize - 1) & ~(kPageSize - 1);
}

// A run of guest writes where the first failure is kept (with what was being written) and
// the rest are skipped, so the write phase reads as a list.
class GuestWrites {
  public:
    explicit GuestWrites(const GuestMemory& mem) : mem_(mem) {}
    // Empty writes are skipped: an empty span may carry a null pointer, and memcpy/memset
    // with a null pointer is undefined even for length 0.
    void bytes(uint64_t gpa, std::span<const uint8_t> data, const std::string& what) {
        if (!error_ && !data.empty()) note(mem_.write(Gpa{gpa}, data), what);
    }
    void zero(uint64_t gpa, uint64_t len, const std::string& what) {
        if (!error_ && len != 0) note(mem_.fill(Gpa{gpa}, 0, len), what);
    }
    template <class T>
    void value(uint64_t gpa, const T& v, const std::string& what) {
        if (!error_) note(mem_.write(Gpa{gpa}, v), what);
    }
    Result<void> result() const {
        if (error_) return std::unexpected(*error_);
        return {};
    }

  private:
    void note(const Result<void>& r, const std::string& what) {
        if (!r) error_ = Error{r.error().xen_errno, what + ": " + r.error().message};
    }
    const GuestMemory& mem_;
    std::optional<Error> error_;
};

Result<void> check_segments(const GuestMemory& mem, const GuestLayout& layout,
                            const std::vector<ElfSegment>& segs) {
    for (size_t i = 0; i < segs.size(); ++i) {
        const auto& s = segs[i];
        const std::string where = "kernel PT_LOAD " + fmt::range(s.paddr, s.memsz);
        if (!mem.is_ram(Gpa{s.paddr}, s.memsz))
            return fail(XEN_EINVAL, where + " is outside guest RAM (" + dec(layout.memory >> 20) +
                                        " MiB, low RAM ends at " + hex(layout.low_ram_end) + ")");
        if (!layout.is_usable_ram(s.paddr, s.memsz))
            return fail(XEN_EINVAL,
                        where + " overlaps a reserved area (boot info " +
                            fmt::range(layout::kBootInfoBase, layout::kBootInfoSize) +
                            ", ACPI, legacy hole below 1 MiB, or MMIO)");
        for (size_t j = 0; j < i; ++j)
            if (PhysRange{segs[j].paddr, segs[j].memsz}.overlaps(s.paddr, s.memsz))
                return fail(XEN_EINVAL, where + " overlaps kernel PT_LOAD " +
                                            fmt::range(segs[j].paddr, segs[j].memsz));
    }
    return {};
}

}  // namespace

Result<uint32_t> pvh_entry_point(const ElfImage& kernel) {
    auto note = kernel.find_note("Xen", XEN_ELFNOTE_PHYS32_ENTRY);
    if (!note) return fail(XEN_EINVAL, "not a PVH kernel (no XEN_ELFNOTE_PHYS32_ENTRY)");
    auto value = elf_note_numeric(*note);
    if (!value) return std::unexpected(value.error());
    if (*value > UINT32_MAX)
        return fail(XEN_EINVAL,
                    "XEN_ELFNOTE_PHYS32_ENTRY " + hex(*value) + " is not a 32-bit address");
    for (const auto& s : kernel.load_segments())
        if (PhysRange{s.paddr, s.memsz}.contains(*value, 1)) return static_cast<uint32_t>(*value);
    return fail(XEN_EINVAL,
                "XEN_ELFNOTE_PHYS32_ENTRY " + hex(*value) + " is not inside any loaded segment");
}

Result<PvhBootInfo> load_pvh(const GuestMemory& mem, const GuestLayout& layout,
                             const ElfImage& kernel, const PvhLoadRequest& req) {
    PvhBootInfo info;

    // --- Validate everything first, so a refused image leaves guest memory untouched.
    auto entry = pvh_entry_point(kernel);
    if (!entry) return std::unexpected(entry.error());
    info.entry = *entry;

    const auto segs = kernel.load_segments();
    if (auto r = check_segments(mem, layout, segs); !r) return std::unexpected(r.error());
    uint64_t lo = UINT64_MAX, hi = 0;
    for (const auto& s : segs) {
        lo = std::min(lo, s.paddr);
        hi = std::max(hi, s.paddr + s.memsz);
    }
    info.kernel = PhysRange{lo, hi - lo};

    if (req.cmdline.size() >= layout::kCmdlineMax)
        return fail(XEN_E2BIG, "command line is " + dec(req.cmdline.size()) +
                                   " bytes, the limit is " + dec(layout::kCmdlineMax - 1));
    if (req.cmdline.find('\0') != std::string_view::npos)
        return fail(XEN_EINVAL, "command line contains a NUL byte");

    if (!req.ramdisk.empty()) {
        // Top of low RAM: below 4 GiB as Linux's 32-bit ramdisk_image field requires, and as
        // far from the kernel (and its early brk/page-table allocations) as possible.
        const uint64_t size = page_align_up(req.ramdisk.size());
        const uint64_t top = layout.low_ram_end;
        if (size > top || top - size < info.kernel.end() || !layout.is_usable_ram(top - size, size))
            return fail(XEN_ENOMEM, "ramdisk (" + dec(req.ramdisk.size()) +
                                        " bytes) does not fit between the kernel's end (" +
                                        hex(info.kernel.end()) + ") and the top of low RAM (" +
                                        hex(top) + ")");
        info.ramdisk = PhysRange{top - size, req.ramdisk.size()};
    }

    if (auto r = validate_acpi_config(req.acpi); !r) return std::unexpected(r.error());
    const auto e820 = build_e820(layout);
    if (auto r = validate_e820(e820); !r) return std::unexpected(r.error());
    if (e820.size() > layout::kMaxMemmapEntries)
        return fail(XEN_E2BIG, "e820 map has too many entries for start_info");

    // --- Write. Boot info and ACPI areas are cleared first: memory may be reused on reboot.
    GuestWrites w(mem);
    for (const auto& s : segs) {
        const std::string what = "loading kernel PT_LOAD " + fmt::range(s.paddr, s.memsz);
        w.bytes(s.paddr, kernel.segment_bytes(s), what);
        w.zero(s.paddr + s.filesz, s.memsz - s.filesz, what);
    }
    if (info.ramdisk) {
        w.bytes(info.ramdisk->base, req.ramdisk, "loading ramdisk");
        w.zero(info.ramdisk->end(), page_align_up(req.ramdisk.size()) - req.ramdisk.size(),
               "loading ramdisk");
    }
    w.zero(layout::kBootInfoBase, layout::kBootInfoSize, "clearing boot info");
    w.zero(layout::kAcpiBase, layout::kAcpiSize, "clearing ACPI tables");
    if (auto r = w.result(); !r) return std::unexpected(r.error());

    info.cmdline = Gpa{layout::kCmdline};
    // The terminating NUL is already there: the area was cleared.
    w.bytes(info.cmdline.value,
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(req.cmdline.data()),
                                     req.cmdline.size()),
            "writing command line");

    auto acpi = write_acpi_tables(mem, Gpa{layout::kAcpiBase}, layout::kAcpiSize, req.acpi);
    if (!acpi) return std::unexpected(acpi.error());
    info.acpi = *acpi;

    const auto memmap = to_hvm_memmap(e820);
    for (size_t i = 0; i < memmap.size(); ++i)
        w.value(layout::kMemmap + i * sizeof(hvm_memmap_table_entry), memmap[i],
                "writing memory map");

    hvm_start_info si{};
    si.magic = XEN_HVM_START_MAGIC_VALUE;
    si.version = 1;
    si.flags = 0;  // an unprivileged domain: no SIF_PRIVILEGED / SIF_INITDOMAIN
    si.cmdline_paddr = info.cmdline.value;
    si.rsdp_paddr = info.acpi.rsdp.value;
    si.memmap_paddr = layout::kMemmap;
    si.memmap_entries = static_cast<uint32_t>(memmap.size());
    si.reserved = 0;
    if (info.ramdisk) {
        hvm_modlist_entry mod{};
        mod.paddr = info.ramdisk->base;
        mod.size = info.ramdisk->size;
        mod.cmdline_paddr = 0;
        mod.reserved = 0;
        w.value(layout::kModlist, mod, "writing module list");
        si.nr_modules = 1;
        si.modlist_paddr = layout::kModlist;
    }
    info.start_info = Gpa{layout::kStartInfo};
    w.value(info.start_info.value, si, "writing start_info");
    if (auto r = w.result(); !r) return std::unexpected(r.error());
    info.e820 = e820;
    return info;
}

}  // namespace pvhv
