// blkback's vbd device: xenbus keys, connect/disconnect, the device thread behind event channels.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "blk_test_frontend.h"
#include "evtchn_test_fakes.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"
#include "pvdrivers/back/blk/vbd.h"

namespace pvhv::blk {
namespace {

using namespace std::chrono_literals;
using testing::FakeBlkFrontend;
using testing::FakeEvtchnGuest;
using testing::TempImage;

std::map<std::string, std::string> as_map(const back::XenbusKeys& keys) {
    return {keys.begin(), keys.end()};
}

class VbdTest : public ::testing::Test {
  protected:
    explicit VbdTest(uint32_t ring_order = 0) : fe(ring_order) {}

    void SetUp() override {
        ASSERT_TRUE(registry.add(FakeBlkFrontend::kDomId, guest.table));
        auto c = Dom0EventChannels::create(registry);
        ASSERT_TRUE(c) << c.error().message;
        dom0 = *c;
        auto p = guest.table->alloc_unbound(kDom0);  // what blkfront does for its channel
        ASSERT_TRUE(p);
        guest_port = *p;
        frontend_keys = {{"ring-ref", "8"},
                         {"event-channel", std::to_string(guest_port.value)},
                         {"protocol", "x86_64-abi"}};
    }
    void TearDown() override {
        if (vbd) vbd->disconnect();
    }

    std::unique_ptr<Vbd> make(VbdOptions o = {}) {
        if (o.path.empty()) o.path = image.path();
        o.label = "dom7 xvda";
        auto v = Vbd::create(o);
        EXPECT_TRUE(v) << v.error().message;
        return v ? std::move(*v) : nullptr;
    }
    back::FrontendConnection connection() {
        return back::FrontendConnection{
            .frontend = FakeBlkFrontend::kDomId,
            .grants = fe.table,
            .channels = dom0.get(),
            .read_frontend = [this](std::string_view k) -> std::optional<std::string> {
                auto it = frontend_keys.find(std::string(k));
                if (it == frontend_keys.end()) return std::nullopt;
                return it->second;
            },
            .fail =
                [this](std::string why) {
                    std::lock_guard lock(mu);
                    failures.push_back(std::move(why));
                    cv.notify_all();
                },
        };
    }
    void kick() { ASSERT_TRUE(guest.table->send(guest_port)); }
    // Pushes what is queued, kicks if the ring says so, and waits for `n` responses.
    std::vector<blkif_response> roundtrip(size_t n) {
        if (fe.push()) kick();
        std::vector<blkif_response> out;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
            auto more = fe.responses();
            out.insert(out.end(), more.begin(), more.end());
            if (out.size() < n) std::this_thread::sleep_for(1ms);
        }
        EXPECT_EQ(out.size(), n);
        return out;
    }
    bool wait_failure() {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, 10s, [&] { return !failures.empty(); });
    }
    size_t data_pins() {
        size_t n = 0;
        for (const auto& a : fe.table->active_refs())
            if (a.ref.value >= FakeBlkFrontend::indirect_ref(0).value) ++n;
        return n;
    }

    TempImage image{4 << 20};
    FakeBlkFrontend fe;
    FakeEvtchnGuest guest{FakeBlkFrontend::kDomId, 1};
    DomainRegistry registry;
    std::shared_ptr<Dom0EventChannels> dom0;
    EvtchnPort guest_port{};
    std::map<std::string, std::string> frontend_keys;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> failures;  // guarded by mu
    std::unique_ptr<Vbd> vbd;
};

TEST_F(VbdTest, BackendKeysOfAWritableDisk) {
    vbd = make();
    ASSERT_TRUE(vbd);
    EXPECT_EQ(vbd->type(), "vbd");
    auto k = as_map(vbd->backend_keys());
    EXPECT_EQ(k["feature-max-indirect-segments"], "256");
    EXPECT_EQ(k["max-ring-page-order"], "4");
    EXPECT_EQ(k["feature-flush-cache"], "1");
    EXPECT_EQ(k["feature-barrier"], "1");
    EXPECT_EQ(k["feature-persistent"], "1");
    auto off = make({.path = "", .max_persistent_grants = 0});
    EXPECT_EQ(as_map(off->backend_keys())["feature-persistent"], "0");
    if (vbd->disk().can_discard()) {
        EXPECT_EQ(k["feature-discard"], "1");
        EXPECT_EQ(k["discard-alignment"], "0");
        EXPECT_EQ(k["discard-secure"], "0");
        EXPECT_FALSE(k["discard-granularity"].empty());
    }
}

