// The xenstore ring server: index checks, wrap-around copies and backpressure over one page.
#include "dom0-tools/xenstore/ring.h"

#include <atomic>
#include <cstddef>
#include <cstring>
#include <string>

#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace pvhv::xs {

namespace {

constexpr size_t kReq = offsetof(xenstore_domain_interface, req);
constexpr size_t kRsp = offsetof(xenstore_domain_interface, rsp);
constexpr size_t kReqCons = offsetof(xenstore_domain_interface, req_cons);
constexpr size_t kReqProd = offsetof(xenstore_domain_interface, req_prod);
constexpr size_t kRspCons = offsetof(xenstore_domain_interface, rsp_cons);
constexpr size_t kRspProd = offsetof(xenstore_domain_interface, rsp_prod);
constexpr size_t kFeatures = offsetof(xenstore_domain_interface, server_features);
constexpr size_t kConnection = offsetof(xenstore_domain_interface, connection);
constexpr size_t kError = offsetof(xenstore_domain_interface, error);
constexpr uint32_t kRingSize = XENSTORE_RING_SIZE;
// Enough for a burst of requests without letting a guest that keeps producing pin the caller.
constexpr int kMaxRounds = 16;

// The page is guest memory shared with running vCPUs: every index access is atomic.
std::atomic_ref<uint32_t> index_at(std::span<uint8_t> page, size_t off) {
    return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(page.data() + off));
}

bool usable(std::span<uint8_t> page) {
    return page.size() >= sizeof(xenstore_domain_interface) &&
           reinterpret_cast<uintptr_t>(page.data()) % std::atomic_ref<uint32_t>::required_alignment == 0;
}

RingResult broken(Xenstore& xs, ConnId conn, std::span<uint8_t> page, uint32_t error, const std::string& why) {
    xs.mark_broken(conn, why);
    if (usable(page)) index_at(page, kError).store(error, std::memory_order_release);
    return RingResult{true, true, false};
}

}  // namespace

void init_ring_page(std::span<uint8_t> page) {
    if (!usable(page)) return;
    for (size_t off : {kReqCons, kReqProd, kRspCons, kRspProd, kConnection, kError})
        index_at(page, off).store(0, std::memory_order_relaxed);
    index_at(page, kFeatures).store(XENSTORE_SERVER_FEATURE_ERROR, std::memory_order_relaxed);
    index_at(page, kConnection).store(XENSTORE_CONNECTED, std::memory_order_release);
}

RingResult service_ring(Xenstore& xs, ConnId conn, std::span<uint8_t> page) {
    RingResult res;
    if (!usable(page)) {
        xs.mark_broken(conn, "ring page too small or misaligned");
        return RingResult{false, true, false};
    }
    if (xs.is_broken(conn)) return RingResult{false, true, false};

    uint8_t buf[kRingSize];
    for (int round = 0; round < kMaxRounds; ++round) {
        bool progress = false;
        // Our index stores of the last round must be visible before we read the guest's again.
        // The guest does the mirror image (store rsp_cons, full barrier, reread rsp_prod, kick
        // if the ring was full); without this fence both sides could read the other's old
        // index (x86 lets a load pass an earlier store), and a reply larger than the free
        // space would stall: we see no room, the guest sees no reason to kick.
        std::atomic_thread_fence(std::memory_order_seq_cst);

        // Requests: everything between req_cons and req_prod, copied out once.
        const uint32_t cons = index_at(page, kReqCons).load(std::memory_order_acquire);
        const uint32_t prod = index_at(page, kReqProd).load(std::memory_order_acquire);
        const uint32_t avail = prod - cons;
        if (avail > kRingSize)
            return broken(xs, conn, page, XENSTORE_ERROR_RINGIDX,
                          "req_prod " + std::to_string(prod) + " - req_cons " + std::to_string(cons) + " > ring");
        if (avail != 0 && xs.wants_input(conn)) {
            const uint32_t start = MASK_XENSTORE_IDX(cons);
            const uint32_t first = std::min(avail, kRingSize - start);
            std::memcpy(buf, page.data() + kReq + start, first);
            std::memcpy(buf + first, page.data() + kReq, avail - first);
            auto used = xs.feed(conn, std::span<const uint8_t>(buf, avail));
            if (!used) return broken(xs, conn, page, XENSTORE_ERROR_PROTO, used.error().message);
            if (*used != 0) {
                index_at(page, kReqCons).store(cons + static_cast<uint32_t>(*used), std::memory_order_release);
                progress = true;
            }
        }

        // Replies and events: as much as the free part of the rsp ring holds.
        const uint32_t rsp_cons = index_at(page, kRspCons).load(std::memory_order_acquire);
        const uint32_t rsp_prod = index_at(page, kRspProd).load(std::memory_order_acquire);
        const uint32_t in_flight = rsp_prod - rsp_cons;
        if (in_flight > kRingSize)
            return broken(xs, conn, page, XENSTORE_ERROR_RINGIDX,
                          "rsp_cons " + std::to_string(rsp_cons) + " past rsp_prod " + std::to_string(rsp_prod));
        if (const uint32_t space = kRingSize - in_flight; space != 0 && xs.pending_output(conn) != 0) {
            const size_t n = xs.drain(conn, std::span<uint8_t>(buf, space));
            const uint32_t start = MASK_XENSTORE_IDX(rsp_prod);
            const size_t first = std::min<size_t>(n, kRingSize - start);
            std::memcpy(page.data() + kRsp + start, buf, first);
            std::memcpy(page.data() + kRsp, buf + first, n - first);
            if (n != 0) {
                index_at(page, kRspProd).store(rsp_prod + static_cast<uint32_t>(n), std::memory_order_release);
                progress = true;
            }
        }

        res.notify |= progress;
        if (!progress) return res;
    }
    res.again = true;
    return res;
}

}  // namespace pvhv::xs
