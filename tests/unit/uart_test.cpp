// Unit tests of the 8250 UART model: output, line status, THR-empty interrupt, input.
#include <gtest/gtest.h>

#include <vector>

#include "hv/devices/bus.h"
#include "hv/devices/uart_8250.h"

namespace pvhv {
namespace {

struct UartFixture : ::testing::Test {
    std::string out;
    std::vector<bool> irqs;
    Uart8250 uart{[this](std::string_view s) { out.append(s); }, [this](bool l) { irqs.push_back(l); }};
    Bus bus{"pio"};
    UartFixture() { EXPECT_TRUE(bus.add(0x3f8, 8, &uart, "uart0")); }
    uint8_t in(uint16_t port) {
        uint8_t v = 0;
        EXPECT_TRUE(bus.read(port, std::span<uint8_t>(&v, 1)));
        return v;
    }
    void outb(uint16_t port, uint8_t v) { EXPECT_TRUE(bus.write(port, std::span<const uint8_t>(&v, 1))); }
};

TEST_F(UartFixture, TransmitsAndIsAlwaysReady) {
    outb(0x3f8, 'h');
    outb(0x3f8, 'i');
    EXPECT_EQ(out, "hi");
    EXPECT_EQ(in(0x3fd) & 0x60, 0x60);
}

TEST_F(UartFixture, DivisorLatchDoesNotTransmit) {
    outb(0x3fb, 0x80);  // DLAB
    outb(0x3f8, 0x01);
    EXPECT_EQ(in(0x3f8), 0x01);
    outb(0x3fb, 0x03);
    EXPECT_EQ(out, "");
}

TEST_F(UartFixture, ThrInterruptRaisedAndAcknowledged) {
    outb(0x3f9, 0x02);  // IER: THR empty
    ASSERT_FALSE(irqs.empty());
    EXPECT_TRUE(irqs.back());
    EXPECT_EQ(in(0x3fa) & 0x0f, 0x02);  // IIR says THR empty, and reading it acks
    EXPECT_FALSE(irqs.back());
    EXPECT_EQ(in(0x3fa) & 0x0f, 0x01);  // nothing pending
}

TEST_F(UartFixture, InputRaisesReceiveInterrupt) {
    outb(0x3f9, 0x01);
    uart.input("ab");
    EXPECT_TRUE(irqs.back());
    EXPECT_EQ(in(0x3fd) & 1, 1);
    EXPECT_EQ(in(0x3f8), 'a');
    EXPECT_EQ(in(0x3f8), 'b');
    EXPECT_FALSE(irqs.back());
    EXPECT_EQ(in(0x3fd) & 1, 0);
}

TEST_F(UartFixture, ReceiveFifoRefillsFromTypedInputInOrder) {
    std::string typed;
    for (int i = 0; i < 40; ++i) typed += static_cast<char>('A' + i % 26);
    EXPECT_EQ(uart.input(typed), typed.size());
    std::string got;
    while (in(0x3fd) & 1) got += static_cast<char>(in(0x3f8));
    EXPECT_EQ(got, typed);
    EXPECT_EQ(in(0x3f8), 0);  // empty RBR reads 0
}

TEST_F(UartFixture, ReceiveInterruptFollowsIerAndOutranksThr) {
    uart.input("x");
    EXPECT_TRUE(irqs.empty());           // IER = 0: data ready, but no interrupt
    EXPECT_EQ(in(0x3fd) & 1, 1);
    EXPECT_EQ(in(0x3fa) & 0x0f, 0x01);  // IIR: none pending
    outb(0x3f9, 0x03);                   // RX and THR-empty interrupts
    ASSERT_FALSE(irqs.empty());
    EXPECT_TRUE(irqs.back());
    EXPECT_EQ(in(0x3fa) & 0x0f, 0x04);  // received data first
    EXPECT_EQ(in(0x3f8), 'x');
    EXPECT_EQ(in(0x3fa) & 0x0f, 0x02);  // then THR empty (and reading IIR acks it)
    EXPECT_FALSE(irqs.back());
    outb(0x3f9, 0x00);
    uart.input("y");
    EXPECT_FALSE(irqs.back());
}

TEST_F(UartFixture, FcrClearsTheReceiveFifoNotTheTypedQueue) {
    const std::string typed = "0123456789abcdefXYZ";  // 16 in the FIFO, 3 queued behind
    uart.input(typed);
    outb(0x3fa, 0x07);  // FCR: enable, clear RX, clear TX
    std::string got;
    while (in(0x3fd) & 1) got += static_cast<char>(in(0x3f8));
    EXPECT_EQ(got, "XYZ");
}

TEST_F(UartFixture, TypedInputIsBounded) {
    const std::string flood(Uart8250::kInputLimit + Uart8250::kRxFifoSize + 100, 'z');
    EXPECT_EQ(uart.input(flood), Uart8250::kInputLimit + Uart8250::kRxFifoSize);
    EXPECT_EQ(uart.input("more"), 0u);
    in(0x3f8);
    EXPECT_EQ(uart.input("more"), 1u);  // one byte of room again
}

TEST_F(UartFixture, LoopbackOverrunSetsOeUntilLsrIsRead) {
    outb(0x3fc, 0x10);  // MCR loop
    for (int i = 0; i < 17; ++i) outb(0x3f8, static_cast<uint8_t>(i));
    EXPECT_EQ(out, "");  // loopback: nothing leaves
    EXPECT_EQ(in(0x3fd) & 0x03, 0x03);  // data ready + overrun
    EXPECT_EQ(in(0x3fd) & 0x02, 0x00);  // OE clears on read
    for (int i = 0; i < 16; ++i) EXPECT_EQ(in(0x3f8), i);
}

TEST(Bus, RejectsOverlapAndMisses) {
    Bus bus{"pio"};
    struct Null : BusDevice {
        void read(uint64_t, std::span<uint8_t>) override {}
        void write(uint64_t, std::span<const uint8_t>) override {}
    } dev;
    EXPECT_TRUE(bus.add(0x10, 8, &dev, "a"));
    EXPECT_FALSE(bus.add(0x17, 2, &dev, "b"));
    uint8_t b[2];
    EXPECT_FALSE(bus.read(0x17, std::span<uint8_t>(b, 2)));  // straddles the end
    EXPECT_FALSE(bus.read(0x20, std::span<uint8_t>(b, 1)));
}

}  // namespace
}  // namespace pvhv
