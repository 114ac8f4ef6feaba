// 8250 UART register model: transmit is immediate, receive is a small FIFO, IRQ is level.
#include "hv/devices/uart_8250.h"

namespace pvhv {

namespace {
// Register offsets and bits (National Semiconductor PC16550D data sheet).
constexpr uint64_t kData = 0, kIer = 1, kIir = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
constexpr uint8_t kIerRx = 0x01, kIerThr = 0x02;
constexpr uint8_t kIirNone = 0x01, kIirThr = 0x02, kIirRx = 0x04, kIirFifo = 0xc0;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20, kLsrIdle = 0x40;
constexpr uint8_t kMcrLoop = 0x10;
constexpr uint8_t kMsrDcd = 0x80, kMsrDsr = 0x20, kMsrCts = 0x10;
constexpr size_t kRxLimit = 4096;  // typed input beyond this is dropped
}  // namespace

void Uart8250::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < data.size(); ++i) data[i] = read_reg(offset + i);
}

void Uart8250::write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < data.size(); ++i) write_reg(offset + i, data[i]);
}

void Uart8250::input(std::string_view bytes) {
    std::lock_guard lock(mu_);
    for (char c : bytes)
        if (rx_.size() < kRxLimit) rx_.push_back(static_cast<uint8_t>(c));
    update_irq();
}

uint8_t Uart8250::read_reg(uint64_t offset) {
    const bool dlab = lcr_ & kLcrDlab;
    switch (offset) {
        case kData: {
            if (dlab) return dll_;
            if (rx_.empty()) return 0;
            const uint8_t c = rx_.front();
            rx_.pop_front();
            update_irq();
            return c;
        }
        case kIer: return dlab ? dlm_ : ier_;
        case kIir: {
            uint8_t iir = kIirNone;
            if ((ier_ & kIerRx) && !rx_.empty()) {
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
        case kLsr: return kLsrThrEmpty | kLsrIdle | (rx_.empty() ? 0 : kLsrDataReady);
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
                    if (rx_.size() < kRxLimit) rx_.push_back(value);
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
        case kLcr: lcr_ = value; break;
        case kMcr: mcr_ = value & 0x1f; break;
        case kScr: scr_ = value; break;
        default: break;  // FCR, LSR, MSR writes have no effect here
    }
    update_irq();
}

void Uart8250::update_irq() {
    const bool level = ((ier_ & kIerRx) && !rx_.empty()) || ((ier_ & kIerThr) && thr_interrupt_);
    if (level != irq_level_) {
        irq_level_ = level;
        irq_(level);
    }
}

}  // namespace pvhv
