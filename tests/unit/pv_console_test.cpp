// Unit tests of PvConsole: the console event channel to a fake guest and the wait on Asio.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>

#include "evtchn_test_fakes.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"
#include "hv/xen_public.h"
#include <xen/io/console.h>
#include "pvdrivers/back/console/pv_console.h"

namespace pvhv::console {
namespace {

using pvhv::testing::FakeEvtchnGuest;

class PvConsoleTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(registry.add(DomId{1}, guest.table));
        channels = *Dom0EventChannels::create(registry);
        page.fill(0xcc);  // stale contents: create() must clear them
        auto c = PvConsole::create(io, *channels,
                                   PvConsole::Params{DomId{1}, page, Gfn{0xfeff1}, "dom1 console",
                                                     [this](std::string_view s) { out += s; }});
        ASSERT_TRUE(c) << c.error().message;
        console = *c;
        io.poll();  // the first wake-up of a fresh binding finds nothing
        guest.sink.raised.clear();
    }

    xencons_interface& intf() { return *reinterpret_cast<xencons_interface*>(page.data()); }
    void guest_write(std::string_view s) {
        for (char c : s) intf().out[MASK_XENCONS_IDX(intf().out_prod++, intf().out)] = c;
    }
    void guest_kick() { ASSERT_TRUE(guest.table->send(console->guest_port())); }

    boost::asio::io_context io;
    DomainRegistry registry;
    FakeEvtchnGuest guest{DomId{1}, 1};
    std::shared_ptr<Dom0EventChannels> channels;
    alignas(4096) std::array<uint8_t, 4096> page{};
    std::string out;
    std::shared_ptr<PvConsole> console;
};

TEST_F(PvConsoleTest, SetupClearsThePageAndBindsTheGuestsPortToDom0) {
    for (size_t i = 0; i < sizeof(xencons_interface); ++i) ASSERT_EQ(page[i], 0) << i;
    EXPECT_EQ(console->ring_gfn(), Gfn{0xfeff1});
    auto st = guest.table->status(console->guest_port());
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, PortState::Interdomain);
    EXPECT_EQ(st->remote_dom, kDom0);
    EXPECT_FALSE(console->guest_active());
}

TEST_F(PvConsoleTest, GuestKickDeliversOutputAndKicksBack) {
    guest_write("hello from the ring\n");
    guest_kick();
    io.poll();
    EXPECT_EQ(out, "hello from the ring\n");
    EXPECT_EQ(intf().out_cons, intf().out_prod);
    EXPECT_TRUE(guest.pending(console->guest_port().value));  // "space freed"
    EXPECT_EQ(guest.sink.raised.size(), 1u);
    EXPECT_TRUE(console->guest_active());
}

TEST_F(PvConsoleTest, InputReachesTheInRingAndKicks) {
    EXPECT_EQ(console->input("ls\r"), 3u);
    EXPECT_EQ(intf().in_prod, 3u);
    EXPECT_EQ(std::string(intf().in, 3), "ls\r");
    EXPECT_EQ(guest.sink.raised.size(), 1u);
}

TEST_F(PvConsoleTest, FlushReadsWithoutAKick) {
    guest_write("last words");  // written, then SCHEDOP_shutdown before any kick is seen
    console->flush();
    EXPECT_EQ(out, "last words");
}

TEST_F(PvConsoleTest, StopFlushesClosesThePortAndIgnoresLaterKicks) {
    guest_write("bye\n");
    console->stop();
    EXPECT_EQ(out, "bye\n");
    auto st = guest.table->status(console->guest_port());
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, PortState::Unbound);  // dom0's end is gone
    guest_write("after stop\n");
    EXPECT_TRUE(guest.table->send(console->guest_port()));  // dropped, as Xen does
    io.poll();
    EXPECT_EQ(out, "bye\n");
    EXPECT_EQ(console->input("x"), 0u);
    console.reset();
    io.poll();  // the cancelled wait completes without touching anything
}

}  // namespace
}  // namespace pvhv::console
