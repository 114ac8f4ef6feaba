// Copies to and from guest *linear* addresses (hypercall buffers) through the guest's page tables.
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>

#include "hv/error.h"
#include "hv/mem/guest_memory.h"

namespace pvhv {

// The paging state of the vCPU that issued the hypercall (from its control registers).
struct PagingMode {
    uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;

    bool paging() const { return cr0 & (1u << 31); }
    bool pae() const { return cr4 & (1u << 5); }
    bool la57() const { return cr4 & (1u << 12); }
    bool long_mode() const { return efer & (1u << 10); }  // EFER.LMA
};

// Walks the guest's page tables (none, 32-bit, PAE, 4- and 5-level) for one linear address.
// Not-present entries, reserved physical addresses and, for writes, read-only mappings
// give XEN_EFAULT, as Xen's copy_{from,to}_guest would.
Result<Gpa> translate_linear(const GuestMemory& mem, const PagingMode& mode, uint64_t linear,
                             bool write);

// Hypercall argument access: every copy is split at page boundaries and each page is
// translated and bounds-checked on its own. Guest tables are re-read on every call, never
// cached, since the guest may change them at any time.
class GuestLinearAccess {
public:
    GuestLinearAccess(const GuestMemory& mem, PagingMode mode) : mem_(mem), mode_(mode) {}

    Result<void> read(uint64_t linear, std::span<uint8_t> out) const;
    Result<void> write(uint64_t linear, std::span<const uint8_t> in) const;

    template <class T>
    Result<T> read(uint64_t linear) const {
        static_assert(std::is_trivially_copyable_v<T>);
        T v;
        auto r = read(linear, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
        if (!r) return std::unexpected(r.error());
        return v;
    }
    template <class T>
    Result<void> write(uint64_t linear, const T& v) const {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(linear, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&v), sizeof v));
    }

    const GuestMemory& memory() const { return mem_; }

private:
    const GuestMemory& mem_;
    PagingMode mode_;
};

}  // namespace pvhv
