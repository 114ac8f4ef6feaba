// Unit tests of the xs_wire parser and the wire dispatcher: every request type, malformed input.
#include <gtest/gtest.h>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/testing/fake_guest.h"
#include "dom0-tools/xenstore/wire.h"

namespace pvhv::xs {
namespace {

using testing::args;
using testing::nul;

std::span<const uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
int perr(uint32_t type, std::string_view payload) {
    auto r = parse_request(type, bytes(payload));
    return r ? 0 : r.error().xen_errno;
}

TEST(XenstoreWireParse, WellFormedRequests) {
    auto w = parse_request(XS_WRITE, bytes(std::string("a/b\0v\0al", 8)));
    ASSERT_TRUE(w);
    EXPECT_EQ(std::get<req::Write>(*w).path, "a/b");
    EXPECT_EQ(std::get<req::Write>(*w).value, std::string("v\0al", 4));
    auto empty_value = parse_request(XS_WRITE, bytes(nul("k")));
    ASSERT_TRUE(empty_value);
    EXPECT_EQ(std::get<req::Write>(*empty_value).value, "");
    auto dp = parse_request(XS_DIRECTORY_PART, bytes(args("/d", "123")));
    ASSERT_TRUE(dp);
    EXPECT_EQ(std::get<req::DirectoryPart>(*dp).offset, 123u);
    auto sp = parse_request(XS_SET_PERMS, bytes(nul("/n") + nul("n0") + nul("r5")));
    ASSERT_TRUE(sp);
    EXPECT_EQ(std::get<req::SetPerms>(*sp).perms.size(), 2u);
    auto te = parse_request(XS_TRANSACTION_END, bytes(nul("F")));
    ASSERT_TRUE(te);
    EXPECT_FALSE(std::get<req::TransactionEnd>(*te).commit);
    auto gdp = parse_request(XS_GET_DOMAIN_PATH, bytes(nul("42")));
    ASSERT_TRUE(gdp);
    EXPECT_EQ(std::get<req::GetDomainPath>(*gdp).domid.value, 42);
    EXPECT_TRUE(parse_request(XS_TRANSACTION_START, bytes(nul(""))));
    EXPECT_TRUE(parse_request(XS_RESET_WATCHES, bytes("")));
    EXPECT_TRUE(std::holds_alternative<req::Privileged>(*parse_request(XS_INTRODUCE, bytes("x"))));
}

TEST(XenstoreWireParse, MalformedRequestsAreEinval) {
    EXPECT_EQ(perr(XS_READ, ""), XEN_EINVAL);                       // no argument
    EXPECT_EQ(perr(XS_READ, "/a"), XEN_EINVAL);                     // missing NUL
    EXPECT_EQ(perr(XS_READ, args("/a", "/b")), XEN_EINVAL);         // one too many
    EXPECT_EQ(perr(XS_READ, nul("/a") + "junk"), XEN_EINVAL);       // trailing bytes
    EXPECT_EQ(perr(XS_WRITE, "no-nul-anywhere"), XEN_EINVAL);
    EXPECT_EQ(perr(XS_WRITE, ""), XEN_EINVAL);
    EXPECT_EQ(perr(XS_WATCH, nul("/a")), XEN_EINVAL);               // token missing
    EXPECT_EQ(perr(XS_WATCH, nul("/a") + "tok"), XEN_EINVAL);       // token unterminated
    EXPECT_EQ(perr(XS_UNWATCH, args("/a", "t") + nul("x")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_DIRECTORY_PART, args("/d", "12x")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_DIRECTORY_PART, args("/d", "")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_DIRECTORY_PART, args("/d", "99999999999")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_SET_PERMS, nul("/n")), XEN_EINVAL);            // no permission
    EXPECT_EQ(perr(XS_SET_PERMS, nul("/n") + nul("q0")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_SET_PERMS, nul("/n") + nul("r70000")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_TRANSACTION_END, nul("X")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_TRANSACTION_END, "T"), XEN_EINVAL);
    EXPECT_EQ(perr(XS_GET_DOMAIN_PATH, nul("-1")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_GET_DOMAIN_PATH, nul("65536")), XEN_EINVAL);
    EXPECT_EQ(perr(XS_WATCH_EVENT, args("/a", "t")), XEN_ENOSYS);   // server-to-client only
    EXPECT_EQ(perr(XS_ERROR, nul("EINVAL")), XEN_ENOSYS);
    EXPECT_EQ(perr(20, ""), XEN_ENOSYS);                            // the removed XS_RESTRICT
    EXPECT_EQ(perr(XS_TYPE_COUNT, ""), XEN_ENOSYS);
    EXPECT_EQ(perr(0xffffffffu, ""), XEN_ENOSYS);
}

TEST(XenstoreWireParse, HeaderLengthOverPayloadMaxIsFatal) {
    auto ok = encode_message(XS_READ, 1, 0, std::string(XENSTORE_PAYLOAD_MAX, 'a'));
    EXPECT_TRUE(parse_header(std::span<const uint8_t, kHeaderSize>(ok.data(), kHeaderSize)));
    xsd_sockmsg h{XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};
    auto raw = reinterpret_cast<const uint8_t*>(&h);
    EXPECT_FALSE(parse_header(std::span<const uint8_t, kHeaderSize>(raw, kHeaderSize)));
}

struct XenstoreWire : ::testing::Test {
    Xenstore xs;
    XsClient dom0{xs};
    void SetUp() override {
        ASSERT_TRUE(dom0.mkdir("/local/domain/1"));
        ASSERT_TRUE(dom0.set_perms("/local/domain/1", {{DomId{1}, kPermNone}}));
    }
    void TearDown() override { EXPECT_TRUE(xs.check_invariants()); }
};

TEST_F(XenstoreWire, EveryRequestTypeRoundTrips) {
    testing::WireGuest g{xs, DomId{1}};
    EXPECT_EQ(g.call(XS_WRITE, nul("data/k") + "value"), nul("OK"));
    EXPECT_EQ(g.call(XS_READ, nul("data/k")), "value");
    EXPECT_EQ(g.call(XS_MKDIR, nul("data/dir")), nul("OK"));
    EXPECT_EQ(g.call(XS_DIRECTORY, nul("data")), nul("k") + nul("dir"));
    const std::string part = g.call(XS_DIRECTORY_PART, args("data", "0"));
    EXPECT_TRUE(part.ends_with(nul("k") + nul("dir") + nul(""))) << part;
    EXPECT_EQ(g.call(XS_GET_PERMS, nul("data/k")), nul("n1"));
    EXPECT_EQ(g.call(XS_SET_PERMS, nul("data/k") + nul("n1") + nul("r0")), nul("OK"));
    EXPECT_EQ(g.call(XS_GET_PERMS, nul("data/k")), nul("n1") + nul("r0"));
    EXPECT_EQ(g.call(XS_RM, nul("data/dir")), nul("OK"));
    EXPECT_EQ(g.call(XS_GET_DOMAIN_PATH, nul("7")), nul("/local/domain/7"));
    EXPECT_EQ(g.call(XS_WATCH, args("data", "t")), nul("OK"));
    EXPECT_EQ(g.call(XS_UNWATCH, args("data", "t")), nul("OK"));
    EXPECT_EQ(g.call(XS_RESET_WATCHES, nul("")), nul("OK"));
    const std::string tx = g.call(XS_TRANSACTION_START, nul(""));
    ASSERT_FALSE(tx.starts_with("ERR")) << tx;
    const uint32_t id = static_cast<uint32_t>(std::stoul(tx));
    EXPECT_EQ(g.call(XS_WRITE, nul("data/t") + "1", id), nul("OK"));
    EXPECT_EQ(g.call(XS_READ, nul("data/t")), "ERR:ENOENT");
    EXPECT_EQ(g.call(XS_TRANSACTION_END, nul("T"), id), nul("OK"));
    EXPECT_EQ(g.call(XS_READ, nul("data/t")), "1");
}

TEST_F(XenstoreWire, RepliesEchoIdsAndErrorsUseXenStrings) {
    testing::WireGuest g{xs, DomId{1}};
    auto r = g.send(XS_READ, nul("/nope/x"));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, uint32_t{XS_ERROR});
    EXPECT_EQ(r[0].req_id, 1u);
    EXPECT_EQ(r[0].payload, nul("EACCES"));  // "/" is not readable by dom1
    EXPECT_EQ(g.call(XS_READ, nul("missing")), "ERR:ENOENT");
    EXPECT_EQ(g.call(XS_READ, "unterminated"), "ERR:EINVAL");
    EXPECT_EQ(g.call(9999, ""), "ERR:ENOSYS");
    EXPECT_EQ(g.call(XS_INTRODUCE, args("2", "3")), "ERR:EACCES");
    EXPECT_EQ(g.call(XS_READ, nul("missing"), 77), "ERR:ENOENT");  // unknown transaction
    EXPECT_EQ(g.call(XS_WRITE, nul("x") + "v"), nul("OK"));         // still in sync
}

TEST_F(XenstoreWire, ArbitraryChunkingAndPipelining) {
    const ConnId c = xs.connect_wire(DomId{1});
    std::vector<uint8_t> stream;
    for (int i = 0; i < 20; ++i) {
        auto m = testing::request(XS_WRITE, nul("k" + std::to_string(i)) + "v", i + 1);
        stream.insert(stream.end(), m.begin(), m.end());
    }
    // One byte at a time, then the rest in odd sizes: the parser must not care.
    size_t off = 0;
    for (; off < 40; ++off) ASSERT_EQ(*xs.feed(c, std::span(stream).subspan(off, 1)), 1u);
    while (off < stream.size()) {
        const size_t n = std::min<size_t>(7, stream.size() - off);
        ASSERT_EQ(*xs.feed(c, std::span(stream).subspan(off, n)), n);
        off += n;
    }
    std::vector<uint8_t> out(xs.pending_output(c));
    ASSERT_EQ(xs.drain(c, out), out.size());
    auto replies = testing::take_replies(out);
    ASSERT_EQ(replies.size(), 20u);
    for (uint32_t i = 0; i < 20; ++i) {
        EXPECT_EQ(replies[i].req_id, i + 1);
        EXPECT_EQ(replies[i].payload, nul("OK"));
    }
}

TEST_F(XenstoreWire, OversizedHeaderBreaksTheConnection) {
    const ConnId c = xs.connect_wire(DomId{1});
    xsd_sockmsg h{XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};
    EXPECT_FALSE(xs.feed(c, std::span(reinterpret_cast<const uint8_t*>(&h), sizeof h)));
    EXPECT_TRUE(xs.is_broken(c));
    auto again = testing::request(XS_READ, nul("x"));
    EXPECT_FALSE(xs.feed(c, again));
    EXPECT_EQ(xs.pending_output(c), 0u);
    // Others are unaffected.
    testing::WireGuest g{xs, DomId{1}};
    EXPECT_EQ(g.call(XS_WRITE, nul("ok") + "1"), nul("OK"));
}

TEST_F(XenstoreWire, BackpressureStopsReadingUntilRepliesAreConsumed) {
    Quotas q;
    q.max_output_bytes = 64;
    xs.set_quotas(DomId{1}, q);
    ASSERT_TRUE(dom0.write("/local/domain/1/big", std::string(100, 'x')));
    const ConnId c = xs.connect_wire(DomId{1});
    auto m1 = testing::request(XS_READ, nul("big"), 1);
    auto m2 = testing::request(XS_READ, nul("big"), 2);
    std::vector<uint8_t> both(m1);
    both.insert(both.end(), m2.begin(), m2.end());
    EXPECT_EQ(*xs.feed(c, both), m1.size());  // the first reply fills the queue
    EXPECT_FALSE(xs.wants_input(c));
    std::vector<uint8_t> out(4096);
    EXPECT_EQ(xs.drain(c, out), kHeaderSize + 100);
    EXPECT_TRUE(xs.wants_input(c));
    EXPECT_EQ(*xs.feed(c, m2), m2.size());
}

TEST_F(XenstoreWire, WatchEventsToASlowReaderAreDroppedNotQueuedForever) {
    Quotas q;
    q.max_output_bytes = 256;
    xs.set_quotas(DomId{1}, q);
    testing::WireGuest g{xs, DomId{1}};
    g.send(XS_WATCH, args("w", "t"));
    g.poll();
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(dom0.write("/local/domain/1/w", std::to_string(i)));
    const size_t delivered = g.poll().size();
    EXPECT_GT(delivered, 0u);
    EXPECT_LT(delivered, 100u);
    EXPECT_EQ(xs.dropped_events(g.conn()), 100u - delivered);
}

}  // namespace
}  // namespace pvhv::xs
