// Unit tests of the PV console rings and back-end core over a page in host memory.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "hv/xen_public.h"
#include <xen/io/console.h>

#include "pvdrivers/back/console/console_backend.h"
#include "pvdrivers/back/console/console_ring.h"

namespace pvhv::console {
namespace {

// A console page plus what a guest's driver (Linux's hvc_xen) does to it.
struct GuestPage {
    alignas(4096) std::array<uint8_t, 4096> bytes{};
    xencons_interface& intf() { return *reinterpret_cast<xencons_interface*>(bytes.data()); }
    std::span<uint8_t> span() { return bytes; }

    // Writes into the out ring as the guest does; returns how many fitted.
    size_t write(std::string_view s) {
        auto& i = intf();
        size_t n = 0;
        while (n < s.size() && i.out_prod - i.out_cons < sizeof i.out)
            i.out[MASK_XENCONS_IDX(i.out_prod++, i.out)] = s[n++];
        return n;
    }
    // Reads everything in the in ring as the guest does.
    std::string read() {
        auto& i = intf();
        std::string s;
        while (i.in_cons != i.in_prod) s += i.in[MASK_XENCONS_IDX(i.in_cons++, i.in)];
        return s;
    }
};

std::string pattern(size_t n, size_t seed = 0) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
    return s;
}

TEST(ConsoleRing, ClearPageEmptiesEverything) {
    GuestPage g;
    g.bytes.fill(0xab);
    clear_page(g.span());
    for (uint8_t b : g.bytes) ASSERT_EQ(b, 0);
}

TEST(ConsoleRing, AttachChecksThePage) {
    GuestPage g;
    EXPECT_FALSE(ConsoleRing::attach(g.span().first(100)));
    EXPECT_FALSE(ConsoleRing::attach(g.span().subspan(1, 4000)));
    EXPECT_TRUE(ConsoleRing::attach(g.span()));
}

TEST(ConsoleRing, ReadsOutputOnceAndPublishesCons) {
    GuestPage g;
    auto ring = *ConsoleRing::attach(g.span());
    EXPECT_FALSE(ring.guest_active());
    std::string out;
    EXPECT_EQ(ring.read_output(out).bytes, 0u);
    ASSERT_EQ(g.write("hello\n"), 6u);
    const RingPass p = ring.read_output(out);
    EXPECT_EQ(p.bytes, 6u);
    EXPECT_FALSE(p.hostile);
    EXPECT_EQ(out, "hello\n");
    EXPECT_EQ(g.intf().out_cons, 6u);
    EXPECT_TRUE(ring.guest_active());
    EXPECT_EQ(ring.read_output(out).bytes, 0u);  // nothing twice
    EXPECT_EQ(out, "hello\n");
}

TEST(ConsoleRing, OutputWrapsAtTheRingEndAndAtTheIndexLimit) {
    for (uint32_t start : {2000u, 0xfffffff0u}) {
        GuestPage g;
        g.intf().out_cons = g.intf().out_prod = start;
        auto ring = *ConsoleRing::attach(g.span());
        const std::string msg = pattern(kOutRingSize);  // a full ring, split by the end
        ASSERT_EQ(g.write(msg), msg.size());
        EXPECT_EQ(g.write("x"), 0u);
        std::string out;
        EXPECT_EQ(ring.read_output(out).bytes, kOutRingSize);
        EXPECT_EQ(out, msg) << "start " << start;
        EXPECT_EQ(g.intf().out_cons, start + kOutRingSize);
    }
}

TEST(ConsoleRing, HostileOutProdIsLeftAloneUntilRepaired) {
    GuestPage g;
    auto ring = *ConsoleRing::attach(g.span());
    g.intf().out_prod = 100000;
    std::string out;
    RingPass p = ring.read_output(out);
    EXPECT_TRUE(p.hostile);
    EXPECT_EQ(p.bytes, 0u);
    EXPECT_EQ(p.guest_index, 100000u);
    EXPECT_EQ(g.intf().out_cons, 0u);
    g.intf().out_prod = kOutRingSize + 1;  // one more than a ring: still impossible
    EXPECT_TRUE(ring.read_output(out).hostile);
    g.intf().out_prod = 0;  // the guest repairs it
    ASSERT_EQ(g.write("ok"), 2u);
    p = ring.read_output(out);
    EXPECT_FALSE(p.hostile);
    EXPECT_EQ(out, "ok");
}

TEST(ConsoleRing, OurIndexesNeverComeBackFromThePage) {
    GuestPage g;
    auto ring = *ConsoleRing::attach(g.span());
    ASSERT_EQ(g.write("abc"), 3u);
    std::string out;
    ring.read_output(out);
    // The guest rewinds out_cons (which it does not own) to re-read old bytes: no effect.
    g.intf().out_cons = 0;
    EXPECT_EQ(ring.read_output(out).bytes, 0u);
    // And moves in_prod: our writes still continue from our own index.
    g.intf().in_prod = 700;
    EXPECT_EQ(ring.write_input("xy").bytes, 2u);
    EXPECT_EQ(g.intf().in_prod, 2u);
    EXPECT_EQ(g.intf().in[0], 'x');
}

TEST(ConsoleRing, InputFillsTheFreeSpaceAndWraps) {
    GuestPage g;
    g.intf().in_cons = g.intf().in_prod = 1000;
    auto ring = *ConsoleRing::attach(g.span());
    const std::string big = pattern(1500);
    RingPass p = ring.write_input(big);
    EXPECT_EQ(p.bytes, kInRingSize);
    EXPECT_EQ(g.intf().in_prod, 1000u + kInRingSize);
    EXPECT_EQ(ring.write_input("more").bytes, 0u);  // full
    EXPECT_EQ(g.read(), big.substr(0, kInRingSize));
    EXPECT_EQ(ring.write_input(big.substr(kInRingSize)).bytes, big.size() - kInRingSize);
    EXPECT_EQ(g.read(), big.substr(kInRingSize));
    EXPECT_TRUE(ring.guest_active());  // it consumed input
}

TEST(ConsoleRing, HostileInConsIsLeftAlone) {
    GuestPage g;
    auto ring = *ConsoleRing::attach(g.span());
    g.intf().in_cons = 5000;  // past our in_prod (0)
    const RingPass p = ring.write_input("abc");
    EXPECT_TRUE(p.hostile);
    EXPECT_EQ(p.bytes, 0u);
    EXPECT_EQ(g.intf().in_prod, 0u);
    EXPECT_TRUE(ring.check_input().hostile);
    g.intf().in_cons = 0;
    EXPECT_EQ(ring.write_input("abc").bytes, 3u);
}

// --- ConsoleBackend ------------------------------------------------------------------------

struct BackendFixture : ::testing::Test {
    GuestPage g;
    std::vector<std::string> outputs;  // one entry per output() call
    int kicks = 0;
    ConsoleBackend backend{*ConsoleRing::attach(g.span()),
                           [this](std::string_view s) { outputs.emplace_back(s); },
                           [this] { ++kicks; }, "dom1 (test) console"};
};

TEST_F(BackendFixture, NothingToDoMeansNoKick) {
    EXPECT_FALSE(backend.service());
    EXPECT_TRUE(outputs.empty());
    EXPECT_EQ(kicks, 0);
    EXPECT_FALSE(backend.guest_active());
}

TEST_F(BackendFixture, OutputIsOneBatchPerServiceAndKicksOnce) {
    ASSERT_EQ(g.write("line one\nline two\n"), 18u);
    ASSERT_EQ(g.write(pattern(1000)), 1000u);
    EXPECT_FALSE(backend.service());
    ASSERT_EQ(outputs.size(), 1u);
    EXPECT_EQ(outputs[0], "line one\nline two\n" + pattern(1000));
    EXPECT_EQ(kicks, 1);  // space was freed: a guest waiting for it wakes
    EXPECT_TRUE(backend.guest_active());
    EXPECT_EQ(backend.stats().output_bytes, 1018u);
}

TEST_F(BackendFixture, AWriteLargerThanTheRingArrivesWhole) {
    const std::string msg = pattern(5000, 3);
    size_t sent = 0;
    std::string got;
    while (sent < msg.size()) {
        const size_t n = g.write(std::string_view(msg).substr(sent));
        ASSERT_GT(n, 0u);
        sent += n;
        const int before = kicks;
        backend.service();
        EXPECT_EQ(kicks, before + 1);  // the guest's wait for space ends
    }
    for (const auto& o : outputs) got += o;
    EXPECT_EQ(got, msg);
}

TEST_F(BackendFixture, InputIsQueuedBoundedAndWrittenAsSpaceAllows) {
    const std::string typed = pattern(3000, 5);
    EXPECT_EQ(backend.queue_input(typed), typed.size());
    EXPECT_EQ(kicks, 1);
    EXPECT_EQ(g.intf().in_prod, kInRingSize);
    std::string got = g.read();
    backend.service();  // the guest made room (and would have kicked)
    EXPECT_EQ(kicks, 2);
    got += g.read();
    backend.service();
    got += g.read();
    EXPECT_EQ(got, typed);
    EXPECT_EQ(kicks, 3);
    backend.service();  // nothing left, nothing moved
    EXPECT_EQ(kicks, 3);

    // A guest that never reads: the queue stops at its bound and the rest is dropped.
    const std::string flood(ConsoleBackend::kMaxQueuedInput * 2, 'z');
    EXPECT_EQ(backend.queue_input(flood), ConsoleBackend::kMaxQueuedInput);
    EXPECT_EQ(backend.queue_input(flood), kInRingSize);  // what the ring took meanwhile
    EXPECT_EQ(backend.queue_input("more"), 0u);
    EXPECT_EQ(backend.stats().input_dropped,
              2 * flood.size() - ConsoleBackend::kMaxQueuedInput - kInRingSize + 4);
}

TEST_F(BackendFixture, HostileRingsAreLoggedOncePerEpisodeAndNeverKick) {
    ::testing::internal::CaptureStderr();
    g.intf().out_prod = 0x7fffffff;
    g.intf().in_cons = 9999;
    backend.queue_input("typed");
    for (int i = 0; i < 50; ++i) backend.service();
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(kicks, 0);
    EXPECT_TRUE(outputs.empty());
    const auto count = [&](const std::string& what) {
        size_t n = 0;
        for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count("hostile ring indexes"), 2u) << log;
    EXPECT_EQ(count("out_prod 2147483647 is more than 2048 bytes past out_cons 0"), 1u) << log;
    EXPECT_EQ(count("in_cons 9999 is past in_prod 0"), 1u) << log;
    EXPECT_EQ(backend.stats().hostile_out, 50u);
    EXPECT_GE(backend.stats().hostile_in, 50u);

    // Repaired: output flows and the queued input is delivered.
    g.intf().out_prod = 0;
    g.intf().in_cons = 0;
    ASSERT_EQ(g.write("back"), 4u);
    backend.service();
    ASSERT_EQ(outputs.size(), 1u);
    EXPECT_EQ(outputs[0], "back");
    EXPECT_EQ(g.read(), "typed");
    EXPECT_EQ(kicks, 1);
}

TEST_F(BackendFixture, DetachedBackendTouchesNothing) {
    backend.queue_input(pattern(2000));  // half stays queued
    const int kicks_before = kicks;
    backend.detach();
    g.read();
    ASSERT_EQ(g.write("late"), 4u);
    EXPECT_FALSE(backend.service());
    EXPECT_EQ(backend.queue_input("x"), 0u);
    EXPECT_TRUE(outputs.empty());
    EXPECT_EQ(kicks, kicks_before);
    EXPECT_EQ(g.intf().out_cons, 0u);
    EXPECT_EQ(backend.stats().input_dropped, 2000u - kInRingSize + 1);
}

}  // namespace
}  // namespace pvhv::console
