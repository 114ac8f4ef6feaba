// Unit tests of the PVH loader: segments, bss, ramdisk, cmdline and hvm_start_info read back.
#include "hv/boot/pvh_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdint.h>  // start_info.h uses the C fixed-width types without including them
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/elfnote.h>

#include "hv/boot/testing/synthetic_elf.h"

namespace pvhv {
namespace {

using boot_testing::SyntheticElf;
using ::testing::HasSubstr;
constexpr uint64_t kMiB = 1 << 20;

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
    return v;
}

SyntheticElf pvh_kernel(bool is64 = true) {
    SyntheticElf e;
    e.is64 = is64;
    e.entry = 0x1000000;
    e.segments.push_back({PT_LOAD, PF_R | PF_X,
                          0xffffffff81000000ull & (is64 ? ~0ull : 0xffffffffull), 0x1000000,
                          pattern(0x1234, 1), 0x4000, 0x1000});
    e.segments.push_back(
        {PT_LOAD, PF_R | PF_W, 0x2000000, 0x1800000, pattern(0x100, 9), 0x2000, 0x1000});
    e.notes.push_back({"Xen", XEN_ELFNOTE_PHYS32_ENTRY, SyntheticElf::le32(0x1000040)});
    return e;
}

class PvhLoaderTest : public ::testing::Test {
  protected:
    void SetUp() override { make_memory(32 * kMiB); }
    void make_memory(uint64_t bytes) {
        auto l = GuestLayout::for_memory(bytes);
        ASSERT_TRUE(l);
        layout_ = *l;
        auto m = create_guest_memory(layout_);
        ASSERT_TRUE(m) << m.error().message;
        mem_ = std::move(*m);
    }

    Result<PvhBootInfo> load(const SyntheticElf& e, const PvhLoadRequest& req = {}) {
        file_ = e.build();
        auto img = ElfImage::parse(file_);
        if (!img) return std::unexpected(img.error());
        return load_pvh(mem_, layout_, *img, req);
    }
    std::string load_error(const SyntheticElf& e, const PvhLoadRequest& req = {}) {
        auto r = load(e, req);
        EXPECT_FALSE(r) << "load succeeded";
        return r ? std::string() : r.error().message;
    }
    std::vector<uint8_t> read(uint64_t gpa, uint64_t len) {
        std::vector<uint8_t> b(len);
        EXPECT_TRUE(mem_.read(Gpa{gpa}, b));
        return b;
    }

    GuestLayout layout_;
    GuestMemory mem_;
    std::vector<uint8_t> file_;
};

TEST_F(PvhLoaderTest, LoadsSegmentsAndZeroesBss) {
    ASSERT_TRUE(mem_.fill(Gpa{0x1000000}, 0xAA, 0x4000));  // stale data where bss goes
    auto info = load(pvh_kernel());
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->entry, 0x1000040u);
    EXPECT_EQ(info->kernel.base, 0x1000000u);
    EXPECT_EQ(info->kernel.end(), 0x1802000u);
    EXPECT_EQ(read(0x1000000, 0x1234), pattern(0x1234, 1));
    EXPECT_EQ(read(0x1001234, 0x4000 - 0x1234), std::vector<uint8_t>(0x4000 - 0x1234, 0));
    EXPECT_EQ(read(0x1800000, 0x100), pattern(0x100, 9));
    EXPECT_EQ(read(0x1800100, 0x1f00), std::vector<uint8_t>(0x1f00, 0));
}

