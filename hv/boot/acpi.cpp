// Builds minimal ACPI tables on the host, checksums them, and copies them into guest RAM.
#include "hv/boot/acpi.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

#include "hv/format.h"
#include "hv/boot/guest_layout.h"

namespace pvhv {

namespace {

// Table layouts from the ACPI specification (6.x), packed as they are in memory.
#pragma pack(push, 1)
struct SdtHeader {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);

struct Rsdp {
    char signature[8];
    uint8_t checksum;  // over the first 20 bytes
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum;  // over all 36 bytes
    uint8_t reserved[3];
};
static_assert(sizeof(Rsdp) == 36);
constexpr size_t kRsdpV1Length = 20;

struct Gas {
    uint8_t space_id;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
};
static_assert(sizeof(Gas) == 12);

struct Fadt {
    SdtHeader header;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t reserved0;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint8_t acpi_disable;
    uint8_t s4bios_req;
    uint8_t pstate_cnt;
    uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
    uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
    uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
    uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
    uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    Gas reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t minor_version;
    uint64_t x_firmware_ctrl;
    uint64_t x_dsdt;
    Gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
    Gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
    Gas sleep_control_reg, sleep_status_reg;
    uint64_t hypervisor_vendor_id;
};
static_assert(sizeof(Fadt) == 276);
// Offsets as ACPICA's struct acpi_table_fadt (Linux 6.1 include/acpi/actbl.h).
static_assert(offsetof(Fadt, flags) == 112 && offsetof(Fadt, x_dsdt) == 140);
static_assert(offsetof(Fadt, reset_reg) == 116 && offsetof(Fadt, reset_value) == 128);
static_assert(offsetof(Fadt, sleep_control_reg) == 244 && offsetof(Fadt, sleep_status_reg) == 256);

struct MadtHeader {
    SdtHeader header;
    uint32_t lapic_address;
    uint32_t flags;
};
static_assert(sizeof(MadtHeader) == 44);

struct MadtLapic {
    uint8_t type;  // 0
    uint8_t length;
    uint8_t processor_uid;
    uint8_t apic_id;
    uint32_t flags;
};
static_assert(sizeof(MadtLapic) == 8);

struct MadtIoapic {
    uint8_t type;  // 1
    uint8_t length;
    uint8_t id;
    uint8_t reserved;
    uint32_t address;
    uint32_t gsi_base;
};
static_assert(sizeof(MadtIoapic) == 12);

struct MadtIso {
    uint8_t type;  // 2
    uint8_t length;
    uint8_t bus;
    uint8_t source;
    uint32_t gsi;
    uint16_t flags;
};
static_assert(sizeof(MadtIso) == 10);
#pragma pack(pop)

constexpr uint32_t kFadtWbinvd = 1u << 0;
constexpr uint32_t kFadtProcC1 = 1u << 2;
constexpr uint32_t kFadtPwrButton = 1u << 4;  // set = no fixed-feature power button
constexpr uint32_t kFadtSlpButton = 1u << 5;
constexpr uint32_t kFadtResetRegSup = 1u << 10;
constexpr uint32_t kFadtHwReduced = 1u << 20;
constexpr uint8_t kGasSystemIo = 1;
constexpr uint8_t kGasAccessByte = 1;
constexpr uint16_t kBootNoVga = 1u << 2;
constexpr uint16_t kBootNoCmosRtc = 1u << 5;
constexpr uint32_t kMadtPcatCompat = 1u << 0;
constexpr uint32_t kLapicEnabled = 1u << 0;
constexpr uint16_t kIsoActiveHigh = 0x1;
constexpr uint16_t kIsoLevel = 0x3 << 2;
constexpr uint8_t kSciIrq = 9;

// Scope (\_SB) { Device (COM1) { Name (_HID, EisaId ("PNP0501")) Name (_UID, One)
//   Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 0x00, 0x08) IRQNoFlags () {4} })
// } }  — hand-assembled; byte-identical to what iasl 20200925 compiles from that ASL (it
// drops the root prefix of \_SB at root scope, as here).
constexpr uint8_t kAmlCom1[] = {
    0x10, 0x32, '_',  'S',  'B',  '_',                           // Scope, PkgLength 50, _SB_
    0x5B, 0x82, 0x2B, 'C',  'O',  'M',  '1',                     // Device, PkgLength 43, COM1
    0x08, '_',  'H',  'I',  'D',  0x0C, 0x41, 0xD0, 0x05, 0x01,  // Name _HID DWord EISA PNP0501
    0x08, '_',  'U',  'I',  'D',  0x01,                          // Name _UID One
    0x08, '_',  'C',  'R',  'S',  0x11, 0x10, 0x0A, 0x0D,        // Name _CRS Buffer(13)
    0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x00, 0x08,              //   IO Decode16 0x3F8..0x3F8 len 8
    0x22, 0x10, 0x00,                                            //   IRQNoFlags {4}
    0x79, 0x00,                                                  //   EndTag
};
static_assert(sizeof(kAmlCom1) == 51);

// Name (\_S5, Package () { 5, 0, 0, 0 }): SLP_TYPa (the AcpiSleepDevice's S5), SLP_TYPb (unused
// on reduced hardware), two reserved. Byte-identical to what iasl 20200925 compiles from that
// ASL (root prefix dropped, as for COM1).
constexpr uint8_t kAmlS5[] = {
    0x08, '_',  'S', '5', '_',                         // Name _S5_
    0x12, 0x07, 0x04,                                  // Package, PkgLength 7, 4 elements
    0x0A, acpi_sleep::kS5SleepType, 0x00, 0x00, 0x00,  // BytePrefix 5, Zero, Zero, Zero
};
static_assert(sizeof(kAmlS5) == 13);

Gas io_byte_register(uint64_t port) { return Gas{kGasSystemIo, 8, 0, kGasAccessByte, port}; }

template <size_t N>
void set_chars(char (&dst)[N], std::string_view s) {
    std::memset(dst, ' ', N);
    std::memcpy(dst, s.data(), std::min(N, s.size()));
}

SdtHeader make_header(std::string_view sig, uint32_t length, uint8_t revision) {
    SdtHeader h{};
    std::memcpy(h.signature, sig.data(), 4);
    h.length = length;
    h.revision = revision;
    set_chars(h.oem_id, "PVHV");
    set_chars(h.oem_table_id, "PVHVGUES");
    h.oem_revision = 1;
    set_chars(h.creator_id, "PVHV");
    h.creator_revision = 1;
    return h;
}

// The ACPI area as the guest will see it, assembled on the host so checksums are computed
// over exactly the bytes that get copied.
class AcpiImage {
  public:
    // Reserves `size` bytes at the next 16-byte boundary; returns the offset.
    uint64_t place(uint64_t size) {
        const uint64_t off = (bytes_.size() + 15) & ~uint64_t{15};
        bytes_.resize(off + size);
        return off;
    }
    template <class T>
    void put(uint64_t off, const T& v) {
        std::memcpy(bytes_.data() + off, &v, sizeof v);
    }
    // Sets the checksum byte at `csum_off` so that [off, off+len) sums to zero.
    void checksum(uint64_t off, uint64_t len, uint64_t csum_off) {
        bytes_[csum_off] = 0;
        bytes_[csum_off] =
            static_cast<uint8_t>(-acpi_sum(std::span<const uint8_t>(bytes_).subspan(off, len)));
    }
    void seal_table(uint64_t off) {
        SdtHeader h;
        std::memcpy(&h, bytes_.data() + off, sizeof h);
        checksum(off, h.length, off + offsetof(SdtHeader, checksum));
    }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

