// 8250 UART register model: transmit is immediate, receive is a 16-byte FIFO, IRQ is level.
#include "hv/devices/uart_8250.h"

namespace pvhv {

namespace {
// Register offsets and bits (National Semiconductor PC16550D data sheet).
constexpr uint64_t kData = 0, kIer = 1, kIir = 2, kFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6,
                   kScr = 7;
constexpr uint8_t kIerRx = 0x01, kIerThr = 0x02;
constexpr uint8_t kIirNone = 0x01, kIirThr = 0x02, kIirRx = 0x04, kIirFifo = 0xc0;
constexpr uint8_t kFcrClearRx = 0x02;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrDataReady = 0x01, kLsrOverrun = 0x02, kLsrThrEmpty = 0x20, kLsrIdle = 0x40;
constexpr uint8_t kMcrLoop = 0x10;
constexpr uint8_t kMsrDcd = 0x80, kMsrDsr = 0x20, kMsrCts = 0x10;
}  // namespace

void Uart8250::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < data.size(); ++i) data[i] = read_reg(offset + i);
}

void Uart8250::write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < data.size(); ++i) write_reg(offset + i, data[i]);
}

size_t Uart8250::input(std::string_view bytes) {
    std::lock_guard lock(mu_);
    size_t taken = 0;
    for (const char c : bytes) {
        if (rx_fifo_.size() < kRxFifoSize && rx_input_.empty())
            rx_fifo_.push_back(static_cast<uint8_t>(c));
        else if (rx_input_.size() < kInputLimit)
            rx_input_.push_back(static_cast<uint8_t>(c));
        else
            break;
        ++taken;
    }
    update_irq();
    return taken;
}

void Uart8250::refill_rx() {
    while (rx_fifo_.size() < kRxFifoSize && !rx_input_.empty()) {
        rx_fifo_.push_back(rx_input_.front());
        rx_input_.pop_front();
    }
}

uint8_t Uart8250::read_reg(uint64_t offset) {
    const bool dlab = lcr_ & kLcrDlab;
    switch (offset) {
        case kData: {
            if (dlab) return dll_;
            if (rx_fifo_.empty()) return 0;
            const uint8_t c = rx_fifo_.front();
            rx_fifo_.pop_front();
            refill_rx();
            update_irq();
            return c;
        }
        case kIer: return dlab ? dlm_ : ier_;
        case kIir: {
            uint8_t iir = kIirNone;
            if ((ier_ & kIerRx) && !rx_fifo_.empty()) {
                iir = kIirRx;
            } else if ((ier_ & kIerThr) && thr_interrupt_) {
                iir = kIirThr;
                thr_interrupt_ = false;  // reading IIR acknowledges THR-empty
                update_irq();
            }
            return iir | kIirFifo;
        }
        case kLcr: return lcr_;
        case kMcr: return mcr_;
        case kLsr: {
            const uint8_t lsr = kLsrThrEmpty | kLsrIdle | (rx_fifo_.empty() ? 0 : kLsrDataReady) |
                                (overrun_ ? kLsrOverrun : 0);
            overrun_ = false;  // reading LSR clears the error bits
            return lsr;
        }
        case kMsr:
            // In loopback the modem lines echo MCR (Linux's autoconfig probes this).
            if (mcr_ & kMcrLoop) return static_cast<uint8_t>(((mcr_ & 0x0c) << 4) | ((mcr_ & 0x03) << 4));
            return kMsrDcd | kMsrDsr | kMsrCts;
        case kScr: return scr_;
        default: return 0xff;
    }
}

void Uart8250::write_reg(uint64_t offset, uint8_t value) {
    const bool dlab = lcr_ & kLcrDlab;
    switch (offset) {
        case kData:
            if (dlab) {
                dll_ = value;
            } else {
                if (mcr_ & kMcrLoop) {
                    if (rx_fifo_.size() < kRxFifoSize)
                        rx_fifo_.push_back(value);
                    else
                        overrun_ = true;  // as the chip: the new byte is lost
                } else {
                    const char c = static_cast<char>(value);
                    output_(std::string_view(&c, 1));
                }
                thr_interrupt_ = true;  // transmit is instant: THR is empty again
            }
            break;
        case kIer:
            if (dlab) {
                dlm_ = value;
            } else {
                // Enabling the THR interrupt while THR is empty raises it at once (16550 behaviour).
                if ((value & kIerThr) && !(ier_ & kIerThr)) thr_interrupt_ = true;
                ier_ = value & 0x0f;
            }
            break;
        case kFcr:
            // The FIFOs are always on (IIR says 16550A); "clear receive FIFO" empties it.
            // Typed bytes still queued on the host side arrive afterwards, as from a pty.
            if (value & kFcrClearRx) {
                rx_fifo_.clear();
                refill_rx();
            }
            break;
        case kLcr: lcr_ = value; break;
        case kMcr: mcr_ = value & 0x1f; break;
        case kScr: scr_ = value; break;
        default: break;  // LSR, MSR writes have no effect here
    }
    update_irq();
}

void Uart8250::update_irq() {
    const bool level = ((ier_ & kIerRx) && !rx_fifo_.empty()) || ((ier_ & kIerThr) && thr_interrupt_);
    if (level != irq_level_) {
        irq_level_ = level;
        irq_(level);
    }
}

}  // namespace pvhv
