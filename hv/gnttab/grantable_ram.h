// Which guest frames a grant entry may name, and where pvd sees their bytes.
#pragma once

#include <cstdint>
#include <memory>
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

// Guest RAM as the domain reports it to the guest (the e820 RAM ranges) in the regions of the
// domain's GuestMemory. Immutable after construction, so lookups take no lock.
//
// It holds the regions' mappings (MemoryRegion::shared_mapping), not the GuestMemory: the
// grant table owns this object and every GrantMapping owns the table, so guest RAM stays
// mapped in pvd until the last mapping of a destroyed domain is released, as a Xen domain's
// pages stay allocated while foreign mappings of them exist. A range that lies in no single
// region is not grantable.
class LayoutGrantableRam final : public GrantableRam {
  public:
    LayoutGrantableRam(const GuestMemory& mem, const std::vector<PhysRange>& ram);
    Result<std::span<uint8_t>> frame(Gfn gfn) const override;

  private:
    struct Piece {
        PhysRange range;
        uint8_t* host;  // the byte at range.base, inside `mapping`
        std::shared_ptr<uint8_t> mapping;
    };
    std::vector<Piece> pieces_;
};

}  // namespace pvhv
