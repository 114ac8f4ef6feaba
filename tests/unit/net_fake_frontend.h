// A fake netfront for netback tests and the fuzzer: guest RAM, grants, event channels, rings, a port.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// The front-ring macros need the barriers a guest kernel would define.
#ifndef xen_mb
#define xen_mb() std::atomic_thread_fence(std::memory_order_seq_cst)
#define xen_rmb() std::atomic_thread_fence(std::memory_order_acquire)
#define xen_wmb() std::atomic_thread_fence(std::memory_order_release)
#endif

#include "evtchn_test_fakes.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"
#include "hv/gnttab/grant_access.h"
#include "hv/gnttab/grant_table.h"
#include "hv/unique_fd.h"
#include "pvdrivers/back/net/netif_tx.h"
#include "pvdrivers/back/net/packet_port.h"
#include "pvdrivers/back/xenbus/backend_device.h"

namespace pvhv::testing {

// A TX request as a front-end (or a hostile one) writes it.
inline netif_tx_request_t tx_request(uint32_t gref, uint16_t offset, uint16_t size,
                                     uint16_t flags, uint16_t id) {
    netif_tx_request_t r{};
    r.gref = gref;
    r.offset = offset;
    r.size = size;
    r.flags = flags;
    r.id = id;
    return r;
}

// An extra-info slot in a TX ring slot (GSO fields filled for XEN_NETIF_EXTRA_TYPE_GSO).
inline netif_tx_request_t tx_extra(uint8_t type, uint8_t flags) {
    netif_extra_info_t e{};
    e.type = type;
    e.flags = flags;
    if (type == XEN_NETIF_EXTRA_TYPE_GSO) {
        e.u.gso.size = 1400;
        e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    }
    netif_tx_request_t r{};
    std::memcpy(&r, &e, sizeof e);
    return r;
}

// A back-end counter by name; UINT64_MAX when there is none.
inline uint64_t device_counter(const back::BackendDevice& d, std::string_view name) {
    for (const auto& [k, n] : d.counters())
        if (k == name) return n;
    return UINT64_MAX;
}

// The host side of a vif in memory: frames the back-end sends are recorded, frames injected
// are what it receives. fd() is an eventfd, readable while injected frames wait, so the
// service thread's poll works as with a TAP. Thread-safe (the service thread vs. the test).
class FakePacketPort final : public net::PacketPort {
  public:
    struct Frame {
        std::vector<uint8_t> bytes;
        net::PacketMeta meta;
    };

    explicit FakePacketPort(bool offload = true) : offload_(offload) {
        efd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    }

    int fd() const override { return efd_.get(); }
    Result<size_t> receive(std::span<uint8_t> buf, net::PacketMeta& meta) override {
        std::lock_guard lock(mu_);
        if (inbound_.empty()) return size_t{0};
        Frame f = std::move(inbound_.front());
        inbound_.pop_front();
        if (inbound_.empty()) {
            uint64_t v;
            (void)!::read(efd_.get(), &v, sizeof v);
        }
        if (!f.bytes.empty())
            std::memcpy(buf.data(), f.bytes.data(), std::min(buf.size(), f.bytes.size()));
        meta = f.meta;
        return f.bytes.size();
    }
    Result<void> send(std::span<const uint8_t> frame, const net::PacketMeta& meta) override {
        std::function<void()> hook;
        {
            std::lock_guard lock(mu_);
            if (fail_sends) return fail(XEN_EIO, "fake port refuses frames");
            sent_.push_back(Frame{{frame.begin(), frame.end()}, meta});
            hook = on_send;
        }
        if (hook) hook();
        return {};
    }
    bool checksum_offload() const override { return offload_; }
    const std::string& name() const override { return name_; }

