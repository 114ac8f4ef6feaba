// Which guest frames a grant entry may name, and where pvd sees their bytes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hv/boot/guest_layout.h"
#include "hv/error.h"
#include "hv/mem/guest_memory.h"
#include "hv/types.h"

namespace pvhv {

// The granting domain's answer to "is this gfn ordinary RAM of mine?". A grant may only name
// such a frame: never a special page, boot table, MMIO hole or anything past the end of
// memory (Xen's get_paged_frame refuses non-RAM p2m entries with GNTST_bad_page).
class GrantableRam {
  public:
    virtual ~GrantableRam() = default;
    // The frame's 4 KiB in pvd's mapping of guest memory, or XEN_EFAULT.
    virtual Result<std::span<uint8_t>> frame(Gfn gfn) const = 0;
};

// Guest RAM as the domain reports it to the guest (the e820 RAM ranges), read through the
// domain's GuestMemory. Both are immutable once vCPUs run, so lookups take no lock.
// `mem` must outlive this object and every mapping made through it.
class LayoutGrantableRam final : public GrantableRam {
  public:
    LayoutGrantableRam(const GuestMemory& mem, std::vector<PhysRange> ram)
        : mem_(mem), ram_(std::move(ram)) {}
    Result<std::span<uint8_t>> frame(Gfn gfn) const override;

  private:
    const GuestMemory& mem_;
    std::vector<PhysRange> ram_;
};

}  // namespace pvhv
