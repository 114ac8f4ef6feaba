// A SlotControl for unit tests: the KVM slots a Physmap would have, checked like KVM checks them.
#pragma once

#include <map>

#include "hv/mem/physmap.h"

namespace pvhv::testing {

class RecordingSlots final : public SlotControl {
  public:
    struct Slot {
        Gpa gpa;
        uint8_t* host;
        uint64_t size;
    };

    Result<void> map_slot(uint32_t slot, Gpa gpa, std::span<uint8_t> host) override {
        if (fail_map) return fail(XEN_EIO, "fake KVM_SET_USER_MEMORY_REGION failure");
        if (live.contains(slot)) return fail(XEN_EIO, "slot in use");  // KVM: EINVAL
        for (const auto& [n, s] : live)  // KVM: EEXIST for overlapping slots
            if (gpa.value < s.gpa.value + s.size && s.gpa.value < gpa.value + host.size())
                return fail(XEN_EIO, "overlapping slot");
        live[slot] = {gpa, host.data(), host.size()};
        ++maps;
        if (live.size() > max_live) max_live = live.size();
        return {};
    }
    Result<void> unmap_slot(uint32_t slot) override {
        if (fail_unmap) return fail(XEN_EIO, "fake delete failure");
        live.erase(slot);
        return {};
    }

    // The gpa a placed page shows at, or null.
    const Slot* at(Gpa gpa) const {
        for (const auto& [n, s] : live)
            if (s.gpa == gpa) return &s;
        return nullptr;
    }

    std::map<uint32_t, Slot> live;
    size_t maps = 0;
    size_t max_live = 0;
    bool fail_map = false;
    bool fail_unmap = false;
};

}  // namespace pvhv::testing
