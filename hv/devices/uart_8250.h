// An 8250/16550A UART (COM1 at 0x3f8, IRQ 4) for `console=ttyS0`: output to the domain's console.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>

#include "hv/devices/bus.h"

namespace pvhv {

class Uart8250 : public BusDevice {
public:
    using OutputFn = std::function<void(std::string_view)>;
    using IrqFn = std::function<void(bool level)>;

    Uart8250(OutputFn output, IrqFn irq) : output_(std::move(output)), irq_(std::move(irq)) {}

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;

    // Bytes typed at the console (pvctl console), delivered to the guest's receiver.
    void input(std::string_view bytes);

private:
    uint8_t read_reg(uint64_t offset);
    void write_reg(uint64_t offset, uint8_t value);
    void update_irq();  // mu_ held

    OutputFn output_;
    IrqFn irq_;
    std::mutex mu_;  // guards every register and rx_ below
    uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0x0c, dlm_ = 0;
    bool thr_interrupt_ = false;  // THR-empty interrupt pending (cleared by reading IIR / writing THR)
    std::deque<uint8_t> rx_;
    bool irq_level_ = false;
};

}  // namespace pvhv
