// libFuzzer target: arbitrary bytes as xs_wire messages, byte streams and raw ring pages fed to
// the real parser, dispatcher and ring server of the xenstore, with invariants checked after.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/domain_tree.h"
#include "dom0-tools/xenstore/ring.h"
#include "dom0-tools/xenstore/wire.h"
#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace {

using namespace pvhv;
using namespace pvhv::xs;

class Input {
public:
    Input(const uint8_t* d, size_t n) : d_(d), n_(n) {}
    bool empty() const { return n_ == 0; }
    uint8_t u8() { return take(1).empty() ? 0 : d_[-1]; }
    uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
    uint32_t u32() { return u16() | (uint32_t{u16()} << 16); }
    std::span<const uint8_t> take(size_t k) {
        k = std::min(k, n_);
        std::span<const uint8_t> s(d_, k);
        d_ += k;
        n_ -= k;
        return s;
    }

private:
    const uint8_t* d_;
    size_t n_;
};

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "xs_wire_fuzz: %s\n", why.c_str());
    std::abort();
}

void check(Xenstore& xs) {
    if (auto r = xs.check_invariants(); !r) die("invariant: " + r.error().message);
}

// Everything the store sends must be well-framed replies and events.
void check_output(Xenstore& xs, ConnId c, std::vector<uint8_t>& pending) {
    uint8_t buf[700];
    while (size_t n = xs.drain(c, buf)) pending.insert(pending.end(), buf, buf + n);
    size_t off = 0;
    while (pending.size() - off >= kHeaderSize) {
        xsd_sockmsg h{};
        std::memcpy(&h, pending.data() + off, kHeaderSize);
        if (h.len > XENSTORE_PAYLOAD_MAX) die("reply longer than XENSTORE_PAYLOAD_MAX");
        if (h.type >= XS_TYPE_COUNT) die("reply of unknown type");
        if (pending.size() - off - kHeaderSize < h.len) break;
        off += kHeaderSize + h.len;
    }
    pending.erase(pending.begin(), pending.begin() + off);
}

// Fragments the structured mode builds payloads from (prefix + fuzzed bytes + suffix), so
// that inputs reach existing nodes, guest-writable ones, special paths and well-formed
// argument lists without the fuzzer having to guess them first.
constexpr std::string_view kPrefixes[] = {
    "", "/", "/local/domain/1/", "/local/domain/2/", "control/shutdown", "data/", "device/",
    "@releaseDomain", "@introduceDomain", "/vm/", "name", "memory/target", "/local/domain/0/",
};
constexpr std::string_view kSuffixes[] = {
    "", std::string_view("\0", 1), std::string_view("\0" "0\0", 3), std::string_view("\0" "tok\0", 5),
    std::string_view("\0" "n1\0", 4), std::string_view("\0" "b2\0" "r0\0", 7), std::string_view("T\0", 2),
    std::string_view("F\0", 2), std::string_view("\0" "value", 6), std::string_view("1\0", 2),
};

// The requests the store implements, most of what the structured mode sends.
constexpr uint32_t kTypes[] = {
    XS_READ, XS_WRITE, XS_MKDIR, XS_RM, XS_DIRECTORY, XS_DIRECTORY_PART, XS_GET_PERMS,
    XS_SET_PERMS, XS_WATCH, XS_UNWATCH, XS_RESET_WATCHES, XS_TRANSACTION_START,
    XS_TRANSACTION_END, XS_GET_DOMAIN_PATH,
};

// A payload shaped for `type` (so most requests get past the parser and exercise the store),
// or with shape bits 0xc0 set, prefix + bytes + suffix with no regard for the shape.
std::string payload_for(uint32_t type, Input& in) {
    const uint8_t shape = in.u8();
    std::string path(kPrefixes[shape % std::size(kPrefixes)]);
    // Mostly short bodies, some up to 111 bytes, and large ones of one repeated byte.
    const uint8_t len = in.u8();
    if (len >= 0xf0) {
        path.append(size_t{in.u8()} * 17, static_cast<char>(in.u8()));
    } else {
        const auto body = in.take(len < 0x80 ? len % 8 : len - 0x80);
        path.append(reinterpret_cast<const char*>(body.data()), body.size());
    }
    if ((shape & 0xc0) == 0xc0) return path + std::string(kSuffixes[in.u8() % std::size(kSuffixes)]);
    std::string p = path + '\0';
    switch (type) {
        case XS_WRITE: {
            const auto v = in.take(in.u8() % 16);
            return p + std::string(reinterpret_cast<const char*>(v.data()), v.size());
        }
        case XS_WATCH:
        case XS_UNWATCH: return p + "t" + std::to_string(in.u8() % 4) + '\0';
        case XS_DIRECTORY_PART: return p + std::to_string(in.u16() % 5000) + '\0';
        case XS_SET_PERMS: {
            static constexpr uint16_t kDomids[] = {0, 1, 2, 3, 65535};
            for (int n = 1 + in.u8() % 4; n > 0; --n) {
                const uint8_t b = in.u8();
                p += "nrwb"[b % 4];
                p += std::to_string(kDomids[(b >> 2) % std::size(kDomids)]) + '\0';
            }
            return p;
        }
        case XS_TRANSACTION_END: return std::string(in.u8() & 1 ? "T" : "F") + '\0';
        case XS_GET_DOMAIN_PATH: return std::to_string(in.u8()) + '\0';
        default: return p;
    }
}

struct World {
    Xenstore xs;
    XsClient dom0{xs};
    ConnId g1 = 0, g2 = 0;

