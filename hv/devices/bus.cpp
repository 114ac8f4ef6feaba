// Device bus: range registration and dispatch by address.
#include "hv/devices/bus.h"

namespace pvhv {

Result<void> Bus::add(uint64_t base, uint64_t len, BusDevice* dev, std::string dev_name) {
    if (len == 0 || base + len < base) return fail(XEN_EINVAL, name_ + ": bad range for " + dev_name);
    for (const auto& r : ranges_)
        if (base < r.base + r.len && r.base < base + len)
            return fail(XEN_EEXIST, name_ + ": " + dev_name + " overlaps " + r.name);
    ranges_.push_back({base, len, dev, std::move(dev_name)});
    return {};
}

const Bus::Range* Bus::find(uint64_t addr, uint64_t len) const {
    for (const auto& r : ranges_)
        if (addr >= r.base && addr - r.base < r.len && len <= r.len - (addr - r.base)) return &r;
    return nullptr;
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) const {
    const Range* r = find(addr, data.size());
    if (!r) return false;
    r->dev->read(addr - r->base, data);
    return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) const {
    const Range* r = find(addr, data.size());
    if (!r) return false;
    r->dev->write(addr - r->base, data);
    return true;
}

}  // namespace pvhv
