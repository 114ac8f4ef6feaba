// libFuzzer target: arbitrary netif TX/RX ring contents, grants and host frames through VifBackend.
//
// Each input sets up a guest's grant entries, both ring pages (indexes and slots) and the
// front-end's feature keys, attaches the real back-end and runs a few synchronous service
// passes (process_once: TX parsing, grant copies, frames to the port, frames from the port
// into RX buffers), with the guest rewriting ring bytes and indexes in between. Checked after
// every pass: pins are released (only the two ring pages stay mapped), pages the guest did not
// grant writable to dom0 are never written, frames sent have possible sizes, and a failed
// front-end's rings are never touched again.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pvdrivers/back/net/vif_backend.h"
#include "tests/unit/net_fake_frontend.h"

namespace {

using namespace pvhv;
using testing::FakeNetfront;
using testing::FakePacketPort;

constexpr uint32_t kBufRefs = 16;  // TX refs 100.., RX refs 400.., one page each
constexpr uint8_t kCanary = 0xa5;

// memcpy from ConsumeBytes' result, which is empty (data() null) when the input ran out.
void copy_in(uint8_t* dst, const std::vector<uint8_t>& bytes, size_t max) {
    if (!bytes.empty()) std::memcpy(dst, bytes.data(), std::min(bytes.size(), max));
}

[[noreturn]] void die(const char* why) {
    std::fprintf(stderr, "netif_ring_fuzz: %s\n", why);
    std::abort();
}

struct World {
    FakeNetfront fe;
    FakePacketPort* port = nullptr;
    std::unique_ptr<net::VifBackend> vif;
};

World& world() {
    static World* w = [] {
        auto* w = new World;  // lives for the process: reused by every input
        auto port = std::make_unique<FakePacketPort>();
        w->port = port.get();
        net::VifOptions o;
        o.domid = FakeNetfront::kDomid;
        o.mac = *net::parse_mac("00:16:3e:00:00:07");
        auto v = net::VifBackend::create_with_port(o, std::move(port));
        if (!v) die("create_with_port");
        w->vif = std::move(*v);
        return w;
    }();
    return *w;
}

// A grant entry the guest might write for a buffer page: usually fine, sometimes not.
void fuzz_grant(FakeNetfront& fe, FuzzedDataProvider& in, uint32_t ref, uint64_t gfn) {
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
        case 0: fe.revoke(ref); break;
        case 1: fe.grant(ref, gfn, false, /*to=*/3); break;           // another domain
        case 2: fe.grant(ref, 0xfffff, false); break;                  // not guest RAM
        case 3: fe.grant(ref, gfn, true); break;                        // read-only
        default: fe.grant(ref, gfn, false); break;                     // writable for dom0
    }
}

bool writable_for_dom0(FakeNetfront& fe, uint32_t ref, uint64_t gfn) {
    const grant_entry_v1_t* e = fe.entry(ref);
    return (e->flags & GTF_permit_access) && !(e->flags & GTF_readonly) && e->domid == 0 &&
           e->frame == gfn;
}

// Ring slots from the input, with grant refs steered towards the buffer refs most of the time.
void fill_ring(FuzzedDataProvider& in, uint8_t* page, size_t entry_size, size_t gref_offset,
               uint32_t ref_base) {
    const size_t n = in.ConsumeIntegralInRange<size_t>(0, 256);
    for (size_t k = 0; k < n; ++k) {
        uint8_t* slot = page + 64 + (k % 256) * entry_size;
        copy_in(slot, in.ConsumeBytes<uint8_t>(entry_size), entry_size);
        if (in.ConsumeBool()) {
            uint32_t gref = 0;
            std::memcpy(&gref, slot + gref_offset, 4);
            gref = ref_base + gref % (kBufRefs + 2);  // two refs past the granted ones
            std::memcpy(slot + gref_offset, &gref, 4);
        }
    }
}

