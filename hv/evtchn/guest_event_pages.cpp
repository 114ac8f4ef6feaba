// Resolves shared_info / vcpu_info guest-physical locations to guest memory on each access.
#include "hv/evtchn/guest_event_pages.h"

#include <cstring>

#include "hv/xen_public.h"

namespace pvhv {

GuestEventPages::GuestEventPages(const GuestMemory& mem, uint32_t nr_vcpus)
    : mem_(mem), nr_vcpus_(nr_vcpus),
      vcpu_info_gpa_(std::make_unique<std::atomic<uint64_t>[]>(nr_vcpus)) {
    for (uint32_t i = 0; i < nr_vcpus; ++i) vcpu_info_gpa_[i].store(kNone);
}

Result<void> GuestEventPages::set_shared_info(Gpa gpa) {
    if (gpa.value % kPageSize != 0 || !mem_.is_ram(gpa, kPageSize))
        return fail(XEN_EINVAL, "shared_info: not a page of guest memory");
    shared_info_gpa_.store(gpa.value);
    return {};
}

void GuestEventPages::clear_shared_info() { shared_info_gpa_.store(kNone); }

Result<void> GuestEventPages::register_vcpu_info(VcpuId vcpu, Gpa gpa) {
    if (vcpu.value >= nr_vcpus_) return fail(XEN_ENOENT, "vcpu_info: no such vcpu");
    const uint64_t offset = gpa.value % kPageSize;
    if (offset > kPageSize - sizeof(vcpu_info_t) || offset % 8 != 0)
        return fail(XEN_EINVAL, "vcpu_info: crosses a page or is misaligned");
    auto dst = mem_.span(gpa, sizeof(vcpu_info_t));
    if (!dst) return fail(XEN_EINVAL, "vcpu_info: not guest memory");
    if (vcpu_info_gpa_[vcpu.value].load() != kNone)
        return fail(XEN_EINVAL, "vcpu_info: already registered");

    vcpu_info_t init{};
    if (auto old = vcpu_info(vcpu)) {
        std::memcpy(&init, old->data(), sizeof init);
    } else {
        init.evtchn_upcall_mask = 1;  // Xen's dummy vcpu_info: nothing delivered yet
    }
    std::memcpy(dst->data(), &init, sizeof init);
    vcpu_info_gpa_[vcpu.value].store(gpa.value);
    return {};
}

Result<std::span<uint8_t>> GuestEventPages::shared_info() const {
    const uint64_t gpa = shared_info_gpa_.load();
    if (gpa == kNone) return fail(XEN_ENOENT, "shared_info: not mapped");
    return mem_.span(Gpa{gpa}, sizeof(shared_info_t));
}

Result<Gpa> GuestEventPages::vcpu_info_gpa(VcpuId v) const {
    if (v.value >= nr_vcpus_) return fail(XEN_ENOENT, "vcpu_info: no such vcpu");
    if (const uint64_t gpa = vcpu_info_gpa_[v.value].load(); gpa != kNone) return Gpa{gpa};
    if (v.value >= XEN_LEGACY_MAX_VCPUS) return fail(XEN_ENOENT, "vcpu_info: not registered");
    const uint64_t si = shared_info_gpa_.load();
    if (si == kNone) return fail(XEN_ENOENT, "shared_info: not mapped");
    return Gpa{si} + (offsetof(shared_info_t, vcpu_info) + v.value * sizeof(vcpu_info_t));
}

Result<std::span<uint8_t>> GuestEventPages::vcpu_info(VcpuId v) const {
    auto gpa = vcpu_info_gpa(v);
    if (!gpa) return std::unexpected(gpa.error());
    return mem_.span(*gpa, sizeof(vcpu_info_t));
}

}  // namespace pvhv
