// Unit tests of the Linux hypercall-site rewrite (synthetic kernels; optionally Debian's real one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xen/elfnote.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "hv/boot/linux_hypercall_rewrite.h"
#include "hv/boot/pvh_loader.h"
#include "hv/boot/testing/synthetic_elf.h"

namespace pvhv {
namespace {

using boot_testing::SyntheticElf;
using ::testing::HasSubstr;

constexpr uint64_t kTextVaddr = 0xffffffff81000000ull;
constexpr uint64_t kTextPaddr = 0x1000000;
constexpr uint64_t kAmdOff = 0x100, kIntelOff = 0x140, kThunkOff = 0x200, kDataOff = 0x300;
const std::vector<uint8_t> kVmmcall{0x0f, 0x01, 0xd9}, kVmcall{0x0f, 0x01, 0xc1};
const std::vector<uint8_t> kOut{0xe7, 0xe4, 0x90}, kEndbr{0xf3, 0x0f, 0x1e, 0xfa};

std::string hex(uint64_t v) {
    char b[20];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
    return b;
}

// `insn` then `jmp __x86_return_thunk` (or `ret`), optionally after endbr64, at `off`.
void put_function(std::vector<uint8_t>& text, uint64_t off, const std::vector<uint8_t>& insn,
                  bool rethunk, bool endbr) {
    std::vector<uint8_t> f;
    if (endbr) f = kEndbr;
    f.insert(f.end(), insn.begin(), insn.end());
    if (rethunk) {
        const int32_t rel = static_cast<int32_t>(kThunkOff - (off + f.size() + 5));
        f.push_back(0xe9);
        auto r = SyntheticElf::le32(static_cast<uint32_t>(rel));
        f.insert(f.end(), r.begin(), r.end());
    } else {
        f.push_back(0xc3);
    }
    f.push_back(0xcc);
    std::copy(f.begin(), f.end(), text.begin() + static_cast<std::ptrdiff_t>(off));
}

struct Kernel {
    bool rethunk = true;
    bool endbr = false;
    std::vector<uint8_t> amd = kVmmcall, intel = kVmcall;
    uint32_t text_flags = PF_R | PF_X;

    SyntheticElf elf() const {
        std::vector<uint8_t> text(0x400, 0xcc);
        put_function(text, kAmdOff, amd, rethunk, endbr);
        put_function(text, kIntelOff, intel, rethunk, endbr);
        text[kThunkOff] = 0xc3;
        SyntheticElf e;
        e.entry = kTextPaddr;
        e.segments.push_back({PT_LOAD, text_flags, kTextVaddr, kTextPaddr, text, 0x1000, 0x1000});
        e.segments.push_back({PT_LOAD, PF_R | PF_W, kTextVaddr + 0x100000, kTextPaddr + 0x100000,
                              std::vector<uint8_t>(0x100, 0), 0x1000, 0x1000});
        e.notes.push_back({"Xen", XEN_ELFNOTE_PHYS32_ENTRY, SyntheticElf::le32(kTextPaddr)});
        return e;
    }
};

std::string map_line(uint64_t addr, char type, const std::string& name) {
    return hex(addr) + " " + type + " " + name + "\n";
}

std::string standard_map() {
    return map_line(kTextVaddr, 'T', "_text") +
           map_line(kTextVaddr + kAmdOff, 'T', "xen_hypercall_amd") +
           map_line(kTextVaddr + kIntelOff, 'T', "xen_hypercall_intel") +
           map_line(kTextVaddr + kThunkOff, 'T', "__x86_return_thunk") +
           map_line(kTextVaddr + 0x100000, 'D', "some_data");
}

class RewriteTest : public ::testing::Test {
  protected:
    void load(const Kernel& k) {
        auto l = GuestLayout::for_memory(32 << 20);
        ASSERT_TRUE(l);
        layout_ = *l;
        auto m = create_guest_memory(layout_);
        ASSERT_TRUE(m);
        mem_ = std::move(*m);
        file_ = k.elf().build();
        auto img = ElfImage::parse(file_);
        ASSERT_TRUE(img) << img.error().message;
        img_.emplace(std::move(*img));
        auto info = load_pvh(mem_, layout_, *img_, {});
        ASSERT_TRUE(info) << info.error().message;
    }
    Result<HypercallRewriteReport> rewrite(const std::string& map) {
        return rewrite_linux_hypercalls(mem_, *img_, map);
    }
    std::vector<uint8_t> text(uint64_t off, uint64_t len) {
        std::vector<uint8_t> b(len);
        EXPECT_TRUE(mem_.read(Gpa{kTextPaddr + off}, b));
        return b;
    }
    std::string error_of(const std::string& map) {
        auto r = rewrite(map);
        EXPECT_FALSE(r) << "rewrite succeeded: " << (r ? r->describe() : "");
        return r ? std::string() : r.error().message;
    }

