// Unit tests of the strict ELF parser: valid images, and each kind of malformed image refused.
#include "hv/boot/elf_image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xen/elfnote.h>

#include <cstddef>
#include <random>

#include "hv/boot/testing/synthetic_elf.h"

namespace pvhv {
namespace {

using boot_testing::patch;
using boot_testing::SyntheticElf;
using boot_testing::SyntheticOffsets;
using ::testing::HasSubstr;

SyntheticElf valid_image(bool is64 = true) {
    SyntheticElf e;
    e.is64 = is64;
    e.entry = 0x100000;
    e.segments.push_back({PT_LOAD, PF_R | PF_X, 0x100000, 0x100000,
                          std::vector<uint8_t>(0x200, 0x90), 0x3000, 0x1000});
    e.segments.push_back({PT_LOAD, PF_R | PF_W, 0x200000, 0x200000,
                          std::vector<uint8_t>(0x40, 0x11), std::nullopt, 0x1000});
    e.notes.push_back({"Xen", XEN_ELFNOTE_PHYS32_ENTRY, SyntheticElf::le32(0x100010)});
    e.notes.push_back({"GNU", 3, std::vector<uint8_t>(20, 0xab)});
    return e;
}

std::string parse_error(const std::vector<uint8_t>& file) {
    auto r = ElfImage::parse(file);
    EXPECT_FALSE(r) << "image was accepted";
    return r ? std::string() : r.error().message;
}

TEST(ElfImage, ParsesValidElf64) {
    const auto file = valid_image().build();
    auto img = ElfImage::parse(file);
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_TRUE(img->is_64bit());
    EXPECT_EQ(img->entry(), 0x100000u);
    ASSERT_EQ(img->load_segments().size(), 2u);
    EXPECT_EQ(img->load_segments()[0].memsz, 0x3000u);
    EXPECT_EQ(img->segment_bytes(img->load_segments()[1]).size(), 0x40u);
    ASSERT_EQ(img->notes().size(), 2u);
    auto note = img->find_note("Xen", XEN_ELFNOTE_PHYS32_ENTRY);
    ASSERT_TRUE(note);
    EXPECT_EQ(*elf_note_numeric(*note), 0x100010u);
    EXPECT_EQ(img->find_note("GNU", 3)->desc.size(), 20u);
    EXPECT_FALSE(img->find_note("Xen", 99));
}

TEST(ElfImage, ParsesValidElf32) {
    const auto file = valid_image(false).build();
    auto img = ElfImage::parse(file);
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_FALSE(img->is_64bit());
    EXPECT_EQ(img->machine(), EM_386);
    EXPECT_EQ(img->load_segments().size(), 2u);
    EXPECT_TRUE(img->find_note("Xen", XEN_ELFNOTE_PHYS32_ENTRY));
}

TEST(ElfImage, NotesFromSectionsOnlyAndDeduplicated) {
    auto e = valid_image();
    e.notes_in_phdr = false;
    e.note_section = true;
    auto file = e.build();
    auto img = ElfImage::parse(file);
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_EQ(img->notes().size(), 2u);
    EXPECT_TRUE(img->find_note("Xen", XEN_ELFNOTE_PHYS32_ENTRY));

    e.notes_in_phdr = true;  // the same bytes reached twice count once
    file = e.build();
    img = ElfImage::parse(file);
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_EQ(img->notes().size(), 2u);
}

TEST(ElfImage, VirtToPhysUsesFileBackedPart) {
    auto e = valid_image();
    e.segments[0].vaddr = 0xffffffff81000000ull;
    const auto file = e.build();
    auto img = ElfImage::parse(file);
    ASSERT_TRUE(img);
    EXPECT_EQ(*img->virt_to_phys(0xffffffff81000010ull, 4), 0x100010u);
    EXPECT_EQ(*img->virt_to_phys(0xffffffff810001fcull, 4), 0x1001fcu);
    EXPECT_FALSE(img->virt_to_phys(0xffffffff810001fdull, 4));  // runs into bss
    EXPECT_FALSE(img->virt_to_phys(0xffffffff80000000ull, 1));
    EXPECT_FALSE(img->virt_to_phys(UINT64_MAX, 2));
}

TEST(ElfImage, RefusesTinyFile) {
    EXPECT_THAT(parse_error({0x7f, 'E', 'L'}), HasSubstr("too small"));
    EXPECT_THAT(parse_error({}), HasSubstr("too small"));
}

TEST(ElfImage, RefusesBadMagicClassAndByteOrder) {
    auto file = valid_image().build();
    auto bad = file;
    bad[1] = 'X';
    EXPECT_THAT(parse_error(bad), HasSubstr("bad magic"));
    bad = file;
    bad[EI_CLASS] = 7;
    EXPECT_THAT(parse_error(bad), HasSubstr("unknown ELF class 7"));
    bad = file;
    bad[EI_DATA] = ELFDATA2MSB;
    EXPECT_THAT(parse_error(bad), HasSubstr("little-endian"));
}

TEST(ElfImage, RefusesTruncatedHeader) {
    auto file = valid_image().build();
    file.resize(40);
    EXPECT_THAT(parse_error(file), HasSubstr("truncated ELF64 header"));
    auto file32 = valid_image(false).build();
    file32.resize(40);
    EXPECT_THAT(parse_error(file32), HasSubstr("truncated ELF32 header"));
}

TEST(ElfImage, RefusesWrongMachineAndType) {
    auto e = valid_image();
    e.machine = EM_AARCH64;
    EXPECT_THAT(parse_error(e.build()), HasSubstr("is not x86-64"));
    e = valid_image(false);
    e.machine = EM_X86_64;  // ELF32 x86-64 (x32) is not a PVH kernel format
    EXPECT_THAT(parse_error(e.build()), HasSubstr("is not i386"));
    auto file = valid_image().build();
    patch<uint16_t>(file, offsetof(Elf64_Ehdr, e_type), ET_DYN);
    EXPECT_THAT(parse_error(file), HasSubstr("not ET_EXEC"));
}

TEST(ElfImage, RefusesPhdrTablePastEof) {
    auto file = valid_image().build();
    patch<uint64_t>(file, offsetof(Elf64_Ehdr, e_phoff), file.size() - 10);
    EXPECT_THAT(parse_error(file), HasSubstr("program header table"));
    file = valid_image().build();
    patch<uint16_t>(file, offsetof(Elf64_Ehdr, e_phnum), 2000);
    EXPECT_THAT(parse_error(file), HasSubstr("extends past the end of the file"));
    file = valid_image().build();
    patch<uint64_t>(file, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 8);
    EXPECT_THAT(parse_error(file), HasSubstr("program header table"));
}

TEST(ElfImage, RefusesBadPhdrShape) {
    auto file = valid_image().build();
    patch<uint16_t>(file, offsetof(Elf64_Ehdr, e_phnum), 0);
    EXPECT_THAT(parse_error(file), HasSubstr("no program headers"));
    file = valid_image().build();
    patch<uint16_t>(file, offsetof(Elf64_Ehdr, e_phentsize), 32);
    EXPECT_THAT(parse_error(file), HasSubstr("e_phentsize 32"));
    file = valid_image().build();
    patch<uint16_t>(file, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM);
    EXPECT_THAT(parse_error(file), HasSubstr("PN_XNUM"));
}

TEST(ElfImage, RefusesSegmentOffsetSizeOverflow) {
    SyntheticOffsets o;
    auto file = valid_image().build(&o);
    patch<uint64_t>(file, o.phoff + offsetof(Elf64_Phdr, p_offset), UINT64_MAX - 8);
    EXPECT_THAT(parse_error(file), HasSubstr("PT_LOAD segment 0: file range"));
    file = valid_image().build(&o);
    patch<uint64_t>(file, o.phoff + offsetof(Elf64_Phdr, p_filesz), UINT64_MAX);
    patch<uint64_t>(file, o.phoff + offsetof(Elf64_Phdr, p_memsz), UINT64_MAX);
    EXPECT_THAT(parse_error(file), HasSubstr("extends past the end of the file"));
    file = valid_image().build(&o);
    patch<uint64_t>(file, o.phoff + o.phentsize + offsetof(Elf64_Phdr, p_filesz), file.size());
    patch<uint64_t>(file, o.phoff + o.phentsize + offsetof(Elf64_Phdr, p_memsz), file.size());
    EXPECT_THAT(parse_error(file), HasSubstr("PT_LOAD segment 1"));
}

TEST(ElfImage, RefusesFileszAboveMemsz) {
    auto e = valid_image();
    e.segments[1].memsz = 0x3f;
    EXPECT_THAT(parse_error(e.build()), HasSubstr("filesz 0x40 > memsz 0x3f"));
}

TEST(ElfImage, RefusesAddressOverflow) {
    auto e = valid_image();
    e.segments[0].paddr = UINT64_MAX - 0x1000;
    EXPECT_THAT(parse_error(e.build()), HasSubstr("physical range"));
    e = valid_image();
    e.segments[0].vaddr = UINT64_MAX - 0x1000;
    EXPECT_THAT(parse_error(e.build()), HasSubstr("virtual range"));
    e = valid_image(false);  // ELF32: the 4 GiB boundary is the end of the address space
    e.segments[0].paddr = 0xffffe000;
    EXPECT_THAT(parse_error(e.build()), HasSubstr("overflows"));
}

TEST(ElfImage, RefusesImageWithoutLoadSegment) {
    auto e = valid_image();
    for (auto& s : e.segments) s.type = PT_NULL;
    EXPECT_THAT(parse_error(e.build()), HasSubstr("no loadable"));
}

TEST(ElfImage, RefusesOversizedNoteNamesz) {
    SyntheticOffsets o;
    auto file = valid_image().build(&o);
    patch<uint32_t>(file, o.notes, 0xffffffff);
    EXPECT_THAT(parse_error(file), HasSubstr("namesz 4294967295 runs past"));
    file = valid_image().build(&o);
    patch<uint32_t>(file, o.notes, 4 + 40);  // past the PT_NOTE, still inside the file
    EXPECT_THAT(parse_error(file), HasSubstr("runs past the end of the container"));
}

TEST(ElfImage, RefusesOversizedNoteDescsz) {
    SyntheticOffsets o;
    auto file = valid_image().build(&o);
    patch<uint32_t>(file, o.notes + 4, 0xfffffff0);
    EXPECT_THAT(parse_error(file), HasSubstr("descsz 4294967280 runs past"));
    file = valid_image().build(&o);
    patch<uint32_t>(file, o.notes + 4, 200);
    EXPECT_THAT(parse_error(file), HasSubstr("descsz 200"));
}

TEST(ElfImage, RefusesBadNoteNameAndTruncatedHeader) {
    SyntheticOffsets o;
    auto file = valid_image().build(&o);
    file[o.notes + 12 + 3] = 'x';  // "Xen\0" -> "Xenx"
    EXPECT_THAT(parse_error(file), HasSubstr("not NUL-terminated"));
    file = valid_image().build(&o);
    const uint64_t note_ph = o.phoff + o.note_phdr_index * o.phentsize;
    Elf64_Phdr ph;
    std::memcpy(&ph, file.data() + note_ph, sizeof ph);
    patch<uint64_t>(file, note_ph + offsetof(Elf64_Phdr, p_filesz), ph.p_filesz + 4);
    EXPECT_THAT(parse_error(file), HasSubstr("truncated header"));
    patch<uint64_t>(file, note_ph + offsetof(Elf64_Phdr, p_offset), file.size() - 8);
    EXPECT_THAT(parse_error(file), HasSubstr("PT_NOTE segment"));
}

TEST(ElfImage, RefusesBadSectionTable) {
    auto e = valid_image();
    e.note_section = true;
    SyntheticOffsets o;
    auto file = e.build(&o);
    patch<uint64_t>(file, offsetof(Elf64_Ehdr, e_shoff), file.size() - 8);
    EXPECT_THAT(parse_error(file), HasSubstr("section header table"));
    file = e.build(&o);
    patch<uint64_t>(file, o.shoff + sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_size), 1u << 20);
    EXPECT_THAT(parse_error(file), HasSubstr("SHT_NOTE section 1"));
    file = e.build(&o);
    patch<uint16_t>(file, offsetof(Elf64_Ehdr, e_shnum), 0);
    EXPECT_THAT(parse_error(file), HasSubstr("extended section numbering"));
}

TEST(ElfImage, NoteNumericSizes) {
    const std::vector<uint8_t> d8 = SyntheticElf::le64(0x1122334455667788ull);
    const std::vector<uint8_t> d3 = {1, 2, 3};
    ElfNote n{"Xen", 18, d8, 0};
    EXPECT_EQ(*elf_note_numeric(n), 0x1122334455667788ull);
    n.desc = d3;
    ASSERT_FALSE(elf_note_numeric(n));
    EXPECT_THAT(elf_note_numeric(n).error().message, HasSubstr("3-byte descriptor"));
}

// Every prefix of a valid image, and random corruptions of it, parse or fail cleanly
// (run under ASan/UBSan in CI to catch out-of-bounds reads).
TEST(ElfImage, SurvivesTruncationAndCorruption) {
    auto e = valid_image();
    e.note_section = true;
    const auto file = e.build();
    for (size_t n = 0; n < file.size(); ++n) {
        std::vector<uint8_t> prefix(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
        (void)ElfImage::parse(prefix);
    }
    std::mt19937 rng(12345);
    for (int i = 0; i < 3000; ++i) {
        auto bad = file;
        for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
        auto img = ElfImage::parse(bad);
        if (img)
            for (const auto& n : img->notes()) (void)elf_note_numeric(n);
    }
}

}  // namespace
}  // namespace pvhv
