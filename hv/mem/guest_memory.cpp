// Guest memory regions (memfd + mmap) and the bounds-checked accessor.
#include "hv/mem/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

namespace pvhv {

Result<MemoryRegion> MemoryRegion::create(Gpa base, uint64_t size, std::string name) {
    if (size == 0 || size % kPageSize != 0 || base.value % kPageSize != 0)
        return fail(XEN_EINVAL, "memory region " + name + ": base/size not page aligned");
    if (base.value + size < base.value) return fail(XEN_EINVAL, "memory region wraps: " + name);
    UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC));
    if (!fd.valid()) return fail_errno("memfd_create " + name);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return fail_errno("ftruncate " + name);
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd.get(), 0);
    if (p == MAP_FAILED) return fail_errno("mmap " + name);
    std::shared_ptr<uint8_t> map(static_cast<uint8_t*>(p),
                                 [size](uint8_t* host) { ::munmap(host, size); });
    return MemoryRegion(base, size, std::move(name), std::move(fd), std::move(map));
}

MemoryRegion::MemoryRegion(Gpa base, uint64_t size, std::string name, UniqueFd fd,
                           std::shared_ptr<uint8_t> map)
    : base_(base), size_(size), name_(std::move(name)), fd_(std::move(fd)), map_(std::move(map)) {}

MemoryRegion::MemoryRegion(MemoryRegion&& o) noexcept
    : base_(o.base_),
      size_(std::exchange(o.size_, 0)),
      name_(std::move(o.name_)),
      fd_(std::move(o.fd_)),
      map_(std::move(o.map_)) {}

MemoryRegion& MemoryRegion::operator=(MemoryRegion&& o) noexcept {
    if (this != &o) {
        base_ = o.base_;
        size_ = std::exchange(o.size_, 0);
        name_ = std::move(o.name_);
        fd_ = std::move(o.fd_);
        map_ = std::move(o.map_);
    }
    return *this;
}

MemoryRegion::~MemoryRegion() = default;

bool MemoryRegion::contains(Gpa gpa, uint64_t len) const {
    if (gpa.value < base_.value) return false;
    const uint64_t off = gpa.value - base_.value;
    return off <= size_ && len <= size_ - off;
}

Result<void> GuestMemory::add_region(MemoryRegion region) {
    for (const auto& r : regions_) {
        const bool disjoint = region.base().value + region.size() <= r.base().value ||
                              r.base().value + r.size() <= region.base().value;
        if (!disjoint) return fail(XEN_EEXIST, "memory region " + region.name() + " overlaps " + r.name());
    }
    regions_.push_back(std::move(region));
    std::sort(regions_.begin(), regions_.end(),
              [](const MemoryRegion& a, const MemoryRegion& b) { return a.base() < b.base(); });
    return {};
}

const MemoryRegion* GuestMemory::find(Gpa gpa, uint64_t len) const {
    for (const auto& r : regions_)
        if (r.contains(gpa, len)) return &r;
    return nullptr;
}

Result<std::span<uint8_t>> GuestMemory::span(Gpa gpa, uint64_t len) const {
    const MemoryRegion* r = find(gpa, len);
    if (!r) return fail(XEN_EFAULT, "guest range outside RAM");
    return std::span<uint8_t>(r->host() + (gpa.value - r->base().value), len);
}

Result<void> GuestMemory::read(Gpa gpa, std::span<uint8_t> out) const {
    auto s = span(gpa, out.size());
    if (!s) return std::unexpected(s.error());
    if (!out.empty()) std::memcpy(out.data(), s->data(), out.size());  // memcpy(NULL, ..., 0) is UB
    return {};
}

Result<void> GuestMemory::write(Gpa gpa, std::span<const uint8_t> in) const {
    auto s = span(gpa, in.size());
    if (!s) return std::unexpected(s.error());
    if (!in.empty()) std::memcpy(s->data(), in.data(), in.size());
    return {};
}

Result<void> GuestMemory::fill(Gpa gpa, uint8_t value, uint64_t len) const {
    auto s = span(gpa, len);
    if (!s) return std::unexpected(s.error());
    if (len != 0) std::memset(s->data(), value, len);
    return {};
}

Result<std::string> GuestMemory::read_cstring(Gpa gpa, uint64_t max_len) const {
    std::string out;
    // Byte by byte through the checked path: a string may end right at a region's edge.
    for (uint64_t i = 0; i <= max_len; ++i) {
        if (gpa.value + i < gpa.value) return fail(XEN_EFAULT, "string wraps the address space");
        auto c = read<uint8_t>(gpa + i);
        if (!c) return std::unexpected(c.error());
        if (*c == 0) return out;
        if (i == max_len) break;
        out.push_back(static_cast<char>(*c));
    }
    return fail(XEN_E2BIG, "string longer than limit");
}

}  // namespace pvhv