// Ring header: indexes near each other usually, anywhere sometimes.
void fill_header(FuzzedDataProvider& in, uint8_t* page) {
    const uint32_t base = in.ConsumeIntegral<uint32_t>();
    const uint32_t rsp = in.ConsumeBool() ? base : in.ConsumeIntegral<uint32_t>();
    const uint32_t req = in.ConsumeBool() ? base + in.ConsumeIntegralInRange<uint32_t>(0, 300)
                                          : in.ConsumeIntegral<uint32_t>();
    const uint32_t words[4] = {req, in.ConsumeIntegral<uint32_t>(), rsp,
                               in.ConsumeIntegral<uint32_t>()};
    std::memcpy(page, words, sizeof words);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    World& w = world();
    FakeNetfront& fe = w.fe;
    FuzzedDataProvider in(data, size);
    w.vif->disconnect();

    for (uint32_t i = 0; i < kBufRefs; ++i) {
        fuzz_grant(fe, in, FakeNetfront::kTxBufRef + i, FakeNetfront::kTxBufGfn + i);
        fuzz_grant(fe, in, FakeNetfront::kRxBufRef + i, FakeNetfront::kRxBufGfn + i);
    }
    for (uint32_t i = 0; i < kBufRefs; ++i) {
        const size_t n = in.ConsumeIntegralInRange<size_t>(0, 64);
        copy_in(fe.page(FakeNetfront::kTxBufGfn + i), in.ConsumeBytes<uint8_t>(n), n);
    }
    uint8_t* tx_page = fe.page(FakeNetfront::kTxRingGfn);
    uint8_t* rx_page = fe.page(FakeNetfront::kRxRingGfn);
    std::memset(tx_page, 0, kPageSize);
    std::memset(rx_page, 0, kPageSize);
    fill_header(in, tx_page);
    fill_header(in, rx_page);
    fill_ring(in, tx_page, sizeof(netif_tx_sring_entry), 0, FakeNetfront::kTxBufRef);
    fill_ring(in, rx_page, sizeof(netif_rx_sring_entry), 4, FakeNetfront::kRxBufRef);
    fe.keys["feature-sg"] = in.ConsumeBool() ? "1" : "0";
    fe.keys["feature-no-csum-offload"] = in.ConsumeBool() ? "1" : "0";
    fe.keys["feature-ipv6-csum-offload"] = in.ConsumeBool() ? "1" : "0";

    // Pages the back-end must never write: canaries.
    std::vector<uint64_t> guarded;
    for (uint32_t i = 0; i < kBufRefs; ++i) {
        // Each buffer page is named by its own ref only (TX pages may be RX targets too).
        if (!writable_for_dom0(fe, FakeNetfront::kTxBufRef + i, FakeNetfront::kTxBufGfn + i))
            guarded.push_back(FakeNetfront::kTxBufGfn + i);
        if (!writable_for_dom0(fe, FakeNetfront::kRxBufRef + i, FakeNetfront::kRxBufGfn + i))
            guarded.push_back(FakeNetfront::kRxBufGfn + i);
    }
    std::vector<std::vector<uint8_t>> before;
    for (uint64_t gfn : guarded) {
        if (gfn >= FakeNetfront::kRxBufGfn) std::memset(fe.page(gfn), kCanary, kPageSize);
        before.emplace_back(fe.page(gfn), fe.page(gfn) + kPageSize);
    }

    w.port->fail_sends = in.ConsumeIntegralInRange<int>(0, 15) == 0;
    if (!w.vif->attach(fe.connection())) return 0;

    const int rounds = in.ConsumeIntegralInRange<int>(1, 4);
    for (int r = 0; r < rounds; ++r) {
        for (int f = in.ConsumeIntegralInRange<int>(0, 3); f > 0; --f) {
            auto bytes = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 9100));
            net::PacketMeta meta;
            meta.csum = static_cast<net::PacketMeta::Csum>(in.ConsumeIntegralInRange<int>(0, 2));
            meta.spot = net::ChecksumSpot{in.ConsumeIntegral<uint16_t>(), in.ConsumeIntegral<uint16_t>()};
            w.port->inject(std::move(bytes), meta);
        }
        const bool was_failed = w.vif->failed();
        const std::vector<uint8_t> tx_ring(tx_page, tx_page + kPageSize);
        const std::vector<uint8_t> rx_ring(rx_page, rx_page + kPageSize);
        w.vif->process_once();
        if (was_failed && (std::memcmp(tx_ring.data(), tx_page, kPageSize) != 0 ||
                           std::memcmp(rx_ring.data(), rx_page, kPageSize) != 0))
            die("a failed front-end's rings were written");
        if (fe.table->active_refs().size() != 2) die("a buffer grant stayed pinned");
        for (const auto& f : w.port->sent())
            if (f.bytes.size() < net::kEthHeaderLen || f.bytes.size() > net::kMaxPacketLen)
                die("a frame of impossible size was sent");
        w.port->clear_sent();
        // Between passes the guest scribbles on its rings.
        if (in.ConsumeBool()) {
            uint8_t* page = in.ConsumeBool() ? tx_page : rx_page;
            const size_t at = in.ConsumeIntegralInRange<size_t>(0, kPageSize - 1);
            const size_t n = in.ConsumeIntegralInRange<size_t>(0, 32);
            copy_in(page + at, in.ConsumeBytes<uint8_t>(n), kPageSize - at);
        }
    }
    for (size_t i = 0; i < guarded.size(); ++i)
        if (std::memcmp(before[i].data(), fe.page(guarded[i]), kPageSize) != 0)
            die("a page not granted writable to dom0 was written");
    // Drain what the port still holds so the next input starts empty.
    std::vector<uint8_t> sink(70000);
    net::PacketMeta meta;
    while (w.port->waiting() > 0) (void)w.port->receive(sink, meta);
    w.vif->disconnect();
    if (!fe.table->active_refs().empty()) die("ring pages stayed mapped after disconnect");
    return 0;
}
