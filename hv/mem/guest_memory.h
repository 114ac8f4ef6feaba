// Guest-physical memory: memfd-backed regions and the one bounds-checked accessor (DESIGN §3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "hv/error.h"
#include "hv/types.h"
#include "hv/unique_fd.h"

namespace pvhv {

// One contiguous range of guest-physical space backed by a memfd and mapped into pvd.
// The mapping is fixed for the region's life; regions are created before vCPUs run and
// never move, so readers need no lock (guest memory itself is shared, racy data).
// The mapping is reference counted: whoever holds shared_mapping() keeps the bytes mapped
// after the region itself is gone (dom0's grant mappings outlive a destroyed domain so).
class MemoryRegion {
public:
    static Result<MemoryRegion> create(Gpa base, uint64_t size, std::string name);
    MemoryRegion(MemoryRegion&&) noexcept;
    MemoryRegion& operator=(MemoryRegion&&) noexcept;
    MemoryRegion(const MemoryRegion&) = delete;
    MemoryRegion& operator=(const MemoryRegion&) = delete;
    ~MemoryRegion();

    Gpa base() const { return base_; }
    uint64_t size() const { return size_; }
    uint8_t* host() const { return map_.get(); }  // for KVM slot registration only
    // Keeps the whole mapping alive (and host() valid) for as long as the pointer is held.
    std::shared_ptr<uint8_t> shared_mapping() const { return map_; }
    int memfd() const { return fd_.get(); }
    const std::string& name() const { return name_; }
    bool contains(Gpa gpa, uint64_t len) const;

private:
    MemoryRegion(Gpa base, uint64_t size, std::string name, UniqueFd fd,
                 std::shared_ptr<uint8_t> map);
    Gpa base_{};
    uint64_t size_ = 0;
    std::string name_;
    UniqueFd fd_;
    std::shared_ptr<uint8_t> map_;  // munmap()s when the last holder lets go
};

// The guest's physical address space as pvd sees it. Every access names a guest-physical
// address and a length; both are checked (overflow, region bounds) before any byte moves.
// An access may not straddle two regions (they are not adjacent in pvd's address space).
class GuestMemory {
public:
    GuestMemory() = default;
    GuestMemory(GuestMemory&&) = default;
    GuestMemory& operator=(GuestMemory&&) = default;

    // Adds a region; fails if it overlaps an existing one.
    Result<void> add_region(MemoryRegion region);
    const std::vector<MemoryRegion>& regions() const { return regions_; }

    Result<void> read(Gpa gpa, std::span<uint8_t> out) const;
    Result<void> write(Gpa gpa, std::span<const uint8_t> in) const;
    Result<void> fill(Gpa gpa, uint8_t value, uint64_t len) const;

    template <class T>
    Result<T> read(Gpa gpa) const {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        auto r = read(gpa, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(T)));
        if (!r) return std::unexpected(r.error());
        return value;
    }
    template <class T>
    Result<void> write(Gpa gpa, const T& value) const {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(gpa, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&value),
                                                   sizeof(T)));
    }

    // A view of [gpa, gpa+len) inside one region. Valid while this GuestMemory lives; the
    // guest may change the bytes at any time, so copy out what you validate.
    Result<std::span<uint8_t>> span(Gpa gpa, uint64_t len) const;

    // Reads a NUL-terminated string of at most max_len bytes (the NUL excluded).
    Result<std::string> read_cstring(Gpa gpa, uint64_t max_len) const;

    bool is_ram(Gpa gpa, uint64_t len) const { return find(gpa, len) != nullptr; }

private:
    const MemoryRegion* find(Gpa gpa, uint64_t len) const;
    std::vector<MemoryRegion> regions_;
};

}  // namespace pvhv