TEST_F(VbdTest, ReadOnlyCdromOffersNothingThatWrites) {
    vbd = make({.path = "", .read_only = false, .cdrom = true});
    ASSERT_TRUE(vbd);
    auto k = as_map(vbd->backend_keys());
    EXPECT_EQ(k["feature-flush-cache"], "0");
    EXPECT_EQ(k["feature-barrier"], "0");
    EXPECT_EQ(k["feature-discard"], "0");
    auto keys = vbd->connect(connection());
    ASSERT_TRUE(keys) << keys.error().message;
    auto c = as_map(*keys);
    EXPECT_EQ(c["info"], std::to_string(VDISK_READONLY | VDISK_CDROM));
    fe.rw(BLKIF_OP_WRITE, 1, 0, 0, 1);
    fe.rw(BLKIF_OP_READ, 2, 0, 0, 1);
    auto rsp = roundtrip(2);
    ASSERT_EQ(rsp.size(), 2u);
    EXPECT_EQ(rsp[0].status, BLKIF_RSP_ERROR);
    EXPECT_EQ(rsp[1].status, BLKIF_RSP_OKAY);
}

TEST_F(VbdTest, CreateRefusesWhatIsNotADisk) {
    auto missing = Vbd::create({.path = "/tmp/pvhv-no-such-disk"});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("/tmp/pvhv-no-such-disk"), std::string::npos);
    auto dir = Vbd::create({.path = "/tmp"});
    ASSERT_FALSE(dir);
    EXPECT_NE(dir.error().message.find("/tmp"), std::string::npos);
    auto chr = Vbd::create({.path = "/dev/null"});
    ASSERT_FALSE(chr);
    EXPECT_NE(chr.error().message.find("neither"), std::string::npos);
    EXPECT_FALSE(Vbd::create({.path = image.path(), .max_ring_page_order = 5}));
    EXPECT_FALSE(Vbd::create({.path = image.path(), .max_indirect_segments = 5000}));
}

TEST_F(VbdTest, ServesRequestsKickedThroughTheEventChannel) {
    vbd = make();
    ASSERT_TRUE(vbd);
    auto keys = vbd->connect(connection());
    ASSERT_TRUE(keys) << keys.error().message;
    auto c = as_map(*keys);
    EXPECT_EQ(c["sectors"], std::to_string((4 << 20) / 512));
    EXPECT_EQ(c["info"], "0");
    EXPECT_EQ(c["sector-size"], "512");
    EXPECT_EQ(c["physical-sector-size"], "512");

    for (int round = 0; round < 20; ++round) {
        for (uint32_t p = 0; p < 4; ++p) std::memset(fe.data_page(p), round * 4 + p, kPageSize);
        fe.rw(BLKIF_OP_WRITE, 1, round * 32, 0, 4);
        blkif_request* f = fe.next_request();
        f->operation = BLKIF_OP_FLUSH_DISKCACHE;
        f->id = 2;
        for (const auto& r : roundtrip(2)) EXPECT_EQ(r.status, BLKIF_RSP_OKAY) << "id " << r.id;
        // Only now: requests in flight together are not ordered (as on any disk).
        fe.rw(BLKIF_OP_READ, 3, round * 32, 10, 4);
        for (const auto& r : roundtrip(1)) EXPECT_EQ(r.status, BLKIF_RSP_OKAY) << "id " << r.id;
        for (uint32_t p = 0; p < 4; ++p)
            ASSERT_EQ(fe.data_page(10 + p)[100], uint8_t(round * 4 + p));
    }
    EXPECT_TRUE(guest.pending(guest_port.value));  // the back-end kicked back
    std::map<std::string, std::string> counters;
    for (auto& [k, v] : vbd->counters()) counters[k] = std::to_string(v);
    EXPECT_EQ(counters["writes"], "20");
    EXPECT_EQ(counters["flushes"], "20");
    EXPECT_NE(counters["kicks_in"], "0");
    EXPECT_NE(counters["kicks_out"], "0");
    EXPECT_EQ(counters["bytes_read"], std::to_string(20 * 4 * kPageSize));
    vbd->disconnect();
    vbd->disconnect();  // idempotent
    EXPECT_EQ(guest.table->status(guest_port)->state, PortState::Unbound);
    EXPECT_TRUE(fe.table->active_refs().empty());
}

