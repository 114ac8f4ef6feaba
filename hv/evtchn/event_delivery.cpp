// 2-level event delivery: Xen's evtchn_2l_set_pending/unmask as atomics on the guest's pages.
#include "hv/evtchn/event_delivery.h"

#include <atomic>
#include <cstddef>

#include "hv/evtchn/port_table.h"
#include "hv/xen_public.h"

namespace pvhv {

namespace {

constexpr uint32_t kBitsPerWord = 64;
static_assert(sizeof(xen_ulong_t) * 8 == kBitsPerWord, "64-bit guest layout");
static_assert(kEvtchnPorts2L == EVTCHN_2L_NR_CHANNELS);
static_assert(sizeof(shared_info_t) <= kPageSize);
static_assert(offsetof(shared_info_t, evtchn_pending) % alignof(uint64_t) == 0);
static_assert(offsetof(shared_info_t, evtchn_mask) % alignof(uint64_t) == 0);
static_assert(offsetof(vcpu_info_t, evtchn_pending_sel) % alignof(uint64_t) == 0);
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);

bool aligned(const uint8_t* p) {
    return reinterpret_cast<uintptr_t>(p) % std::atomic_ref<uint64_t>::required_alignment == 0;
}

// A page the guest may write at any time: only ever accessed through atomic_ref.
std::atomic_ref<uint64_t> word_at(std::span<uint8_t> page, size_t offset) {
    return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(page.data() + offset));
}

// The shared_info page if the locator has a usable one (size and alignment checked, since a
// misaligned atomic would be undefined behaviour and a split lock on the host).
std::span<uint8_t> shared_page(const EventPageLocator& pages) {
    auto s = pages.shared_info();
    if (!s || s->size() < sizeof(shared_info_t) || !aligned(s->data())) return {};
    return *s;
}

std::span<uint8_t> vcpu_page(const EventPageLocator& pages, VcpuId v) {
    auto s = pages.vcpu_info(v);
    if (!s || s->size() < sizeof(vcpu_info_t) || !aligned(s->data())) return {};
    return *s;
}

std::atomic_ref<uint64_t> pending_word(std::span<uint8_t> si, uint32_t port) {
    return word_at(si, offsetof(shared_info_t, evtchn_pending) + port / kBitsPerWord * 8);
}
std::atomic_ref<uint64_t> mask_word(std::span<uint8_t> si, uint32_t port) {
    return word_at(si, offsetof(shared_info_t, evtchn_mask) + port / kBitsPerWord * 8);
}
std::atomic_ref<uint64_t> selector(std::span<uint8_t> vi) {
    return word_at(vi, offsetof(vcpu_info_t, evtchn_pending_sel));
}

uint64_t port_bit(uint32_t port) { return uint64_t{1} << (port % kBitsPerWord); }
uint64_t selector_bit(uint32_t port) { return uint64_t{1} << (port / kBitsPerWord); }

}  // namespace

// Xen's vcpu_mark_events_pending: only the 0 -> 1 edge of bit 0 kicks the vCPU (the guest
// clears the byte before it scans, so a later event sets it again and kicks again).
void EventDelivery2L::mark_upcall(VcpuId vcpu, std::span<uint8_t> vi) {
    std::atomic_ref<uint8_t> upcall(vi[offsetof(vcpu_info_t, evtchn_upcall_pending)]);
    if (upcall.fetch_or(1) & 1) return;
    sink_.raise(vcpu);
}

void EventDelivery2L::set_pending(EvtchnPort port, VcpuId notify) {
    if (port.value >= kEvtchnPorts2L) return;
    const std::span<uint8_t> si = shared_page(pages_);
    if (si.empty()) return;
    const uint64_t bit = port_bit(port.value);
    if (pending_word(si, port.value).fetch_or(bit) & bit) return;  // already pending: no edge
    // Masked: unmask will raise it. Selector already set: the guest has not scanned that word
    // yet and will find this port there.
    if (!(mask_word(si, port.value).load() & bit)) {
        const std::span<uint8_t> vi = vcpu_page(pages_, notify);
        const uint64_t sel = selector_bit(port.value);
        if (!vi.empty() && !(selector(vi).fetch_or(sel) & sel)) mark_upcall(notify, vi);
    }
    sink_.wake_pollers(port);
}

void EventDelivery2L::clear_pending(EvtchnPort port) {
    if (port.value >= kEvtchnPorts2L) return;
    const std::span<uint8_t> si = shared_page(pages_);
    if (si.empty()) return;
    pending_word(si, port.value).fetch_and(~port_bit(port.value));
}

void EventDelivery2L::unmask(EvtchnPort port, VcpuId notify) {
    if (port.value >= kEvtchnPorts2L) return;
    const std::span<uint8_t> si = shared_page(pages_);
    if (si.empty()) return;
    const uint64_t bit = port_bit(port.value);
    if (!(mask_word(si, port.value).fetch_and(~bit) & bit)) return;  // was not masked
    if (!(pending_word(si, port.value).load() & bit)) return;
    const std::span<uint8_t> vi = vcpu_page(pages_, notify);
    if (vi.empty()) return;
    const uint64_t sel = selector_bit(port.value);
    if (selector(vi).fetch_or(sel) & sel) return;
    mark_upcall(notify, vi);
}

bool EventDelivery2L::is_pending(EvtchnPort port) const {
    if (port.value >= kEvtchnPorts2L) return false;
    const std::span<uint8_t> si = shared_page(pages_);
    return !si.empty() && (pending_word(si, port.value).load() & port_bit(port.value));
}

bool EventDelivery2L::is_masked(EvtchnPort port) const {
    if (port.value >= kEvtchnPorts2L) return true;
    const std::span<uint8_t> si = shared_page(pages_);
    // No page yet: nothing can be delivered, which is what a mask means.
    return si.empty() || (mask_word(si, port.value).load() & port_bit(port.value));
}

void EventDelivery2L::vcpu_info_moved(VcpuId vcpu) {
    const std::span<uint8_t> vi = vcpu_page(pages_, vcpu);
    if (vi.empty()) return;
    selector(vi).fetch_or(~uint64_t{0});
    std::atomic_ref<uint8_t>(vi[offsetof(vcpu_info_t, evtchn_upcall_pending)]).fetch_or(1);
    sink_.raise(vcpu);  // Xen's arch_evtchn_inject: unconditionally
}

void EventDelivery2L::reraise_pending(VcpuId vcpu) {
    const std::span<uint8_t> vi = vcpu_page(pages_, vcpu);
    if (vi.empty()) return;
    if (std::atomic_ref<uint8_t>(vi[offsetof(vcpu_info_t, evtchn_upcall_pending)]).load() & 1)
        sink_.raise(vcpu);
}

}  // namespace pvhv
