// Strict parser of x86 ELF kernel images: every offset and size is checked before use.
#include "hv/boot/elf_image.h"

#include <elf.h>

#include <cstring>
#include <type_traits>

#include "hv/format.h"

namespace pvhv {

using fmt::dec;
using fmt::hex;

namespace {

// [off, off+len) lies inside [0, total) without computing off+len (which may wrap).
constexpr bool range_in(uint64_t off, uint64_t len, uint64_t total) {
    return off <= total && len <= total - off;
}

constexpr uint64_t align_up(uint64_t v, uint64_t a) {
    return (v + a - 1) & ~(a - 1);
}

// The file is untrusted and unaligned: copy structures out instead of casting pointers.
template <class T>
T load(std::span<const uint8_t> file, uint64_t off) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, file.data() + off, sizeof v);
    return v;
}

Error elf_error(std::string msg) {
    return Error{XEN_EINVAL, "ELF: " + std::move(msg)};
}

}  // namespace

// Does the class-dependent part of parsing; a class so it can fill ElfImage's private state.
class ElfParser {
  public:
    explicit ElfParser(std::span<const uint8_t> file) : file_(file) { img_.file_ = file; }

    Result<ElfImage> run() {
        if (file_.size() < EI_NIDENT)
            return std::unexpected(elf_error("file too small for an ELF identification (" +
                                             dec(file_.size()) + " bytes)"));
        if (std::memcmp(file_.data(), ELFMAG, SELFMAG) != 0)
            return std::unexpected(elf_error("not an ELF file (bad magic)"));
        const uint8_t cls = file_[EI_CLASS];
        if (file_[EI_DATA] != ELFDATA2LSB)
            return std::unexpected(elf_error("not a little-endian ELF file"));
        if (file_[EI_VERSION] != EV_CURRENT)
            return std::unexpected(
                elf_error("unsupported identification version " + dec(file_[EI_VERSION])));
        if (cls == ELFCLASS64) return parse_class<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>(true);
        if (cls == ELFCLASS32) return parse_class<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>(false);
        return std::unexpected(elf_error("unknown ELF class " + dec(cls)));
    }

  private:
    template <class Ehdr, class Phdr, class Shdr>
    Result<ElfImage> parse_class(bool is64) {
        const char* cls_name = is64 ? "ELF64" : "ELF32";
        if (file_.size() < sizeof(Ehdr))
            return std::unexpected(elf_error(std::string("truncated ") + cls_name + " header (" +
                                             dec(file_.size()) + " bytes)"));
        const auto eh = load<Ehdr>(file_, 0);
        if (eh.e_version != EV_CURRENT)
            return std::unexpected(elf_error("unsupported e_version " + dec(eh.e_version)));
        if (eh.e_type != ET_EXEC)
            return std::unexpected(
                elf_error("e_type " + dec(eh.e_type) + " is not ET_EXEC (an executable)"));
        const uint16_t want_machine = is64 ? EM_X86_64 : EM_386;
        if (eh.e_machine != want_machine)
            return std::unexpected(elf_error(std::string(cls_name) + " machine " +
                                             dec(eh.e_machine) + " is not " +
                                             (is64 ? "x86-64 (62)" : "i386 (3)")));
        if (eh.e_ehsize < sizeof(Ehdr))
            return std::unexpected(elf_error("e_ehsize " + dec(eh.e_ehsize) + " is too small"));
        img_.is_64bit_ = is64;
        img_.machine_ = eh.e_machine;
        img_.entry_ = eh.e_entry;

        if (auto r = parse_phdrs<Phdr>(eh, is64); !r) return std::unexpected(r.error());
        if (auto r = parse_shdrs<Shdr>(eh); !r) return std::unexpected(r.error());
        return std::move(img_);
    }

