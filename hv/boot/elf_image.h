// Strict parser of x86 ELF kernel images (ELF64 x86-64 and ELF32 i386): headers, PT_LOAD, notes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hv/error.h"

namespace pvhv {

// One program header, widened to 64 bits whatever the file's class.
struct ElfSegment {
    uint32_t type = 0;   // PT_*
    uint32_t flags = 0;  // PF_*
    uint64_t offset = 0;
    uint64_t vaddr = 0;
    uint64_t paddr = 0;
    uint64_t filesz = 0;
    uint64_t memsz = 0;
    uint64_t align = 0;
};

// One note. `desc` points into the file the image was parsed from.
struct ElfNote {
    std::string name;  // without the terminating NUL ("Xen", "GNU", ...)
    uint32_t type = 0;
    std::span<const uint8_t> desc;
    uint64_t file_offset = 0;  // of the note header; identifies a note seen twice
};

// A validated view of an ELF file. It does not own the bytes: the span given to parse()
// must outlive the ElfImage (segment_bytes() and note descriptors point into it).
//
// Everything that later code relies on is checked once, here: the identification, class,
// byte order, type (ET_EXEC), machine, the program header table's bounds, every PT_LOAD
// (file range inside the file, filesz <= memsz, no address overflow), every note in
// PT_NOTE segments and SHT_NOTE sections (sizes, padding, NUL-terminated names). A file
// that fails any check is refused with a message naming what is wrong.
class ElfImage {
  public:
    static Result<ElfImage> parse(std::span<const uint8_t> file);

    bool is_64bit() const { return is_64bit_; }
    uint16_t machine() const { return machine_; }
    uint64_t entry() const { return entry_; }
    std::span<const uint8_t> file() const { return file_; }

    const std::vector<ElfSegment>& segments() const { return segments_; }  // all phdrs
    std::vector<ElfSegment> load_segments() const;                         // PT_LOAD, memsz > 0
    const std::vector<ElfNote>& notes() const { return notes_; }

    // The file bytes of a segment returned by segments()/load_segments() (bounds were checked).
    std::span<const uint8_t> segment_bytes(const ElfSegment& seg) const;

    // The first note with this owner name and type, if any.
    std::optional<ElfNote> find_note(std::string_view name, uint32_t type) const;

    // Translates [vaddr, vaddr+len) to a physical address through the one PT_LOAD whose
    // file-backed part (filesz) contains all of it; fails if none does.
    Result<uint64_t> virt_to_phys(uint64_t vaddr, uint64_t len) const;
    // The PT_LOAD segment used by virt_to_phys for this range, if any.
    std::optional<ElfSegment> segment_for_vaddr(uint64_t vaddr, uint64_t len) const;

  private:
    std::span<const uint8_t> file_;
    bool is_64bit_ = true;
    uint16_t machine_ = 0;
    uint64_t entry_ = 0;
    std::vector<ElfSegment> segments_;
    std::vector<ElfNote> notes_;

    friend class ElfParser;
};

// Reads a numeric note descriptor (1, 2, 4 or 8 bytes, little-endian), as Xen's libelf does.
Result<uint64_t> elf_note_numeric(const ElfNote& note);

}  // namespace pvhv
