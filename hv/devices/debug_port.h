// The Bochs/QEMU debug console port (0xe9): bytes written go to the domain's console.
#pragma once

#include <functional>
#include <string_view>

#include "hv/devices/bus.h"

namespace pvhv {

// Reads return 0xe9, which is how guests detect the port (as on Bochs and QEMU's debugcon).
class DebugPort : public BusDevice {
public:
    explicit DebugPort(std::function<void(std::string_view)> output) : output_(std::move(output)) {}
    void read(uint64_t, std::span<uint8_t> data) override {
        for (auto& b : data) b = 0xe9;
    }
    void write(uint64_t, std::span<const uint8_t> data) override {
        output_(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    }

private:
    std::function<void(std::string_view)> output_;  // thread-safe sink (the domain's console)
};

}  // namespace pvhv