TEST_F(PvhLoaderTest, StartInfoReadsBack) {
    const auto ramdisk = pattern(10000, 3);
    const std::string cmdline = "console=hvc0 root=/dev/xvda rw";
    auto info = load(pvh_kernel(), {ramdisk, cmdline, AcpiConfig{.vcpus = 2}});
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->start_info, Gpa{layout::kStartInfo});

    auto si = mem_.read<hvm_start_info>(info->start_info);
    ASSERT_TRUE(si);
    EXPECT_EQ(si->magic, XEN_HVM_START_MAGIC_VALUE);
    EXPECT_EQ(si->version, 1u);
    EXPECT_EQ(si->flags, 0u);
    EXPECT_EQ(si->reserved, 0u);
    EXPECT_EQ(si->rsdp_paddr, info->acpi.rsdp.value);
    auto rsdp_sig = read(si->rsdp_paddr, 8);
    EXPECT_EQ(std::string(rsdp_sig.begin(), rsdp_sig.end()), "RSD PTR ");

    EXPECT_EQ(*mem_.read_cstring(Gpa{si->cmdline_paddr}, 4096), cmdline);
    EXPECT_LT(si->cmdline_paddr, layout::k4GiB);

    ASSERT_EQ(si->memmap_entries, info->e820.size());
    for (uint32_t i = 0; i < si->memmap_entries; ++i) {
        auto e = mem_.read<hvm_memmap_table_entry>(
            Gpa{si->memmap_paddr + i * sizeof(hvm_memmap_table_entry)});
        ASSERT_TRUE(e);
        EXPECT_EQ(e->addr, info->e820[i].addr);
        EXPECT_EQ(e->size, info->e820[i].size);
        EXPECT_EQ(e->type, static_cast<uint32_t>(info->e820[i].type));
        EXPECT_EQ(e->reserved, 0u);
    }
    EXPECT_EQ(info->e820, build_e820(layout_));

    ASSERT_EQ(si->nr_modules, 1u);
    auto mod = mem_.read<hvm_modlist_entry>(Gpa{si->modlist_paddr});
    ASSERT_TRUE(mod);
    EXPECT_EQ(mod->size, ramdisk.size());
    EXPECT_EQ(mod->paddr % kPageSize, 0u);
    EXPECT_EQ(mod->paddr + 3 * kPageSize, layout_.low_ram_end);  // top of low RAM
    EXPECT_EQ(mod->cmdline_paddr, 0u);
    EXPECT_EQ(read(mod->paddr, ramdisk.size()), ramdisk);
    ASSERT_TRUE(info->ramdisk);
    EXPECT_EQ(info->ramdisk->base, mod->paddr);
    EXPECT_FALSE(info->kernel.overlaps(mod->paddr, mod->size));
}

TEST_F(PvhLoaderTest, NoRamdiskNoModules) {
    auto info = load(pvh_kernel());
    ASSERT_TRUE(info);
    auto si = mem_.read<hvm_start_info>(info->start_info);
    EXPECT_EQ(si->nr_modules, 0u);
    EXPECT_EQ(si->modlist_paddr, 0u);
    EXPECT_FALSE(info->ramdisk);
    EXPECT_EQ(*mem_.read_cstring(Gpa{si->cmdline_paddr}, 16), "");
}

TEST_F(PvhLoaderTest, LoadsElf32PvhKernelWith8ByteNote) {
    auto e = pvh_kernel(false);
    e.notes[0].desc = SyntheticElf::le64(0x1000040);
    auto info = load(e);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->entry, 0x1000040u);
}

TEST_F(PvhLoaderTest, RefusesKernelWithoutPvhNote) {
    auto e = pvh_kernel();
    e.notes[0].type = XEN_ELFNOTE_ENTRY;
    EXPECT_EQ(load_error(e), "not a PVH kernel (no XEN_ELFNOTE_PHYS32_ENTRY)");
    e.notes.clear();
    EXPECT_EQ(load_error(e), "not a PVH kernel (no XEN_ELFNOTE_PHYS32_ENTRY)");
}

TEST_F(PvhLoaderTest, RefusesBadEntryPoint) {
    auto e = pvh_kernel();
    e.notes[0].desc = SyntheticElf::le64(uint64_t{1} << 33);
    EXPECT_THAT(load_error(e), HasSubstr("not a 32-bit address"));
    e.notes[0].desc = SyntheticElf::le32(0x3000000);
    EXPECT_THAT(load_error(e), HasSubstr("not inside any loaded segment"));
    e.notes[0].desc = {1, 2, 3};
    EXPECT_THAT(load_error(e), HasSubstr("3-byte descriptor"));
}