    GuestLayout layout_;
    GuestMemory mem_;
    std::vector<uint8_t> file_;
    std::optional<ElfImage> img_;
};

TEST_F(RewriteTest, RewritesRethunkShape) {
    load(Kernel{});
    const auto before_amd = text(kAmdOff, 16), before_intel = text(kIntelOff, 16);
    auto r = rewrite(standard_map());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, HypercallRewriteStatus::Rewritten);
    ASSERT_EQ(r->sites.size(), 2u);
    EXPECT_EQ(r->sites[0].symbol, "xen_hypercall_amd");
    EXPECT_EQ(r->sites[0].vaddr, kTextVaddr + kAmdOff);
    EXPECT_EQ(r->sites[0].gpa, Gpa{kTextPaddr + kAmdOff});
    EXPECT_EQ(std::vector<uint8_t>(r->sites[0].original.begin(), r->sites[0].original.end()),
              kVmmcall);
    EXPECT_EQ(std::vector<uint8_t>(r->sites[1].original.begin(), r->sites[1].original.end()),
              kVmcall);
    EXPECT_TRUE(r->sites[0].rewritten && r->sites[1].rewritten);
    EXPECT_EQ(text(kAmdOff, 3), kOut);
    EXPECT_EQ(text(kIntelOff, 3), kOut);
    // Only the three instruction bytes change.
    EXPECT_EQ(text(kAmdOff + 3, 13),
              std::vector<uint8_t>(before_amd.begin() + 3, before_amd.end()));
    EXPECT_EQ(text(kIntelOff + 3, 13),
              std::vector<uint8_t>(before_intel.begin() + 3, before_intel.end()));
    EXPECT_THAT(r->describe(), HasSubstr("rewritten"));

    // Running again finds the pio form and leaves it.
    auto again = rewrite(standard_map());
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->status, HypercallRewriteStatus::AlreadyPio);
    EXPECT_FALSE(again->sites[0].rewritten);
}

TEST_F(RewriteTest, RewritesRetShape) {
    load(Kernel{.rethunk = false});
    auto r = rewrite(standard_map());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, HypercallRewriteStatus::Rewritten);
    EXPECT_EQ(text(kAmdOff, 4), (std::vector<uint8_t>{0xe7, 0xe4, 0x90, 0xc3}));
}

TEST_F(RewriteTest, RewritesAfterEndbr64) {
    load(Kernel{.endbr = true});
    auto r = rewrite(standard_map());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sites[0].vaddr, kTextVaddr + kAmdOff + 4);
    EXPECT_EQ(text(kAmdOff, 7), (std::vector<uint8_t>{0xf3, 0x0f, 0x1e, 0xfa, 0xe7, 0xe4, 0x90}));
    EXPECT_EQ(text(kIntelOff + 4, 3), kOut);
}

