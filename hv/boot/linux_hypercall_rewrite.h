// Rewrites the vmcall/vmmcall in a loaded Linux kernel's xen_hypercall_{amd,intel} to the pio
// transport.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hv/boot/elf_image.h"
#include "hv/error.h"
#include "hv/mem/guest_memory.h"
#include "hv/types.h"

namespace pvhv {

enum class HypercallRewriteStatus {
    Rewritten,             // at least one site was changed to `out %eax, $0xe4; nop`
    AlreadyPio,            // both sites already had that form (nothing to do)
    NoHypercallFunctions,  // neither symbol exists: the kernel uses the hypercall page
};
const char* to_string(HypercallRewriteStatus s);

struct HypercallSite {
    std::string symbol;                 // "xen_hypercall_amd" or "xen_hypercall_intel"
    uint64_t vaddr = 0;                 // of the 3-byte instruction (after any endbr64)
    Gpa gpa;                            // same, guest-physical
    std::array<uint8_t, 3> original{};  // bytes found there
    bool rewritten = false;             // false if they already were the pio form
};

struct HypercallRewriteReport {
    HypercallRewriteStatus status = HypercallRewriteStatus::NoHypercallFunctions;
    std::vector<HypercallSite> sites;
    std::string describe() const;  // one line for the log and `pvctl info`
};

// `kernel` is the ELF that load_pvh() put into `mem` (its PT_LOAD vaddr/paddr translate the
// System.map addresses); `system_map` is the text of that kernel's System.map ("<hex addr>
// <type> <name>" lines). Debian ships a placeholder System.map in linux-image-*; the real
// one is in linux-image-*-dbg (/usr/lib/debug/boot/System.map-*). The placeholder, a map
// without symbols, only one of the two functions, a symbol listed twice or not in text, an
// address outside the kernel's executable segments, or bytes other than the expected
// shape are all refused; nothing is written unless both sites check out.
//
// Expected shape, per function:   [f3 0f 1e fa]   endbr64, optional (IBT builds)
//                                 0f 01 d9        vmmcall (amd) | 0f 01 c1 vmcall (intel)
//                                 c3              ret
//                              or e9 <rel32>      jmp __x86_return_thunk (RETHUNK builds; the
//                                                 target is checked when the map has it)
// Debian linux-image-6.1.0-56-amd64 6.1.192-2 (Xen XSA-466 backport), from objdump:
//   ffffffff81a43c80 <xen_hypercall_amd>:   0f 01 d9  vmmcall; e9 a8 e0 3b 00  jmp ffffffff81e01d30
//   ffffffff81a43c90 <xen_hypercall_intel>: 0f 01 c1  vmcall;  e9 98 e0 3b 00  jmp ffffffff81e01d30
//   (__x86_return_thunk = ffffffff81e01d30; no endbr64: the functions are ANNOTATE_NOENDBR,
//   reached only through xen_hypercall_hvm's direct jumps and the static call).
Result<HypercallRewriteReport> rewrite_linux_hypercalls(const GuestMemory& mem,
                                                        const ElfImage& kernel,
                                                        std::string_view system_map);

}  // namespace pvhv
