// Guest page-table walk and page-split copies for hypercall arguments.
#include "hv/mem/guest_linear.h"

#include <algorithm>

namespace pvhv {

namespace {

constexpr uint64_t kPresent = 1u << 0;
constexpr uint64_t kWritable = 1u << 1;
constexpr uint64_t kLargePage = 1u << 7;
constexpr uint64_t kAddrMask52 = 0x000f'ffff'ffff'f000ull;

Result<uint64_t> read_entry(const GuestMemory& mem, uint64_t gpa, bool wide) {
    if (wide) {
        auto e = mem.read<uint64_t>(Gpa{gpa});
        if (!e) return fail(XEN_EFAULT, "page table outside RAM");
        return *e;
    }
    auto e = mem.read<uint32_t>(Gpa{gpa});
    if (!e) return fail(XEN_EFAULT, "page table outside RAM");
    return *e;
}

}  // namespace

Result<Gpa> translate_linear(const GuestMemory& mem, const PagingMode& mode, uint64_t linear,
                             bool write) {
    if (!mode.paging()) return Gpa{linear & 0xffff'ffffull};

    if (!mode.pae()) {  // 2-level 32-bit paging, 4 MiB pages when PSE
        const uint32_t la = static_cast<uint32_t>(linear);
        auto pde = read_entry(mem, (mode.cr3 & 0xffff'f000ull) + ((la >> 22) & 0x3ff) * 4, false);
        if (!pde) return std::unexpected(pde.error());
        if (!(*pde & kPresent) || (write && !(*pde & kWritable)))
            return fail(XEN_EFAULT, "linear address not mapped");
        if ((*pde & kLargePage) && (mode.cr4 & (1u << 4)))
            return Gpa{(*pde & 0xffc0'0000ull) | (la & 0x3f'ffff)};
        auto pte = read_entry(mem, (*pde & 0xffff'f000ull) + ((la >> 12) & 0x3ff) * 4, false);
        if (!pte) return std::unexpected(pte.error());
        if (!(*pte & kPresent) || (write && !(*pte & kWritable)))
            return fail(XEN_EFAULT, "linear address not mapped");
        return Gpa{(*pte & 0xffff'f000ull) | (la & 0xfff)};
    }

    int levels;
    uint64_t table;
    if (mode.long_mode()) {
        levels = mode.la57() ? 5 : 4;
        table = mode.cr3 & kAddrMask52;
    } else {  // PAE: the 4 PDPTEs hang off CR3 (32-byte aligned)
        const uint32_t la = static_cast<uint32_t>(linear);
        auto pdpte = read_entry(mem, (mode.cr3 & 0xffff'ffe0ull) + ((la >> 30) & 3) * 8, true);
        if (!pdpte) return std::unexpected(pdpte.error());
        if (!(*pdpte & kPresent)) return fail(XEN_EFAULT, "linear address not mapped");
        levels = 2;
        table = *pdpte & kAddrMask52;
        linear = la;
    }

    for (int level = levels; level >= 1; --level) {
        const unsigned shift = 12 + 9 * (level - 1);
        auto entry = read_entry(mem, table + ((linear >> shift) & 0x1ff) * 8, true);
        if (!entry) return std::unexpected(entry.error());
        if (!(*entry & kPresent) || (write && !(*entry & kWritable)))
            return fail(XEN_EFAULT, "linear address not mapped");
        // Large pages exist at the 1 GiB (level 3) and 2 MiB (level 2) levels only.
        if (level == 1 || ((level == 2 || level == 3) && (*entry & kLargePage))) {
            const uint64_t page_mask = (uint64_t{1} << shift) - 1;
            return Gpa{(*entry & kAddrMask52 & ~page_mask) | (linear & page_mask)};
        }
        table = *entry & kAddrMask52;
    }
    return fail(XEN_EFAULT, "page walk fell through");  // unreachable: level 1 returns
}

namespace {

// Splits [linear, linear+len) at page boundaries, translates each piece and hands it to
// `copy(gpa, offset_in_buffer, length)`; stops at the first failure.
template <class CopyFn>
Result<void> for_each_page(const GuestMemory& mem, const PagingMode& mode, uint64_t linear,
                           size_t len, bool write, CopyFn&& copy) {
    if (linear + len < linear) return fail(XEN_EFAULT, "guest buffer wraps");
    for (size_t done = 0; done < len;) {
        const uint64_t la = linear + done;
        const size_t chunk = std::min<uint64_t>(len - done, kPageSize - (la & (kPageSize - 1)));
        auto gpa = translate_linear(mem, mode, la, write);
        if (!gpa) return std::unexpected(gpa.error());
        if (auto r = copy(*gpa, done, chunk); !r) return r;
        done += chunk;
    }
    return {};
}

}  // namespace

Result<void> GuestLinearAccess::read(uint64_t linear, std::span<uint8_t> out) const {
    return for_each_page(mem_, mode_, linear, out.size(), false, [&](Gpa gpa, size_t off, size_t n) {
        return mem_.read(gpa, out.subspan(off, n));
    });
}

Result<void> GuestLinearAccess::write(uint64_t linear, std::span<const uint8_t> in) const {
    return for_each_page(mem_, mode_, linear, in.size(), true, [&](Gpa gpa, size_t off, size_t n) {
        return mem_.write(gpa, in.subspan(off, n));
    });
}

}  // namespace pvhv