    static XenstoreOptions options() {
        XenstoreOptions o;
        // Small limits so that inputs reach them.
        o.quotas.max_nodes = 40;
        o.quotas.max_entry_size = 600;
        o.quotas.max_watches = 6;
        o.quotas.max_transactions = 3;
        o.quotas.max_transaction_nodes = 30;
        o.quotas.max_output_bytes = 3000;
        return o;
    }
    World() : xs(options()) {
        (void)create_dom0_tree(dom0);
        // One full standard tree; the second domain gets only its home (setup dominates the
        // cost of an input).
        auto a = create_domain_tree(dom0, DomainTreeSpec{DomId{1}, "one", "", 1024, 0, 1, 1, 2, std::nullopt});
        if (!a || !dom0.mkdir("/local/domain/2") ||
            !dom0.set_perms("/local/domain/2", {{DomId{2}, kPermNone}, {DomId{1}, kPermRead}}))
            die("setup");
        g1 = *a;
        g2 = xs.introduce_domain(DomId{2});
        (void)dom0.watch("/", "all", [](std::string_view, std::string_view) {});
        (void)dom0.watch("@releaseDomain", "rel", [](std::string_view, std::string_view) {});
    }
};

// Mode 0: well-framed messages with fuzzed type, ids and payload, split at fuzzed points.
void structured(World& w, Input& in) {
    std::vector<uint8_t> pending[2];
    for (int i = 0; i < 64 && !in.empty(); ++i) {
        const uint8_t sel = in.u8();
        const int who = sel & 1;
        const ConnId c = who ? w.g2 : w.g1;
        // sel bit 1..: mostly an implemented type, sometimes any number at all.
        const uint32_t type = (sel & 0x80) && (sel & 0x40) ? in.u8() % (XS_TYPE_COUNT + 2)
                                                           : kTypes[(sel >> 1) % std::size(kTypes)];
        const uint32_t tx = in.u8() % 5;  // small: hits real transaction ids
        std::string payload = payload_for(type, in);
        if (payload.size() > XENSTORE_PAYLOAD_MAX) payload.resize(XENSTORE_PAYLOAD_MAX);
        const auto msg = encode_message(type, i, tx, payload);
        const size_t split = in.u8() % (msg.size() + 1);
        (void)w.xs.feed(c, std::span(msg).first(split));
        (void)w.xs.feed(c, std::span(msg).subspan(split));
        if (in.u8() & 1) check_output(w.xs, c, pending[who]);
        if ((sel & 0xf0) == 0xf0) {  // the toolstack acts in between
            (void)w.dom0.write("/local/domain/1/data/t", "x");
            (void)w.dom0.rm("/local/domain/2/data");
        }
    }
    check_output(w.xs, w.g1, pending[0]);
    check_output(w.xs, w.g2, pending[1]);
}

// Mode 1: a raw byte stream, any framing at all.
void stream(World& w, Input& in) {
    std::vector<uint8_t> pending;
    while (!in.empty()) {
        const auto chunk = in.take(1 + in.u8());
        (void)w.xs.feed(w.g1, chunk);
        check_output(w.xs, w.g1, pending);
    }
}

// Mode 2: the ring page itself is the input, indexes included, changed between services.
void ring(World& w, Input& in) {
    alignas(4096) static uint8_t page[4096];
    std::memset(page, 0, sizeof page);
    const auto init = in.take(size_t{in.u8()} * 16);  // the rest of the page stays zero
    std::memcpy(page, init.data(), init.size());
    auto* intf = reinterpret_cast<xenstore_domain_interface*>(page);
    for (int round = 0; round < 16 && (round == 0 || !in.empty()); ++round) {
        switch (in.u8() % 5) {
            case 0: intf->req_prod = in.u32(); break;
            case 1: intf->rsp_cons = in.u32(); break;
            case 2: {  // append a message the honest way
                const auto bytes = in.take(in.u16() % 1100);
                for (uint8_t b : bytes) {
                    if (intf->req_prod - intf->req_cons >= XENSTORE_RING_SIZE) break;
                    intf->req[MASK_XENSTORE_IDX(intf->req_prod)] = static_cast<char>(b);
                    ++intf->req_prod;
                }
                break;
            }
            case 3: {  // a well-formed request with fuzzed type and payload
                const uint32_t type = kTypes[in.u8() % std::size(kTypes)];
                std::string payload = payload_for(type, in);
                for (uint8_t b : encode_message(type, round, in.u8() % 3, payload)) {
                    if (intf->req_prod - intf->req_cons >= XENSTORE_RING_SIZE) break;
                    intf->req[MASK_XENSTORE_IDX(intf->req_prod)] = static_cast<char>(b);
                    ++intf->req_prod;
                }
                break;
            }
            default: intf->rsp_cons = intf->rsp_prod; break;  // consume replies
        }
        const auto r = service_ring(w.xs, w.g1, std::span<uint8_t>(page, sizeof page));
        if (r.broken != w.xs.is_broken(w.g1)) die("ring and store disagree on broken");
        if (!r.broken && intf->rsp_prod - intf->rsp_cons > XENSTORE_RING_SIZE) die("rsp ring overfilled");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input in(data, size);
    World w;
    switch (in.u8() % 3) {
        case 0: structured(w, in); break;
        case 1: stream(w, in); break;
        default: ring(w, in); break;
    }
    check(w.xs);
    // Tearing a domain down after whatever happened must work too.
    if (!destroy_domain_tree(w.dom0, DomId{1})) die("destroy");
    check(w.xs);
    return 0;
}
