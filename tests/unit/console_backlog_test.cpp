// Unit tests of pvd's console backlog: one drain per burst, per-domain order, the bound.
#include <gtest/gtest.h>

#include "dom0-tools/pvd/console_backlog.h"

namespace pvhv::dom0 {
namespace {

TEST(ConsoleBacklog, OnePostPerBurstAndOrderKeptPerDomain) {
    ConsoleBacklog b;
    EXPECT_TRUE(b.append(DomId{1}, "a"));  // the first byte asks for a drain
    for (char c : std::string("bcdef")) EXPECT_FALSE(b.append(DomId{1}, std::string(1, c)));
    EXPECT_FALSE(b.append(DomId{2}, "other"));
    EXPECT_FALSE(b.append(DomId{1}, ""));
    auto all = b.take_all();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], (std::pair<DomId, std::string>{DomId{1}, "abcdef"}));
    EXPECT_EQ(all[1], (std::pair<DomId, std::string>{DomId{2}, "other"}));
    EXPECT_TRUE(b.take_all().empty());
    EXPECT_TRUE(b.append(DomId{1}, "g"));  // drained: the next piece posts again
}

TEST(ConsoleBacklog, TakeOneDomainForItsLastWords) {
    ConsoleBacklog b;
    b.append(DomId{1}, "one");
    b.append(DomId{2}, "two");
    EXPECT_EQ(b.take(DomId{1}), "one");
    EXPECT_EQ(b.take(DomId{1}), "");
    auto all = b.take_all();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].second, "two");
}

TEST(ConsoleBacklog, BoundDropsTheRestAndSaysHowMuch) {
    ConsoleBacklog b;
    const std::string chunk(64 * 1024, 'x');
    size_t sent = 0;
    while (sent < ConsoleBacklog::kMaxBytesPerDomain + 3 * chunk.size()) {
        b.append(DomId{1}, chunk);
        sent += chunk.size();
    }
    b.append(DomId{1}, "tail");  // after the gap: dropped too, not glued on
    sent += 4;
    const std::string got = b.take(DomId{1});
    ASSERT_GE(got.size(), ConsoleBacklog::kMaxBytesPerDomain);
    EXPECT_EQ(got.substr(0, ConsoleBacklog::kMaxBytesPerDomain),
              std::string(ConsoleBacklog::kMaxBytesPerDomain, 'x'));
    const std::string note = got.substr(ConsoleBacklog::kMaxBytesPerDomain);
    EXPECT_NE(note.find("[pvd: " + std::to_string(sent - ConsoleBacklog::kMaxBytesPerDomain) +
                        " bytes of console output dropped"),
              std::string::npos)
        << note;
    b.append(DomId{1}, "after");  // a fresh start once drained
    EXPECT_EQ(b.take(DomId{1}), "after");
}

}  // namespace
}  // namespace pvhv::dom0