    void inject(std::vector<uint8_t> bytes, net::PacketMeta meta = {}) {
        std::lock_guard lock(mu_);
        inbound_.push_back(Frame{std::move(bytes), meta});
        const uint64_t one = 1;
        (void)!::write(efd_.get(), &one, sizeof one);
    }
    std::vector<Frame> sent() const {
        std::lock_guard lock(mu_);
        return sent_;
    }
    void clear_sent() {
        std::lock_guard lock(mu_);
        sent_.clear();
    }
    size_t sent_count() const {
        std::lock_guard lock(mu_);
        return sent_.size();
    }
    size_t waiting() const {
        std::lock_guard lock(mu_);
        return inbound_.size();
    }

    // Test knobs, set before the back-end runs.
    bool fail_sends = false;
    std::function<void()> on_send;  // called inside send(), after recording

  private:
    const bool offload_;
    std::string name_ = "fakeport";
    mutable std::mutex mu_;
    std::deque<Frame> inbound_;
    std::vector<Frame> sent_;
    UniqueFd efd_;
};

// A guest (domid 7) with a netfront's view of one vif: RAM, a grant table, event channels
// through a registry with dom0, the TX and RX shared rings in granted pages, and TX/RX buffers.
// Page map (gfn): 0x100 TX ring, 0x101 RX ring, 0x110.. TX buffers (128), 0x200.. RX buffers
// (one per RX ring slot). Grant refs: 8 TX ring, 9 RX ring, 100+ TX buffers, 400+ RX buffers.
class FakeNetfront {
  public:
    static constexpr DomId kDomid{7};
    static constexpr uint64_t kRamEnd = 0x400000;
    static constexpr uint32_t kTxRingGfn = 0x100, kRxRingGfn = 0x101;
    static constexpr uint32_t kTxBufGfn = 0x110, kTxBufs = 128, kRxBufGfn = 0x200;
    static constexpr uint32_t kTxRingRef = 8, kRxRingRef = 9, kTxBufRef = 100, kRxBufRef = 400;

    explicit FakeNetfront(bool split = false) : evtchn_(kDomid, 1) {
        (void)mem.add_region(std::move(*MemoryRegion::create(Gpa{0}, kRamEnd, "ram")));
        auto frames = GrantTable::allocate_frames(kDomid, 4);
        auto ram = std::make_unique<LayoutGrantableRam>(
            mem, std::vector<PhysRange>{{0, 0x80000}, {0x100000, kRamEnd - 0x100000}});
        table = *GrantTable::create({kDomid, 4}, std::move(*frames), std::move(ram));
        (void)table->setup(4);  // 2048 entries, as a guest's GNTTABOP_setup_table
        (void)registry_.add(kDomid, evtchn_.table);
        dom0 = *Dom0EventChannels::create(registry_);

        grant(kTxRingRef, kTxRingGfn, false);
        grant(kRxRingRef, kRxRingGfn, false);
        tx_sring = reinterpret_cast<netif_tx_sring*>(page(kTxRingGfn));
        rx_sring = reinterpret_cast<netif_rx_sring*>(page(kRxRingGfn));
        SHARED_RING_INIT(tx_sring);
        SHARED_RING_INIT(rx_sring);
        FRONT_RING_INIT(&tx, tx_sring, kPageSize);
        FRONT_RING_INIT(&rx, rx_sring, kPageSize);

        port_tx = *dom0->alloc_unbound_in(kDomid);
        port_rx = split ? *dom0->alloc_unbound_in(kDomid) : port_tx;
        keys["tx-ring-ref"] = std::to_string(kTxRingRef);
        keys["rx-ring-ref"] = std::to_string(kRxRingRef);
        if (split) {
            keys["event-channel-tx"] = std::to_string(port_tx.value);
            keys["event-channel-rx"] = std::to_string(port_rx.value);
        } else {
            keys["event-channel"] = std::to_string(port_tx.value);
        }
        keys["request-rx-copy"] = "1";
        keys["feature-rx-notify"] = "1";
        keys["feature-sg"] = "1";
    }
    FakeNetfront(const FakeNetfront&) = delete;
    FakeNetfront& operator=(const FakeNetfront&) = delete;

