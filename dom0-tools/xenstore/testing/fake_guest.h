// Test helpers playing a xenstore client: wire messages over feed()/drain() or a ring page.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dom0-tools/xenstore/handler.h"
#include "dom0-tools/xenstore/wire.h"
#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace pvhv::xs::testing {

struct Reply {
    uint32_t type = 0;
    uint32_t req_id = 0;
    uint32_t tx_id = 0;
    std::string payload;
};

inline std::vector<uint8_t> request(uint32_t type, std::string_view payload, uint32_t req_id = 0,
                                    uint32_t tx_id = 0) {
    return encode_message(type, req_id, tx_id, payload);
}

// Splits complete messages off the front of `bytes` (leaving a partial one there).
inline std::vector<Reply> take_replies(std::vector<uint8_t>& bytes) {
    std::vector<Reply> out;
    size_t off = 0;
    while (bytes.size() - off >= kHeaderSize) {
        xsd_sockmsg h{};
        std::memcpy(&h, bytes.data() + off, kHeaderSize);
        if (bytes.size() - off - kHeaderSize < h.len) break;
        out.push_back(Reply{h.type, h.req_id, h.tx_id,
                            std::string(reinterpret_cast<const char*>(bytes.data() + off + kHeaderSize), h.len)});
        off += kHeaderSize + h.len;
    }
    bytes.erase(bytes.begin(), bytes.begin() + off);
    return out;
}

// A guest speaking xs_wire through Xenstore::feed/drain, without a ring.
class WireGuest {
public:
    WireGuest(Xenstore& xs, DomId domid) : xs_(xs), conn_(xs.connect_wire(domid)) {}
    ConnId conn() const { return conn_; }

    // Sends one request and returns everything the store answered so far (reply + events).
    std::vector<Reply> send(uint32_t type, std::string_view payload, uint32_t tx_id = 0) {
        const auto msg = request(type, payload, ++req_id_, tx_id);
        (void)xs_.feed(conn_, msg);
        return poll();
    }
    std::vector<Reply> poll() {
        uint8_t buf[512];
        while (size_t n = xs_.drain(conn_, buf)) in_.insert(in_.end(), buf, buf + n);
        return take_replies(in_);
    }
    // The reply to a request, ignoring events; its payload, or "ERR:<string>".
    std::string call(uint32_t type, std::string_view payload, uint32_t tx_id = 0) {
        for (const auto& r : send(type, payload, tx_id)) {
            if (r.type == XS_WATCH_EVENT) {
                events.push_back(r);
                continue;
            }
            if (r.type == XS_ERROR) return "ERR:" + std::string(r.payload.c_str());
            return r.payload;
        }
        return "NO REPLY";
    }
    std::vector<Reply> events;

private:
    Xenstore& xs_;
    ConnId conn_;
    uint32_t req_id_ = 0;
    std::vector<uint8_t> in_;
};

inline std::string nul(std::string_view s) { return std::string(s) + '\0'; }
inline std::string args(std::string_view a, std::string_view b) { return nul(a) + nul(b); }

// The guest's side of a xenstore_domain_interface page.
class GuestRing {
public:
    GuestRing() { page_.fill(0); }
    std::span<uint8_t> page() { return page_; }
    xenstore_domain_interface& intf() { return *reinterpret_cast<xenstore_domain_interface*>(page_.data()); }

    // Writes as much of `bytes` into the req ring as fits; returns how much.
    size_t push(std::span<const uint8_t> bytes) {
        auto& i = intf();
        const uint32_t space = XENSTORE_RING_SIZE - (i.req_prod - i.req_cons);
        const size_t n = std::min<size_t>(space, bytes.size());
        for (size_t k = 0; k < n; ++k) i.req[MASK_XENSTORE_IDX(i.req_prod + k)] = static_cast<char>(bytes[k]);
        std::atomic_thread_fence(std::memory_order_release);
        i.req_prod += static_cast<uint32_t>(n);
        return n;
    }
    // Writes all of `bytes` or nothing.
    bool push_all(std::span<const uint8_t> bytes) {
        const auto& i = intf();
        if (XENSTORE_RING_SIZE - (i.req_prod - i.req_cons) < bytes.size()) return false;
        return push(bytes) == bytes.size();
    }
    // Takes everything in the rsp ring.
    std::vector<uint8_t> pop() {
        auto& i = intf();
        std::vector<uint8_t> out;
        while (i.rsp_cons != i.rsp_prod) out.push_back(static_cast<uint8_t>(i.rsp[MASK_XENSTORE_IDX(i.rsp_cons++)]));
        return out;
    }

private:
    alignas(4096) std::array<uint8_t, 4096> page_;
};

}  // namespace pvhv::xs::testing
