// A HypercallDomain for unit tests: records what hypercalls asked of it.
#pragma once

#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "hv/hypercall/hvm_params.h"
#include "hv/hypercall/hypercall.h"

namespace pvhv::testing {

class FakeHypercallDomain : public HypercallDomain {
public:
    DomId id() const override { return DomId{7}; }
    void console_write(std::string_view bytes) override { console.append(bytes); }
    void shutdown(ShutdownReason r) override { shutdown_reason = r; }
    void set_shutdown_code(ShutdownReason r) override { shutdown_code = r; }
    void block(VcpuId v, bool) override { blocked.push_back(v); }
    std::span<const hvm_memmap_table_entry> memory_map() const override { return memmap; }
    uint64_t ram_pages() const override { return 4096; }
    HvmParams& hvm_params() override { return params; }
    Result<void> map_shared_info(Gfn gfn) override {
        if (gfn.value >= 256) return fail(XEN_EINVAL, "not RAM");  // the fixture's 1 MiB
        shared_info_gfn = gfn;
        return {};
    }

    std::string console;
    std::optional<ShutdownReason> shutdown_reason, shutdown_code;
    uint32_t nr_vcpus() const override { return 2; }
    Result<void> register_vcpu_info(VcpuId v, Gpa gpa) override {
        vcpu_info.emplace_back(v, gpa);
        return {};
    }
    Result<void> set_upcall_vector(VcpuId v, uint8_t vector) override {
        if (vector < 0x10) return fail(XEN_EINVAL, "low vector");
        upcall_vectors.emplace_back(v, vector);
        return {};
    }
    EventChannelDomain* event_channel_domain() override { return nullptr; }
    GrantTable* grant_table() override { return nullptr; }
    Result<void> map_grant_frame(uint64_t idx, Gfn gfn) override {
        if (idx >= 64) return fail(XEN_EINVAL, "idx past max_frames");
        grant_frames.emplace_back(idx, gfn);
        return {};
    }
    std::vector<std::pair<uint64_t, Gfn>> grant_frames;
    std::vector<std::pair<VcpuId, uint8_t>> upcall_vectors;
    std::vector<std::pair<VcpuId, Gpa>> vcpu_info;
    std::vector<VcpuId> blocked;
    std::optional<Gfn> shared_info_gfn;
    std::vector<hvm_memmap_table_entry> memmap{{0, 0x9f000, 1, 0}, {0x100000, 0xff00000, 1, 0},
                                               {0xfeff0000, 0x10000, 2, 0}};
    HvmParams params;
};

}  // namespace pvhv::testing