    uint8_t* page(uint64_t gfn) { return mem.span(Gpa{gfn << kPageShift}, kPageSize)->data(); }
    grant_entry_v1_t* entry(uint32_t ref) {
        auto f = table->frame_bytes(ref / kGrantEntriesPerFrameV1);
        return reinterpret_cast<grant_entry_v1_t*>(f->data()) + ref % kGrantEntriesPerFrameV1;
    }
    void grant(uint32_t ref, uint64_t gfn, bool readonly, uint16_t to = 0) {
        grant_entry_v1_t* e = entry(ref);
        e->domid = to;
        e->frame = static_cast<uint32_t>(gfn);
        std::atomic_ref<uint16_t>(e->flags).store(
            static_cast<uint16_t>(GTF_permit_access | (readonly ? GTF_readonly : 0)),
            std::memory_order_release);
    }
    void revoke(uint32_t ref) { std::atomic_ref<uint16_t>(entry(ref)->flags).store(0); }

    back::FrontendConnection connection() {
        back::FrontendConnection fe;
        fe.frontend = kDomid;
        fe.grants = table;
        fe.channels = dom0.get();
        fe.read_frontend = [this](std::string_view k) -> std::optional<std::string> {
            auto it = keys.find(std::string(k));
            if (it == keys.end()) return std::nullopt;
            return it->second;
        };
        fe.fail = [this](std::string reason) {
            std::lock_guard lock(fail_mu_);
            failures.push_back(std::move(reason));
        };
        return fe;
    }
    size_t failure_count() {
        std::lock_guard lock(fail_mu_);
        return failures.size();
    }

    // TX: writes `frame` into fresh buffer pages, one request per slot (sizes in `slots`,
    // which must sum to frame.size(); empty: one slot), flags on the first; not yet pushed.
    void queue_tx(std::span<const uint8_t> frame, uint16_t flags = 0,
                  std::vector<uint16_t> slots = {}, uint16_t first_offset = 0) {
        if (slots.empty()) slots.push_back(static_cast<uint16_t>(frame.size()));
        size_t at = 0;
        for (size_t i = 0; i < slots.size(); ++i) {
            const uint32_t buf = next_tx_buf_++ % kTxBufs;
            const uint16_t off = i == 0 ? first_offset : 0;
            std::memcpy(page(kTxBufGfn + buf) + off, frame.data() + at, slots[i]);
            at += slots[i];
            grant(kTxBufRef + buf, kTxBufGfn + buf, true);
            netif_tx_request_t r{};
            r.gref = kTxBufRef + buf;
            r.offset = off;
            r.size = i == 0 ? static_cast<uint16_t>(frame.size()) : slots[i];
            r.flags = static_cast<uint16_t>((i == 0 ? flags : 0) |
                                            (i + 1 < slots.size() ? NETTXF_more_data : 0));
            r.id = next_tx_id_++;
            queue_raw_tx(r);
        }
    }
    // Any request, as a hostile front-end writes it (also extra-info slots, via memcpy).
    void queue_raw_tx(const netif_tx_request_t& r) {
        *RING_GET_REQUEST(&tx, tx.req_prod_pvt) = r;
        tx.req_prod_pvt++;
    }
    // Publishes the queued TX requests and kicks dom0 if the ring says so.
    void push_tx() {
        int notify = 0;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tx, notify);
        if (notify) (void)evtchn_.table->send(port_tx);
    }
    void kick_tx() { (void)evtchn_.table->send(port_tx); }
    void kick_rx() { (void)evtchn_.table->send(port_rx); }
    // Consumes the TX responses published since the last call.
    std::vector<netif_tx_response_t> tx_responses() {
        std::vector<netif_tx_response_t> v;
        const RING_IDX prod = tx_sring->rsp_prod;
        xen_rmb();
        for (; tx.rsp_cons != prod; ++tx.rsp_cons) v.push_back(*RING_GET_RESPONSE(&tx, tx.rsp_cons));
        tx_sring->rsp_event = tx.rsp_cons + 1;
        return v;
    }

