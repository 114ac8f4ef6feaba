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

    // Receive: the 16550's 16-byte FIFO, fed from a queue of typed bytes on the host side
    // (what a pty would buffer in front of a real UART), so nothing typed is lost to overrun.
    static constexpr size_t kRxFifoSize = 16;
    static constexpr size_t kInputLimit = 4096;

    // Bytes typed at the console (pvctl console), for the guest's receiver: LSR data-ready,
    // and the receive interrupt when IER enables it. Returns how many were taken (FIFO room
    // plus kInputLimit queued; the rest is dropped). Any thread.
    size_t input(std::string_view bytes);

private:
    uint8_t read_reg(uint64_t offset);
    void write_reg(uint64_t offset, uint8_t value);
    void refill_rx();   // mu_ held: typed bytes move into the FIFO as it drains
    void update_irq();  // mu_ held

    OutputFn output_;
    IrqFn irq_;
    std::mutex mu_;  // guards every register and queue below
    uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0x0c, dlm_ = 0;
    bool thr_interrupt_ = false;  // THR-empty interrupt pending (cleared by reading IIR / writing THR)
    bool overrun_ = false;        // LSR OE: a loopback byte found the FIFO full (cleared by reading LSR)
    std::deque<uint8_t> rx_fifo_;   // at most kRxFifoSize: what RBR reads
    std::deque<uint8_t> rx_input_;  // at most kInputLimit: typed, waiting for FIFO room
    bool irq_level_ = false;
};

}  // namespace pvhv