    template <class Phdr, class Ehdr>
    Result<void> parse_phdrs(const Ehdr& eh, bool is64) {
        if (eh.e_phnum == 0) return std::unexpected(elf_error("no program headers"));
        if (eh.e_phnum == PN_XNUM)
            return std::unexpected(
                elf_error("extended program header numbering (PN_XNUM) is not supported"));
        if (eh.e_phentsize != sizeof(Phdr))
            return std::unexpected(elf_error("e_phentsize " + dec(eh.e_phentsize) + ", expected " +
                                             dec(sizeof(Phdr))));
        const uint64_t table_size = uint64_t{eh.e_phnum} * sizeof(Phdr);  // < 2^22: no wrap
        if (!range_in(eh.e_phoff, table_size, file_.size()))
            return std::unexpected(elf_error(
                "program header table (offset " + hex(eh.e_phoff) + ", " + dec(eh.e_phnum) +
                " entries) extends past the end of the file (" + dec(file_.size()) + " bytes)"));

        // A 32-bit image's addresses must also stay below 4 GiB once widened.
        const uint64_t addr_limit = is64 ? UINT64_MAX : UINT32_MAX;
        bool any_load = false;
        for (uint16_t i = 0; i < eh.e_phnum; ++i) {
            const auto ph = load<Phdr>(file_, eh.e_phoff + uint64_t{i} * sizeof(Phdr));
            ElfSegment s{ph.p_type,  ph.p_flags,  ph.p_offset, ph.p_vaddr,
                         ph.p_paddr, ph.p_filesz, ph.p_memsz,  ph.p_align};
            const std::string what = "segment " + dec(i);
            if (s.type == PT_LOAD) {
                if (!range_in(s.offset, s.filesz, file_.size()))
                    return std::unexpected(elf_error("PT_LOAD " + what + ": file range (offset " +
                                                     hex(s.offset) + ", size " + hex(s.filesz) +
                                                     ") extends past the end of the file (" +
                                                     dec(file_.size()) + " bytes)"));
                if (s.filesz > s.memsz)
                    return std::unexpected(elf_error("PT_LOAD " + what + ": filesz " +
                                                     hex(s.filesz) + " > memsz " + hex(s.memsz)));
                if (s.memsz > addr_limit - s.paddr)
                    return std::unexpected(elf_error("PT_LOAD " + what + ": physical range " +
                                                     fmt::range(s.paddr, s.memsz) +
                                                     " overflows the address space"));
                if (s.memsz > addr_limit - s.vaddr)
                    return std::unexpected(elf_error("PT_LOAD " + what + ": virtual range " +
                                                     fmt::range(s.vaddr, s.memsz) +
                                                     " overflows the address space"));
                if (s.memsz > 0) any_load = true;
            } else if (s.type == PT_NOTE) {
                if (!range_in(s.offset, s.filesz, file_.size()))
                    return std::unexpected(elf_error("PT_NOTE " + what + ": file range (offset " +
                                                     hex(s.offset) + ", size " + hex(s.filesz) +
                                                     ") extends past the end of the file"));
                if (auto r = parse_notes(s.offset, s.filesz, s.align, "PT_NOTE " + what); !r)
                    return r;
            }
            img_.segments_.push_back(s);
        }
        if (!any_load) return std::unexpected(elf_error("no loadable (PT_LOAD) segment"));
        return {};
    }

    // Sections are optional for a kernel, but if a table is present it must be sound, and
    // its SHT_NOTE sections are read (Xen's libelf falls back to them as well).
    template <class Shdr, class Ehdr>
    Result<void> parse_shdrs(const Ehdr& eh) {
        if (eh.e_shoff == 0) return {};
        if (eh.e_shnum == 0)
            return std::unexpected(
                elf_error("extended section numbering (e_shnum 0) is not supported"));
        if (eh.e_shentsize != sizeof(Shdr))
            return std::unexpected(elf_error("e_shentsize " + dec(eh.e_shentsize) + ", expected " +
                                             dec(sizeof(Shdr))));
        const uint64_t table_size = uint64_t{eh.e_shnum} * sizeof(Shdr);
        if (!range_in(eh.e_shoff, table_size, file_.size()))
            return std::unexpected(elf_error(
                "section header table (offset " + hex(eh.e_shoff) + ", " + dec(eh.e_shnum) +
                " entries) extends past the end of the file (" + dec(file_.size()) + " bytes)"));
        for (uint16_t i = 0; i < eh.e_shnum; ++i) {
            const auto sh = load<Shdr>(file_, eh.e_shoff + uint64_t{i} * sizeof(Shdr));
            if (sh.sh_type != SHT_NOTE) continue;
            const std::string what = "SHT_NOTE section " + dec(i);
            if (!range_in(sh.sh_offset, sh.sh_size, file_.size()))
                return std::unexpected(elf_error(what + ": file range (offset " +
                                                 hex(sh.sh_offset) + ", size " + hex(sh.sh_size) +
                                                 ") extends past the end"));
            if (auto r = parse_notes(sh.sh_offset, sh.sh_size, sh.sh_addralign, what); !r) return r;
        }
        return {};
    }