    // RX: posts `n` buffers (each a whole page, granted writable), pushes and kicks if the
    // ring asks for it and `kick` (a front-end without feature-rx-notify never kicks for these).
    void post_rx(uint32_t n, bool kick = true) {
        for (uint32_t i = 0; i < n; ++i) {
            const uint16_t id = static_cast<uint16_t>(rx.req_prod_pvt % 256);
            grant(kRxBufRef + id, kRxBufGfn + id, false);
            netif_rx_request_t* r = RING_GET_REQUEST(&rx, rx.req_prod_pvt);
            r->id = id;
            r->gref = kRxBufRef + id;
            rx.req_prod_pvt++;
        }
        int notify = 0;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rx, notify);
        if (notify && kick) (void)evtchn_.table->send(port_rx);
    }
    struct RxPacket {
        std::vector<uint8_t> data;
        uint16_t flags = 0;  // the first slot's
        std::vector<int16_t> status;  // per slot
        bool error() const {
            for (int16_t s : status)
                if (s < 0) return true;
            return false;
        }
    };
    // Consumes the RX responses published since the last call and reassembles packets as
    // netfront does (buffers by response id; a chain ends without NETRXF_more_data).
    std::vector<RxPacket> rx_packets() {
        std::vector<RxPacket> out;
        const RING_IDX prod = rx_sring->rsp_prod;
        xen_rmb();
        RxPacket cur;
        bool in_chain = false;
        for (; rx.rsp_cons != prod; ++rx.rsp_cons) {
            const netif_rx_response_t r = *RING_GET_RESPONSE(&rx, rx.rsp_cons);
            if (!in_chain) cur = RxPacket{{}, r.flags, {}};
            cur.status.push_back(r.status);
            if (r.status > 0 && r.offset + r.status <= static_cast<int>(kPageSize)) {
                const uint8_t* p = page(kRxBufGfn + r.id % 256) + r.offset;
                cur.data.insert(cur.data.end(), p, p + r.status);
            }
            in_chain = r.flags & NETRXF_more_data;
            if (!in_chain) out.push_back(cur);
        }
        rx_sring->rsp_event = rx.rsp_cons + 1;
        return out;
    }

    // The guest's view of dom0's kicks: pending on its port (cleared by this call).
    bool take_notification(EvtchnPort p) {
        if (!evtchn_.pending(p.value)) return false;
        const uint64_t off = offsetof(shared_info_t, evtchn_pending) + 8 * (p.value / 64);
        uint64_t w = *evtchn_.mem.read<uint64_t>(kSharedInfoGpa + off);
        w &= ~(uint64_t{1} << (p.value % 64));
        (void)evtchn_.mem.write(kSharedInfoGpa + off, w);
        return true;
    }
    PortState port_state(EvtchnPort p) { return evtchn_.table->status(p)->state; }

    GuestMemory mem;  // declared first: outlives the table and every mapping
    std::shared_ptr<GrantTable> table;

  private:
    FakeEvtchnGuest evtchn_;
    DomainRegistry registry_;  // outlives dom0

  public:
    std::shared_ptr<Dom0EventChannels> dom0;
    netif_tx_sring* tx_sring = nullptr;
    netif_rx_sring* rx_sring = nullptr;
    netif_tx_front_ring tx{};
    netif_rx_front_ring rx{};
    EvtchnPort port_tx{}, port_rx{};
    std::map<std::string, std::string> keys;  // the front-end's xenstore directory
    std::vector<std::string> failures;        // reasons given to FrontendConnection::fail

  private:
    std::mutex fail_mu_;
    uint32_t next_tx_buf_ = 0;
    uint16_t next_tx_id_ = 1;
};

}  // namespace pvhv::testing
