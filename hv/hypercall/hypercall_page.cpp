// Hypercall page contents and the MSR write that installs it.
#include "hv/hypercall/hypercall_page.h"

#include "pvhv/hypercall_transport.h"

namespace pvhv {

std::array<uint8_t, kPageSize> make_hypercall_page() {
    std::array<uint8_t, kPageSize> page;
    page.fill(0xcc);
    for (uint32_t nr = 0; nr < kPageSize / PVHV_HYPERCALL_STUB_SIZE; ++nr) {
        uint8_t* s = page.data() + nr * PVHV_HYPERCALL_STUB_SIZE;
        s[0] = 0xb8;  // mov $nr, %eax
        s[1] = nr & 0xff;
        s[2] = (nr >> 8) & 0xff;
        s[3] = s[4] = 0;
        s[5] = PVHV_REWRITE_OUT_OPCODE;  // out %eax, $port
        s[6] = PVHV_HYPERCALL_PORT;
        s[7] = 0xc3;  // ret
    }
    return page;
}

Result<void> write_hypercall_page(const GuestMemory& mem, uint64_t value) {
    if ((value & (kPageSize - 1)) != 0) return fail(XEN_EINVAL, "hypercall MSR: page index != 0");
    static const auto kPage = make_hypercall_page();
    return mem.write(Gpa{value}, std::span<const uint8_t>(kPage));
}

}  // namespace pvhv