TEST_F(VbdTest, PersistentGrantsWhenTheFrontEndAgrees) {
    vbd = make();
    frontend_keys["feature-persistent"] = "1";
    ASSERT_TRUE(vbd->connect(connection()));
    for (int i = 0; i < 3; ++i) {
        fe.rw(BLKIF_OP_WRITE, 1, 0, 0, 4);
        auto rsp = roundtrip(1);
        ASSERT_EQ(rsp.size(), 1u);
        EXPECT_EQ(rsp[0].status, BLKIF_RSP_OKAY);
    }
    const auto list = vbd->counters();
    std::map<std::string, uint64_t> c(list.begin(), list.end());
    EXPECT_EQ(c["persistent_grants"], 4u);
    EXPECT_EQ(c["grant_maps"], 0u);
    EXPECT_EQ(data_pins(), 4u);  // kept between requests
    vbd->disconnect();
    EXPECT_TRUE(fe.table->active_refs().empty());
    // Without the front-end's key: per-request maps.
    frontend_keys["feature-persistent"] = "0";
    ASSERT_TRUE(vbd->connect(connection()));
    fe.rw(BLKIF_OP_WRITE, 2, 0, 0, 4);
    EXPECT_EQ(roundtrip(1).size(), 1u);
    EXPECT_EQ(data_pins(), 0u);
}

TEST_F(VbdTest, ReconnectsAfterADisconnect) {
    vbd = make();
    ASSERT_TRUE(vbd->connect(connection()));
    EXPECT_FALSE(vbd->connect(connection()));  // already connected
    fe.rw(BLKIF_OP_READ, 1, 0, 0, 1);
    EXPECT_EQ(roundtrip(1).size(), 1u);
    vbd->disconnect();
    ASSERT_TRUE(vbd->connect(connection()));  // the same ring, picked up where it was
    fe.rw(BLKIF_OP_READ, 2, 0, 0, 1);
    auto rsp = roundtrip(1);
    ASSERT_EQ(rsp.size(), 1u);
    EXPECT_EQ(rsp[0].id, 2u);
}

TEST_F(VbdTest, ConnectRefusalsLeaveNothingMappedOrBound) {
    vbd = make();
    auto expect_refused = [&](const char* what, const char* message_part) {
        auto r = vbd->connect(connection());
        ASSERT_FALSE(r) << what;
        EXPECT_NE(r.error().message.find(message_part), std::string::npos)
            << what << ": " << r.error().message;
        EXPECT_TRUE(fe.table->active_refs().empty()) << what;
        EXPECT_EQ(guest.table->status(guest_port)->state, PortState::Unbound) << what;
    };
    frontend_keys["protocol"] = "x86_32-abi";
    expect_refused("32-bit protocol", "x86_32-abi");
    frontend_keys["protocol"] = "x86_64-abi";
    frontend_keys["ring-ref"] = "8x";
    expect_refused("bad number", "not a number");
    frontend_keys.erase("ring-ref");
    expect_refused("no ring-ref", "ring-ref");
    frontend_keys["ring-ref"] = "8";
    frontend_keys["ring-page-order"] = "5";
    expect_refused("order above the maximum", "ring-page-order");
    frontend_keys["ring-page-order"] = "1";  // two pages, ring-ref0/1 missing
    expect_refused("order without refs", "ring-ref0");
    frontend_keys.erase("ring-page-order");
    fe.ungrant(FakeBlkFrontend::ring_ref(0));
    expect_refused("ring not granted", "ring grant ref 8");
    fe.grant(FakeBlkFrontend::ring_ref(0), FakeBlkFrontend::kRingGfn);
    frontend_keys["event-channel"] = "4000";
    expect_refused("port not offered to dom0", "event-channel");
    frontend_keys["event-channel"] = std::to_string(guest_port.value);
    EXPECT_TRUE(vbd->connect(connection()));
}