TEST_F(RewriteTest, AcceptsMapWithoutReturnThunkSymbol) {
    load(Kernel{});
    auto r = rewrite(map_line(kTextVaddr + kAmdOff, 't', "xen_hypercall_amd") +
                     map_line(kTextVaddr + kIntelOff, 't', "xen_hypercall_intel"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, HypercallRewriteStatus::Rewritten);
}

TEST_F(RewriteTest, ReportsKernelWithoutHypercallFunctions) {
    load(Kernel{});
    auto r = rewrite(map_line(kTextVaddr, 'T', "_text") + map_line(kTextVaddr + 8, 't', "foo"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, HypercallRewriteStatus::NoHypercallFunctions);
    EXPECT_TRUE(r->sites.empty());
    EXPECT_THAT(r->describe(), HasSubstr("hypercall page"));
    EXPECT_EQ(text(kAmdOff, 3), kVmmcall);
}

TEST_F(RewriteTest, RefusesMissingOrDuplicateSymbol) {
    load(Kernel{});
    EXPECT_THAT(error_of(map_line(kTextVaddr + kAmdOff, 'T', "xen_hypercall_amd")),
                HasSubstr("xen_hypercall_amd but not xen_hypercall_intel"));
    EXPECT_THAT(error_of(standard_map() + map_line(kTextVaddr + 0x180, 't', "xen_hypercall_intel")),
                HasSubstr("xen_hypercall_intel appears 2 times"));
    EXPECT_THAT(error_of(map_line(kTextVaddr + kAmdOff, 'D', "xen_hypercall_amd") +
                         map_line(kTextVaddr + kIntelOff, 'T', "xen_hypercall_intel")),
                HasSubstr("not a text symbol"));
    EXPECT_THAT(error_of(map_line(kTextVaddr + kAmdOff, 'T', "xen_hypercall_amd") +
                         map_line(kTextVaddr + kAmdOff, 'T', "xen_hypercall_intel")),
                HasSubstr("unexpected bytes"));
    EXPECT_EQ(text(kAmdOff, 3), kVmmcall);
    EXPECT_EQ(text(kIntelOff, 3), kVmcall);
}

TEST_F(RewriteTest, RefusesUnexpectedBytes) {
    for (const Kernel& k :
         {Kernel{.intel = kVmmcall}, Kernel{.amd = kVmcall}, Kernel{.amd = {0x0f, 0x01, 0xda}},
          Kernel{.intel = {0x90, 0x90, 0x90}}}) {
        load(k);
        const auto amd_before = text(kAmdOff, 3), intel_before = text(kIntelOff, 3);
        EXPECT_THAT(error_of(standard_map()), HasSubstr("unexpected bytes"));
        EXPECT_EQ(text(kAmdOff, 3), amd_before) << "nothing written when one site is wrong";
        EXPECT_EQ(text(kIntelOff, 3), intel_before);
    }
}

TEST_F(RewriteTest, RefusesWrongReturnShape) {
    load(Kernel{});
    // The symbol one byte off: the "instruction" is 01 d9 e9, not vmmcall.
    EXPECT_THAT(error_of(map_line(kTextVaddr + kAmdOff + 1, 'T', "xen_hypercall_amd") +
                         map_line(kTextVaddr + kIntelOff, 'T', "xen_hypercall_intel")),
                HasSubstr("unexpected bytes"));
    // jmp to something other than __x86_return_thunk.
    EXPECT_THAT(error_of(map_line(kTextVaddr + kAmdOff, 'T', "xen_hypercall_amd") +
                         map_line(kTextVaddr + kIntelOff, 'T', "xen_hypercall_intel") +
                         map_line(kTextVaddr + kThunkOff + 0x10, 'T', "__x86_return_thunk")),
                HasSubstr("not __x86_return_thunk"));
    // Neither ret nor jmp.
    std::vector<uint8_t> nop{0x90};
    ASSERT_TRUE(mem_.write(Gpa{kTextPaddr + kIntelOff + 3}, std::span<const uint8_t>(nop)));
    EXPECT_THAT(error_of(standard_map()), HasSubstr("no ret or jmp"));
}

TEST_F(RewriteTest, RefusesAddressOutsideKernel) {
    load(Kernel{});
    EXPECT_THAT(error_of(map_line(kTextVaddr - 0x1000, 'T', "xen_hypercall_amd") +
                         map_line(kTextVaddr + kIntelOff, 'T', "xen_hypercall_intel")),
                HasSubstr("outside the loaded kernel"));
    // In the text segment's bss (not file-backed).
    EXPECT_THAT(error_of(map_line(kTextVaddr + 0x800, 'T', "xen_hypercall_amd") +
                         map_line(kTextVaddr + kIntelOff, 'T', "xen_hypercall_intel")),
                HasSubstr("outside the loaded kernel"));
    // In a data segment.
    EXPECT_THAT(error_of(map_line(kTextVaddr + 0x100000, 'T', "xen_hypercall_amd") +
                         map_line(kTextVaddr + kIntelOff, 'T', "xen_hypercall_intel")),
                HasSubstr("not in an executable segment"));
}

TEST_F(RewriteTest, RefusesNonExecutableText) {
    load(Kernel{.text_flags = PF_R});
    EXPECT_THAT(error_of(standard_map()), HasSubstr("not in an executable segment"));
}

TEST_F(RewriteTest, RefusesPlaceholderAndEmptyMaps) {
    load(Kernel{});
    EXPECT_THAT(error_of("ffffffffffffffff B The real System.map is in the "
                         "linux-image-<version>-dbg package\n"),
                HasSubstr("Debian's placeholder"));
    EXPECT_THAT(error_of(""), HasSubstr("no symbols"));
    EXPECT_THAT(error_of("this is not\na symbol map\n"), HasSubstr("no symbols"));
}

TEST_F(RewriteTest, ToleratesCrLfAndModuleSuffixes) {
    load(Kernel{});
    auto r = rewrite(hex(kTextVaddr + kAmdOff) + " T xen_hypercall_amd\r\n" +
                     hex(kTextVaddr + kIntelOff) + " t xen_hypercall_intel\t[vmlinux]\r\n");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, HypercallRewriteStatus::Rewritten);
}

// Opt-in: PVHV_TEST_VMLINUX=<uncompressed vmlinux> PVHV_TEST_SYSTEM_MAP=<its System.map>
// (Debian: extract-vmlinux on /boot/vmlinuz-*, System.map from linux-image-*-dbg).
TEST(LinuxRewriteRealKernel, RewritesDebianKernel) {
    const char* vmlinux_path = std::getenv("PVHV_TEST_VMLINUX");
    const char* map_path = std::getenv("PVHV_TEST_SYSTEM_MAP");
    if (!vmlinux_path || !map_path)
        GTEST_SKIP() << "set PVHV_TEST_VMLINUX and PVHV_TEST_SYSTEM_MAP to run on a real kernel";
    const auto t0 = std::chrono::steady_clock::now();
    std::ifstream vf(vmlinux_path, std::ios::binary | std::ios::ate);
    ASSERT_TRUE(vf) << vmlinux_path;
    std::vector<uint8_t> file(static_cast<size_t>(vf.tellg()));
    vf.seekg(0);
    ASSERT_TRUE(
        vf.read(reinterpret_cast<char*>(file.data()), static_cast<std::streamsize>(file.size())));
    std::ifstream mf(map_path);
    ASSERT_TRUE(mf) << map_path;
    const std::string map((std::istreambuf_iterator<char>(mf)), std::istreambuf_iterator<char>());

    auto img = ElfImage::parse(file);
    ASSERT_TRUE(img) << img.error().message;
    auto layout = GuestLayout::for_memory(256 << 20);
    ASSERT_TRUE(layout);
    auto mem = create_guest_memory(*layout);
    ASSERT_TRUE(mem);
    auto info = load_pvh(*mem, *layout, *img, {{}, "console=hvc0", AcpiConfig{.vcpus = 2}});
    ASSERT_TRUE(info) << info.error().message;
    auto r = rewrite_linux_hypercalls(*mem, *img, map);
    ASSERT_TRUE(r) << r.error().message;
    std::cout << r->describe() << "\n";
    ASSERT_EQ(r->status, HypercallRewriteStatus::Rewritten);
    ASSERT_EQ(r->sites.size(), 2u);
    EXPECT_EQ(std::vector<uint8_t>(r->sites[0].original.begin(), r->sites[0].original.end()),
              kVmmcall);
    EXPECT_EQ(std::vector<uint8_t>(r->sites[1].original.begin(), r->sites[1].original.end()),
              kVmcall);
    for (const auto& s : r->sites) {
        std::vector<uint8_t> b(3);
        ASSERT_TRUE(mem->read(s.gpa, b));
        EXPECT_EQ(b, kOut);
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    std::cout << "load + rewrite of " << file.size() << " bytes took " << ms << " ms\n";
}

}  // namespace
}  // namespace pvhv