TEST_F(PvhLoaderTest, RefusesSegmentOutsideRam) {
    auto e = pvh_kernel();
    e.segments[1].paddr = 40 * kMiB;
    EXPECT_THAT(load_error(e), HasSubstr("outside guest RAM"));
    e = pvh_kernel();
    e.segments[1].paddr = 32 * kMiB - 0x1000;  // straddles the end of RAM
    EXPECT_THAT(load_error(e), HasSubstr("outside guest RAM"));
}

TEST_F(PvhLoaderTest, RefusesSegmentInReservedAreas) {
    for (uint64_t paddr : {layout::kBootInfoBase, layout::kAcpiBase + 0x100, uint64_t{0xB8000},
                           layout::kSpecialPagesBase, layout::kBootInfoBase - 0x1000}) {
        auto e = pvh_kernel();
        e.segments[1].paddr = paddr;
        EXPECT_THAT(load_error(e), HasSubstr("overlaps a reserved area")) << std::hex << paddr;
    }
}

TEST_F(PvhLoaderTest, RefusesOverlappingSegments) {
    auto e = pvh_kernel();
    e.segments[1].paddr = 0x1003000;  // inside segment 0's bss
    EXPECT_THAT(load_error(e), HasSubstr("overlaps kernel PT_LOAD"));
}

TEST_F(PvhLoaderTest, RefusesRamdiskThatDoesNotFitAndLeavesMemoryAlone) {
    ASSERT_TRUE(mem_.fill(Gpa{0x1000000}, 0xAA, 0x10));
    const std::vector<uint8_t> big(31 * kMiB, 1);
    PvhLoadRequest req;
    req.ramdisk = big;
    EXPECT_THAT(load_error(pvh_kernel(), req), HasSubstr("ramdisk"));
    EXPECT_EQ(read(0x1000000, 0x10), std::vector<uint8_t>(0x10, 0xAA));
    // Just fits: from the kernel's end to the top of low RAM.
    const std::vector<uint8_t> fits(32 * kMiB - 0x1802000, 2);
    req.ramdisk = fits;
    auto info = load(pvh_kernel(), req);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->ramdisk->base, 0x1802000u);
}

TEST_F(PvhLoaderTest, RefusesBadVcpuCountBeforeWriting) {
    ASSERT_TRUE(mem_.fill(Gpa{0x1000000}, 0xAA, 0x10));
    PvhLoadRequest req;
    req.acpi.vcpus = 0;
    EXPECT_THAT(load_error(pvh_kernel(), req), HasSubstr("vcpus"));
    req.acpi.vcpus = kAcpiMaxVcpus + 1;
    EXPECT_THAT(load_error(pvh_kernel(), req), HasSubstr("vcpus"));
    EXPECT_EQ(read(0x1000000, 0x10), std::vector<uint8_t>(0x10, 0xAA));
}

TEST_F(PvhLoaderTest, RefusesBadCommandLine) {
    PvhLoadRequest req;
    const std::string long_line(layout::kCmdlineMax, 'a');
    req.cmdline = long_line;
    EXPECT_THAT(load_error(pvh_kernel(), req), HasSubstr("command line is"));
    const std::string max_line(layout::kCmdlineMax - 1, 'b');
    req.cmdline = max_line;
    auto info = load(pvh_kernel(), req);
    ASSERT_TRUE(info);
    EXPECT_EQ(*mem_.read_cstring(info->cmdline, layout::kCmdlineMax), max_line);
    const std::string with_nul("a\0b", 3);
    req.cmdline = with_nul;
    EXPECT_THAT(load_error(pvh_kernel(), req), HasSubstr("NUL"));
}

TEST_F(PvhLoaderTest, ReloadClearsOldBootInfo) {
    const std::string long_cmd(300, 'x');
    ASSERT_TRUE(load(pvh_kernel(), {{}, long_cmd, {}}));
    auto info = load(pvh_kernel(), {{}, "short", {}});
    ASSERT_TRUE(info);
    EXPECT_EQ(*mem_.read_cstring(info->cmdline, 4096), "short");
}

TEST_F(PvhLoaderTest, RefusesWhenRegionsAreMissing) {
    mem_ = GuestMemory{};  // the builder forgot to create the regions
    EXPECT_THAT(load_error(pvh_kernel()), HasSubstr("outside guest RAM"));
}

}  // namespace
}  // namespace pvhv
