// Initial register state of the boot vCPU for the PVH entry point.
#pragma once

#include <cstdint>

#include "hv/error.h"
#include "hv/kvm/vcpu.h"

namespace pvhv {

// Xen's PVH entry contract: 32-bit protected mode, paging off, flat 4 GiB code and data
// segments, ebx = guest-physical address of hvm_start_info, eflags = 0x2, interrupts off.
Result<void> set_pvh_entry_state(kvm::Vcpu& vcpu, uint32_t entry, uint32_t start_info);

}  // namespace pvhv