  private:
    std::vector<uint8_t> bytes_;
};

}  // namespace

uint8_t acpi_sum(std::span<const uint8_t> bytes) {
    uint8_t sum = 0;
    for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
    return sum;
}

Result<void> validate_acpi_config(const AcpiConfig& config) {
    const uint32_t max_vcpus = config.max_vcpus == 0 ? config.vcpus : config.max_vcpus;
    if (config.vcpus == 0 || max_vcpus < config.vcpus || max_vcpus > kAcpiMaxVcpus)
        return fail(XEN_EINVAL, "ACPI: vcpus " + fmt::dec(config.vcpus) + " (max " +
                                    fmt::dec(max_vcpus) + ") must be 1.." +
                                    fmt::dec(kAcpiMaxVcpus) + " with vcpus <= max");
    if (config.sleep_port > 0x10000 - acpi_sleep::kLength)
        return fail(XEN_EINVAL, "ACPI: sleep_port " + fmt::hex(config.sleep_port) +
                                    " leaves no room for its registers below 0x10000");
    return {};
}

Result<AcpiTables> write_acpi_tables(const GuestMemory& mem, Gpa base, uint64_t max_size,
                                     const AcpiConfig& config) {
    if (auto r = validate_acpi_config(config); !r) return std::unexpected(r.error());
    const uint32_t max_vcpus = config.max_vcpus == 0 ? config.vcpus : config.max_vcpus;
    if (base.value % 16 != 0) return fail(XEN_EINVAL, "ACPI: base not 16-byte aligned");
    // Tables hold 32-bit pointers (RSDT, FADT.DSDT) as well.
    if (base.value >= layout::k4GiB || max_size > layout::k4GiB - base.value)
        return fail(XEN_EINVAL, "ACPI: tables must lie below 4 GiB");

    AcpiImage img;
    const uint64_t rsdp_off = img.place(sizeof(Rsdp));
    const uint64_t rsdt_off = img.place(sizeof(SdtHeader) + 2 * sizeof(uint32_t));
    const uint64_t xsdt_off = img.place(sizeof(SdtHeader) + 2 * sizeof(uint64_t));
    const uint64_t fadt_off = img.place(sizeof(Fadt));
    const bool com1 = config.com1 && config.ioapic;
    const bool sleep = config.sleep_port != 0;
    const uint32_t dsdt_len = static_cast<uint32_t>(
        sizeof(SdtHeader) + (sleep ? sizeof(kAmlS5) : 0) + (com1 ? sizeof(kAmlCom1) : 0));
    const uint64_t dsdt_off = img.place(dsdt_len);
    const uint32_t madt_len =
        static_cast<uint32_t>(sizeof(MadtHeader) + max_vcpus * sizeof(MadtLapic) +
                              (config.ioapic ? sizeof(MadtIoapic) + 2 * sizeof(MadtIso) : 0));
    const uint64_t madt_off = img.place(madt_len);
    if (img.bytes().size() > max_size)
        return fail(XEN_ENOSPC, "ACPI: tables need " + fmt::dec(img.bytes().size()) +
                                    " bytes, area has " + fmt::dec(max_size));
    auto gpa_of = [&](uint64_t off) { return base.value + off; };

    // Revision 2: 64-bit AML integers.
    img.put(dsdt_off, make_header("DSDT", dsdt_len, 2));
    uint64_t aml_off = dsdt_off + sizeof(SdtHeader);
    if (sleep) {
        img.put(aml_off, kAmlS5);
        aml_off += sizeof(kAmlS5);
    }
    if (com1) img.put(aml_off, kAmlCom1);
    img.seal_table(dsdt_off);

    Fadt fadt{};
    fadt.header = make_header("FACP", sizeof(Fadt), 6);
    fadt.dsdt = static_cast<uint32_t>(gpa_of(dsdt_off));
    fadt.x_dsdt = gpa_of(dsdt_off);
    fadt.sci_int = kSciIrq;
    fadt.flags = kFadtWbinvd | kFadtProcC1 | kFadtPwrButton | kFadtSlpButton | kFadtHwReduced;
    // 8042 flag (bit 1) left clear: there is no keyboard controller to probe.
    fadt.iapc_boot_arch = kBootNoVga | (config.cmos_rtc ? 0 : kBootNoCmosRtc);
    if (sleep) {
        fadt.flags |= kFadtResetRegSup;
        fadt.reset_reg = io_byte_register(config.sleep_port + acpi_sleep::kResetOffset);
        fadt.reset_value = acpi_sleep::kResetValue;
        fadt.sleep_control_reg = io_byte_register(config.sleep_port + acpi_sleep::kControlOffset);
        fadt.sleep_status_reg = io_byte_register(config.sleep_port + acpi_sleep::kStatusOffset);
    }
    fadt.minor_version = 0;
    std::memcpy(&fadt.hypervisor_vendor_id, "PVHV\0\0\0\0", 8);
    img.put(fadt_off, fadt);
    img.seal_table(fadt_off);

    img.put(madt_off, MadtHeader{make_header("APIC", madt_len, 4),
                                 static_cast<uint32_t>(layout::kLapicBase), kMadtPcatCompat});
    uint64_t off = madt_off + sizeof(MadtHeader);
    for (uint32_t i = 0; i < max_vcpus; ++i) {
        const uint8_t id = static_cast<uint8_t>(i);
        img.put(off, MadtLapic{0, sizeof(MadtLapic), id, id, i < config.vcpus ? kLapicEnabled : 0});
        off += sizeof(MadtLapic);
    }
    if (config.ioapic) {
        img.put(off, MadtIoapic{1, sizeof(MadtIoapic), static_cast<uint8_t>(max_vcpus), 0,
                                static_cast<uint32_t>(layout::kIoapicBase), 0});
        off += sizeof(MadtIoapic);
        img.put(off, MadtIso{2, sizeof(MadtIso), 0, 0, 2, 0});  // PIT: bus-conforming
        off += sizeof(MadtIso);
        img.put(off, MadtIso{2, sizeof(MadtIso), 0, kSciIrq, kSciIrq, kIsoActiveHigh | kIsoLevel});
        off += sizeof(MadtIso);
    }
    img.seal_table(madt_off);

    img.put(xsdt_off, make_header("XSDT", sizeof(SdtHeader) + 2 * sizeof(uint64_t), 1));
    img.put(xsdt_off + sizeof(SdtHeader), gpa_of(fadt_off));
    img.put(xsdt_off + sizeof(SdtHeader) + 8, gpa_of(madt_off));
    img.seal_table(xsdt_off);

    img.put(rsdt_off, make_header("RSDT", sizeof(SdtHeader) + 2 * sizeof(uint32_t), 1));
    img.put(rsdt_off + sizeof(SdtHeader), static_cast<uint32_t>(gpa_of(fadt_off)));
    img.put(rsdt_off + sizeof(SdtHeader) + 4, static_cast<uint32_t>(gpa_of(madt_off)));
    img.seal_table(rsdt_off);

    Rsdp rsdp{};
    std::memcpy(rsdp.signature, "RSD PTR ", 8);
    set_chars(rsdp.oem_id, "PVHV");
    rsdp.revision = 2;
    rsdp.rsdt_address = static_cast<uint32_t>(gpa_of(rsdt_off));
    rsdp.length = sizeof(Rsdp);
    rsdp.xsdt_address = gpa_of(xsdt_off);
    img.put(rsdp_off, rsdp);
    img.checksum(rsdp_off, kRsdpV1Length, rsdp_off + offsetof(Rsdp, checksum));
    img.checksum(rsdp_off, sizeof(Rsdp), rsdp_off + offsetof(Rsdp, extended_checksum));

    if (auto r = mem.write(base, std::span<const uint8_t>(img.bytes())); !r)
        return std::unexpected(Error{
            r.error().xen_errno,
            "ACPI: writing tables at " + fmt::hex(base.value) + ": " + r.error().message});
    return AcpiTables{Gpa{gpa_of(rsdp_off)}, Gpa{gpa_of(rsdt_off)}, Gpa{gpa_of(xsdt_off)},
                      Gpa{gpa_of(fadt_off)}, Gpa{gpa_of(madt_off)}, Gpa{gpa_of(dsdt_off)},
                      img.bytes().size()};
}

}  // namespace pvhv