TEST_F(VbdTest, HostileProducerIndexFailsTheDevice) {
    vbd = make();
    ASSERT_TRUE(vbd->connect(connection()));
    std::atomic_ref<RING_IDX>(fe.sring->req_prod).store(5000);
    kick();
    ASSERT_TRUE(wait_failure());
    {
        std::lock_guard lock(mu);
        EXPECT_NE(failures[0].find("req_prod"), std::string::npos);
    }
    vbd->disconnect();
    EXPECT_TRUE(fe.table->active_refs().empty());
}

// Stopping while the kernel still has I/O for guest pages: it completes first, nothing is
// answered after disconnect() returns, and every page is unpinned.
TEST_F(VbdTest, DisconnectWithIoInFlight) {
    vbd = make();
    ASSERT_TRUE(vbd->connect(connection()));
    for (uint32_t i = 0; i < 32; ++i) fe.rw(i % 2 ? BLKIF_OP_READ : BLKIF_OP_WRITE, i, i * 88, (i % 16) * 11, 11);
    if (fe.push()) kick();
    vbd->disconnect();
    const RING_IDX published = fe.sring->rsp_prod;
    EXPECT_LE(published, 32u);
    EXPECT_EQ(data_pins(), 0u);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(fe.sring->rsp_prod, published);
}

// A front-end that rewrites its ring (requests and indexes) while the back-end serves it.
TEST_F(VbdTest, ARingThatChangesUnderTheBackEndDoesNoHarm) {
    vbd = make();
    ASSERT_TRUE(vbd->connect(connection()));
    std::atomic<bool> stop{false};
    std::thread scribbler([&] {
        std::mt19937 rng(99);
        auto* bytes = reinterpret_cast<uint8_t*>(fe.sring);
        while (!stop.load()) {
            for (int i = 0; i < 64; ++i)
                std::atomic_ref<uint8_t>(bytes[64 + rng() % (kPageSize - 64)]).store(uint8_t(rng()));
            if (rng() % 4 == 0)
                std::atomic_ref<RING_IDX>(fe.sring->req_prod).store(fe.sring->rsp_prod + rng() % 33);
            (void)guest.table->send(guest_port);
            std::this_thread::sleep_for(100us);
        }
    });
    std::this_thread::sleep_for(300ms);
    stop = true;
    scribbler.join();
    vbd->disconnect();
    EXPECT_EQ(data_pins(), 0u);
    EXPECT_TRUE(fe.table->active_refs().empty());
}

class VbdMultiPageTest : public VbdTest {
  protected:
    VbdMultiPageTest() : VbdTest(2) {}
};

TEST_F(VbdMultiPageTest, FourPageRingThroughRingRefN) {
    frontend_keys.erase("ring-ref");
    frontend_keys["ring-page-order"] = "2";
    for (uint32_t i = 0; i < 4; ++i)
        frontend_keys["ring-ref" + std::to_string(i)] =
            std::to_string(FakeBlkFrontend::ring_ref(i).value);
    vbd = make();
    ASSERT_TRUE(vbd->connect(connection()));
    for (uint32_t i = 0; i < 100; ++i) fe.rw(BLKIF_OP_READ, i, i, i, 1);
    auto rsp = roundtrip(100);
    for (const auto& r : rsp) EXPECT_EQ(r.status, BLKIF_RSP_OKAY);
}

}  // namespace
}  // namespace pvhv::blk
