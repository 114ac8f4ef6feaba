// The PV console rings: index checks, wrap-around copies and publication over one shared page.
#include "pvdrivers/back/console/console_ring.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "hv/xen_public.h"
#include <xen/io/console.h>

namespace pvhv::console {

namespace {

constexpr size_t kIn = offsetof(xencons_interface, in);
constexpr size_t kOut = offsetof(xencons_interface, out);
constexpr size_t kInCons = offsetof(xencons_interface, in_cons);
constexpr size_t kInProd = offsetof(xencons_interface, in_prod);
constexpr size_t kOutCons = offsetof(xencons_interface, out_cons);
constexpr size_t kOutProd = offsetof(xencons_interface, out_prod);
static_assert(sizeof(xencons_interface::out) == kOutRingSize);
static_assert(sizeof(xencons_interface::in) == kInRingSize);

// The page is shared with running vCPUs: indexes are only touched through atomic_ref.
std::atomic_ref<uint32_t> ring_index(std::span<uint8_t> page, size_t offset) {
    return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(page.data() + offset));
}

// Our last index store must be visible before we read the guest's index: x86 lets a load pass
// an earlier store, and a guest that kicks only when it saw the ring full (or empty) could then
// read our old index while we read its old one, and neither would kick. Linux's hvc_xen kicks
// after every write and read, so this is insurance for other guests (the xenstore ring has the
// same fence).
void fence_before_reading_guest_index() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace

void clear_page(std::span<uint8_t> page) {
    std::fill(page.begin(), page.end(), uint8_t{0});
}

Result<ConsoleRing> ConsoleRing::attach(std::span<uint8_t> page) {
    if (page.size() < sizeof(xencons_interface))
        return fail(XEN_EINVAL, "console page is smaller than struct xencons_interface");
    if (reinterpret_cast<uintptr_t>(page.data() + kInCons) %
            std::atomic_ref<uint32_t>::required_alignment !=
        0)
        return fail(XEN_EINVAL, "console page indexes are misaligned");
    return ConsoleRing(page);
}

ConsoleRing::ConsoleRing(std::span<uint8_t> page) : page_(page) {
    out_cons_ = ring_index(page_, kOutCons).load(std::memory_order_acquire);
    in_prod_ = ring_index(page_, kInProd).load(std::memory_order_acquire);
    in_cons_seen_ = ring_index(page_, kInCons).load(std::memory_order_acquire);
}

RingPass ConsoleRing::read_output(std::string& out) {
    RingPass pass;
    fence_before_reading_guest_index();
    const uint32_t prod = ring_index(page_, kOutProd).load(std::memory_order_acquire);
    pass.guest_index = prod;
    pass.our_index = out_cons_;
    const uint32_t avail = prod - out_cons_;  // modulo 2^32, as the ring protocol counts
    if (avail > kOutRingSize) {
        pass.hostile = true;
        return pass;
    }
    if (avail == 0) return pass;
    const uint32_t start = out_cons_ % kOutRingSize;
    const uint32_t first = std::min(avail, kOutRingSize - start);
    const auto* ring = reinterpret_cast<const char*>(page_.data() + kOut);
    out.append(ring + start, first);
    out.append(ring, avail - first);
    out_cons_ += avail;
    // Release: our copy of the bytes is complete before the guest may reuse the space.
    ring_index(page_, kOutCons).store(out_cons_, std::memory_order_release);
    guest_active_ = true;
    pass.bytes = avail;
    pass.our_index = out_cons_;
    return pass;
}

RingPass ConsoleRing::write_input(std::string_view bytes) {
    RingPass pass;
    fence_before_reading_guest_index();
    const uint32_t cons = ring_index(page_, kInCons).load(std::memory_order_acquire);
    pass.guest_index = cons;
    pass.our_index = in_prod_;
    const uint32_t used = in_prod_ - cons;
    if (used > kInRingSize) {  // in_cons past in_prod, or more than a ring behind it
        pass.hostile = true;
        return pass;
    }
    if (cons != in_cons_seen_) {
        in_cons_seen_ = cons;
        guest_active_ = true;
    }
    const uint32_t n = std::min<uint32_t>(kInRingSize - used, static_cast<uint32_t>(std::min<size_t>(bytes.size(), kInRingSize)));
    if (n == 0) return pass;
    const uint32_t start = in_prod_ % kInRingSize;
    const uint32_t first = std::min(n, kInRingSize - start);
    auto* ring = reinterpret_cast<char*>(page_.data() + kIn);
    std::memcpy(ring + start, bytes.data(), first);
    std::memcpy(ring, bytes.data() + first, n - first);
    in_prod_ += n;
    // Release: the bytes are in the ring before the guest can see the new in_prod.
    ring_index(page_, kInProd).store(in_prod_, std::memory_order_release);
    pass.bytes = n;
    pass.our_index = in_prod_;
    return pass;
}

}  // namespace pvhv::console
