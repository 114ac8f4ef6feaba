// __HYPERVISOR_console_io: a guest writes to its domain's console log (pvctl console).
#include <string>

#include "hv/hypercall/handlers.h"

namespace pvhv {

namespace {
constexpr uint64_t kMaxConsoleWrite = 64 * 1024;  // bytes per console_io write
}  // namespace

int64_t do_console_io(HypercallContext& ctx, const HypercallArgs& a) {
    const uint64_t cmd = a.arg[0];
    const uint64_t count = static_cast<uint32_t>(a.arg[1]);  // `unsigned int count` in Xen
    const uint64_t buf = a.arg[2];
    if (cmd == CONSOLEIO_read) return err(XEN_EPERM);  // Xen: only the hardware domain reads
    if (cmd != CONSOLEIO_write) return err(XEN_ENOSYS);

    // Unlike Xen, which prints chunk by chunk until a fault, the whole buffer is copied
    // (and so checked) before any of it reaches the console, and a single call is bounded:
    // a hostile length cannot make pvd log the guest's memory.
    if (count > kMaxConsoleWrite) return err(XEN_EINVAL);
    std::string text(count, '\0');
    auto r = ctx.guest.read(buf, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), count));
    if (!r) return err(XEN_EFAULT);
    ctx.domain.console_write(text);
    return 0;
}

}  // namespace pvhv
