// A narrow device bus (port I/O or MMIO): devices are read/written at an offset into their range.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hv/error.h"

namespace pvhv {

// One emulated device. `offset` is relative to the base it was registered at; `data` is
// 1-8 bytes. Devices do their own locking: several vCPU threads may call at once.
class BusDevice {
public:
    virtual ~BusDevice() = default;
    virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

// Built once while the domain is wired, then only read: lookups need no lock.
class Bus {
public:
    explicit Bus(std::string name) : name_(std::move(name)) {}
    Result<void> add(uint64_t base, uint64_t len, BusDevice* dev, std::string dev_name);

    // false when no device claims the access (the caller decides: ignore writes, read ~0).
    bool read(uint64_t addr, std::span<uint8_t> data) const;
    bool write(uint64_t addr, std::span<const uint8_t> data) const;

private:
    struct Range {
        uint64_t base, len;
        BusDevice* dev;
        std::string name;
    };
    const Range* find(uint64_t addr, uint64_t len) const;
    std::string name_;
    std::vector<Range> ranges_;
};

}  // namespace pvhv