    // Notes are laid out as in the gABI: 12-byte header, name and descriptor each padded to
    // the container's alignment (4, or 8 for 8-aligned ELF64 note containers).
    Result<void> parse_notes(uint64_t base, uint64_t size, uint64_t container_align,
                             const std::string& what) {
        const uint64_t align = container_align == 8 ? 8 : 4;
        constexpr uint64_t kHdr = 12;
        uint64_t pos = 0;
        while (pos < size) {
            const std::string at = what + ", note at offset " + hex(base + pos);
            if (size - pos < kHdr) return std::unexpected(elf_error(at + ": truncated header"));
            const auto namesz = load<uint32_t>(file_, base + pos);
            const auto descsz = load<uint32_t>(file_, base + pos + 4);
            const auto type = load<uint32_t>(file_, base + pos + 8);
            const uint64_t avail = size - pos;  // bytes of this note and what follows
            if (namesz > avail - kHdr)
                return std::unexpected(elf_error(at + ": namesz " + dec(namesz) +
                                                 " runs past the end of the container"));
            const uint64_t desc_off = align_up(kHdr + namesz, align);
            if (desc_off > avail || descsz > avail - desc_off)
                return std::unexpected(elf_error(at + ": descsz " + dec(descsz) +
                                                 " runs past the end of the container"));
            ElfNote note;
            note.type = type;
            note.file_offset = base + pos;
            if (namesz > 0) {
                const uint8_t* name = file_.data() + base + pos + kHdr;
                if (name[namesz - 1] != 0)
                    return std::unexpected(elf_error(at + ": name is not NUL-terminated"));
                note.name.assign(reinterpret_cast<const char*>(name),
                                 ::strnlen(reinterpret_cast<const char*>(name), namesz));
            }
            note.desc = file_.subspan(base + pos + desc_off, descsz);
            add_note(std::move(note));
            // The last descriptor's padding may be cut off by the container's end.
            const uint64_t next = align_up(desc_off + descsz, align);
            pos = next >= avail ? size : pos + next;
        }
        return {};
    }

    // The same note reached through a PT_NOTE segment and a SHT_NOTE section counts once.
    void add_note(ElfNote note) {
        for (const auto& n : img_.notes_)
            if (n.file_offset == note.file_offset) return;
        img_.notes_.push_back(std::move(note));
    }

    std::span<const uint8_t> file_;
    ElfImage img_;
};

Result<ElfImage> ElfImage::parse(std::span<const uint8_t> file) {
    return ElfParser(file).run();
}

std::vector<ElfSegment> ElfImage::load_segments() const {
    std::vector<ElfSegment> out;
    for (const auto& s : segments_)
        if (s.type == PT_LOAD && s.memsz > 0) out.push_back(s);
    return out;
}

std::span<const uint8_t> ElfImage::segment_bytes(const ElfSegment& seg) const {
    if (!range_in(seg.offset, seg.filesz, file_.size())) return {};
    return file_.subspan(seg.offset, seg.filesz);
}

std::optional<ElfNote> ElfImage::find_note(std::string_view name, uint32_t type) const {
    for (const auto& n : notes_)
        if (n.type == type && n.name == name) return n;
    return std::nullopt;
}

std::optional<ElfSegment> ElfImage::segment_for_vaddr(uint64_t vaddr, uint64_t len) const {
    for (const auto& s : segments_) {
        if (s.type != PT_LOAD || vaddr < s.vaddr) continue;
        if (range_in(vaddr - s.vaddr, len, s.filesz)) return s;
    }
    return std::nullopt;
}

Result<uint64_t> ElfImage::virt_to_phys(uint64_t vaddr, uint64_t len) const {
    auto s = segment_for_vaddr(vaddr, len);
    if (!s)
        return fail(XEN_EFAULT, "ELF: virtual range " + fmt::range(vaddr, len) +
                                    " is not inside the file-backed part of any PT_LOAD segment");
    return s->paddr + (vaddr - s->vaddr);
}

Result<uint64_t> elf_note_numeric(const ElfNote& note) {
    uint64_t v = 0;
    switch (note.desc.size()) {
        case 1:
        case 2:
        case 4:
        case 8:
            // Little-endian by construction (ELFDATA2LSB was checked), host is x86.
            std::memcpy(&v, note.desc.data(), note.desc.size());
            return v;
        default:
            return fail(XEN_EINVAL, "ELF: note " + note.name + "/" + dec(note.type) + " has a " +
                                        dec(note.desc.size()) +
                                        "-byte descriptor, not a 1/2/4/8-byte number");
    }
}

}  // namespace pvhv
