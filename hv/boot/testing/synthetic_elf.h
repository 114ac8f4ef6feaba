// Builds small ELF64/ELF32 x86 images in memory, for unit tests and fuzz seed corpora.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace pvhv::boot_testing {

struct SyntheticSegment {
    uint32_t type = PT_LOAD;
    uint32_t flags = PF_R | PF_X;
    uint64_t vaddr = 0;
    uint64_t paddr = 0;
    std::vector<uint8_t> data;      // file contents (filesz = data.size())
    std::optional<uint64_t> memsz;  // default: data.size()
    uint64_t align = 0x1000;
};

struct SyntheticNote {
    std::string name;  // written with its NUL
    uint32_t type = 0;
    std::vector<uint8_t> desc;
};

// Where build() put things, for tests that corrupt one field.
struct SyntheticOffsets {
    uint64_t phoff = 0;
    uint64_t phentsize = 0;
    uint64_t note_phdr_index = 0;        // index of the PT_NOTE phdr (after the segments)
    uint64_t notes = 0;                  // file offset of the first note header
    uint64_t shoff = 0;                  // 0 if no section table
    std::vector<uint64_t> segment_data;  // file offset of each segment's data
};

struct SyntheticElf {
    bool is64 = true;
    uint16_t machine = 0;  // 0: EM_X86_64 / EM_386 by class
    uint64_t entry = 0;
    std::vector<SyntheticSegment> segments;
    std::vector<SyntheticNote> notes;  // one PT_NOTE segment holding all of them
    bool notes_in_phdr = true;
    bool note_section = false;  // also a section table: [null, SHT_NOTE over the notes]

    static std::vector<uint8_t> le32(uint32_t v) {
        std::vector<uint8_t> b(4);
        std::memcpy(b.data(), &v, 4);
        return b;
    }
    static std::vector<uint8_t> le64(uint64_t v) {
        std::vector<uint8_t> b(8);
        std::memcpy(b.data(), &v, 8);
        return b;
    }

    std::vector<uint8_t> build(SyntheticOffsets* where = nullptr) const {
        return is64 ? build_class<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>(where)
                    : build_class<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>(where);
    }

  private:
    static void align(std::vector<uint8_t>& f, size_t a) { f.resize((f.size() + a - 1) / a * a); }
    template <class T>
    static void put(std::vector<uint8_t>& f, uint64_t off, const T& v) {
        std::memcpy(f.data() + off, &v, sizeof v);
    }

    template <class Ehdr, class Phdr, class Shdr>
    std::vector<uint8_t> build_class(SyntheticOffsets* where) const {
        using Addr = decltype(Phdr{}.p_vaddr);
        using Word = decltype(Phdr{}.p_filesz);
        SyntheticOffsets o;
        const size_t nph = segments.size() + (notes_in_phdr && !notes.empty() ? 1 : 0);
        std::vector<uint8_t> f(sizeof(Ehdr) + nph * sizeof(Phdr));
        o.phoff = sizeof(Ehdr);
        o.phentsize = sizeof(Phdr);
        o.note_phdr_index = segments.size();

        align(f, 4);
        o.notes = f.size();
        for (const auto& n : notes) {
            const uint32_t hdr[3] = {static_cast<uint32_t>(n.name.size() + 1),
                                     static_cast<uint32_t>(n.desc.size()), n.type};
            const size_t at = f.size();
            f.resize(at + sizeof hdr);
            std::memcpy(f.data() + at, hdr, sizeof hdr);
            f.insert(f.end(), n.name.begin(), n.name.end());
            f.push_back(0);
            align(f, 4);
            f.insert(f.end(), n.desc.begin(), n.desc.end());
            align(f, 4);
        }
        const uint64_t notes_size = f.size() - o.notes;

        for (const auto& s : segments) {
            align(f, 16);
            o.segment_data.push_back(f.size());
            f.insert(f.end(), s.data.begin(), s.data.end());
        }

        if (note_section) {
            align(f, 8);
            o.shoff = f.size();
            f.resize(f.size() + 2 * sizeof(Shdr));
            Shdr sh{};
            sh.sh_type = SHT_NOTE;
            sh.sh_offset = static_cast<decltype(sh.sh_offset)>(o.notes);
            sh.sh_size = static_cast<decltype(sh.sh_size)>(notes_size);
            sh.sh_addralign = 4;
            put(f, o.shoff + sizeof(Shdr), sh);
        }

        Ehdr eh{};
        std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_ident[EI_VERSION] = EV_CURRENT;
        eh.e_type = ET_EXEC;
        eh.e_machine = machine ? machine : (is64 ? EM_X86_64 : EM_386);
        eh.e_version = EV_CURRENT;
        eh.e_entry = static_cast<Addr>(entry);
        eh.e_phoff = static_cast<decltype(eh.e_phoff)>(o.phoff);
        eh.e_shoff = static_cast<decltype(eh.e_shoff)>(o.shoff);
        eh.e_ehsize = sizeof(Ehdr);
        eh.e_phentsize = sizeof(Phdr);
        eh.e_phnum = static_cast<uint16_t>(nph);
        eh.e_shentsize = note_section ? sizeof(Shdr) : 0;
        eh.e_shnum = note_section ? 2 : 0;
        put(f, 0, eh);

        for (size_t i = 0; i < segments.size(); ++i) {
            const auto& s = segments[i];
            Phdr ph{};
            ph.p_type = s.type;
            ph.p_flags = s.flags;
            ph.p_offset = static_cast<decltype(ph.p_offset)>(o.segment_data[i]);
            ph.p_vaddr = static_cast<Addr>(s.vaddr);
            ph.p_paddr = static_cast<Addr>(s.paddr);
            ph.p_filesz = static_cast<Word>(s.data.size());
            ph.p_memsz = static_cast<Word>(s.memsz.value_or(s.data.size()));
            ph.p_align = static_cast<Word>(s.align);
            put(f, o.phoff + i * sizeof(Phdr), ph);
        }
        if (nph > segments.size()) {
            Phdr ph{};
            ph.p_type = PT_NOTE;
            ph.p_flags = PF_R;
            ph.p_offset = static_cast<decltype(ph.p_offset)>(o.notes);
            ph.p_filesz = static_cast<Word>(notes_size);
            ph.p_memsz = static_cast<Word>(notes_size);
            ph.p_align = 4;
            put(f, o.phoff + segments.size() * sizeof(Phdr), ph);
        }
        if (where) *where = o;
        return f;
    }
};

// Overwrites sizeof(T) bytes at `off` (for corrupting a built image).
template <class T>
void patch(std::vector<uint8_t>& file, uint64_t off, T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(file.data() + off, &value, sizeof value);
}

}  // namespace pvhv::boot_testing
