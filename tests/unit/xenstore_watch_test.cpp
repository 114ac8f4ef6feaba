// Unit tests of xenstore watches: initial events, subtree matching, removal, relative paths,
// special paths, permission filtering, the executor, and the wire encoding of events.
#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/path.h"
#include "dom0-tools/xenstore/testing/fake_guest.h"

namespace pvhv::xs {
namespace {

using testing::args;
using testing::nul;

int err(const auto& r) { return r ? 0 : r.error().xen_errno; }

struct Recorder {
    std::vector<std::pair<std::string, std::string>> events;
    WatchCallback cb() {
        return [this](std::string_view p, std::string_view t) { events.emplace_back(p, t); };
    }
    std::vector<std::string> paths() const {
        std::vector<std::string> out;
        for (const auto& e : events) out.push_back(e.first);
        return out;
    }
};

struct XenstoreWatch : ::testing::Test {
    Xenstore xs;
    XsClient dom0{xs};
    Recorder rec;
    void SetUp() override {
        ASSERT_TRUE(dom0.write("/a/b", "1"));
        ASSERT_TRUE(dom0.write("/a/c", "1"));
        ASSERT_TRUE(dom0.write("/z", "1"));
    }
};

TEST_F(XenstoreWatch, FiresOnceOnRegistrationThenOnChangesBelow) {
    ASSERT_TRUE(dom0.watch("/a", "tok", rec.cb()));
    ASSERT_EQ(rec.events.size(), 1u);
    EXPECT_EQ(rec.events[0], (std::pair<std::string, std::string>{"/a", "tok"}));
    rec.events.clear();
    ASSERT_TRUE(dom0.write("/a/b", "2"));
    ASSERT_TRUE(dom0.write("/a/new/deeper", "2"));
    ASSERT_TRUE(dom0.write("/a", "self"));
    ASSERT_TRUE(dom0.write("/z", "2"));     // sibling: nothing
    ASSERT_TRUE(dom0.write("/ab", "x"));    // prefix but not below: nothing
    ASSERT_TRUE(dom0.mkdir("/a/b"));        // exists: no change, no event
    EXPECT_EQ(rec.paths(), (std::vector<std::string>{"/a/b", "/a/new/deeper", "/a"}));
}

TEST_F(XenstoreWatch, RemovalFiresForTheNodeAndWatchesBelowIt) {
    Recorder below, above;
    ASSERT_TRUE(dom0.watch("/a/b", "b", below.cb()));
    ASSERT_TRUE(dom0.watch("/", "root", above.cb()));
    below.events.clear();
    above.events.clear();
    ASSERT_TRUE(dom0.rm("/a"));
    // The watch on a removed descendant hears about it; the root watch hears the removal once.
    EXPECT_EQ(below.paths(), std::vector<std::string>{"/a/b"});
    EXPECT_EQ(above.paths(), std::vector<std::string>{"/a"});
}

TEST_F(XenstoreWatch, UnwatchResetAndDuplicates) {
    ASSERT_TRUE(dom0.watch("/a", "t", rec.cb()));
    EXPECT_EQ(err(dom0.watch("/a", "t", rec.cb())), XEN_EEXIST);
    EXPECT_TRUE(dom0.watch("/a", "t2", rec.cb()));  // same path, other token: fine
    ASSERT_TRUE(dom0.unwatch("/a", "t"));
    EXPECT_EQ(err(dom0.unwatch("/a", "t")), XEN_ENOENT);
    rec.events.clear();
    ASSERT_TRUE(dom0.write("/a/b", "3"));
    EXPECT_EQ(rec.events.size(), 1u);  // only t2
    ASSERT_TRUE(dom0.reset_watches());
    rec.events.clear();
    ASSERT_TRUE(dom0.write("/a/b", "4"));
    EXPECT_TRUE(rec.events.empty());
}

TEST_F(XenstoreWatch, RelativeWatchesGetRelativePaths) {
    ASSERT_TRUE(dom0.mkdir("/local/domain/3"));
    ASSERT_TRUE(dom0.set_perms("/local/domain/3", {{DomId{3}, kPermNone}}));
    XsClient guest{xs, DomId{3}};
    Recorder g;
    ASSERT_TRUE(guest.watch("control/shutdown", "ctl", g.cb()));
    ASSERT_TRUE(dom0.write("/local/domain/3/control/shutdown", "poweroff"));
    EXPECT_EQ(g.paths(), (std::vector<std::string>{"control/shutdown", "control/shutdown"}));
    EXPECT_TRUE(guest.unwatch("control/shutdown", "ctl"));
}

TEST_F(XenstoreWatch, GuestsOnlyHearWhatTheyMayRead) {
    ASSERT_TRUE(dom0.write("/shared/open", "o"));
    ASSERT_TRUE(dom0.set_perms("/shared", {{kDom0, kPermRead}}));
    ASSERT_TRUE(dom0.set_perms("/shared/open", {{kDom0, kPermRead}}));
    ASSERT_TRUE(dom0.write("/shared/closed", "c"));
    ASSERT_TRUE(dom0.set_perms("/shared/closed", {{kDom0, kPermNone}}));
    ASSERT_TRUE(dom0.write("/shared/closed/inner", "i"));  // inherits n0
    XsClient guest{xs, DomId{4}};
    ASSERT_TRUE(guest.watch("/shared", "s", rec.cb()));
    rec.events.clear();
    ASSERT_TRUE(dom0.write("/shared/open", "o2"));          // readable node
    ASSERT_TRUE(dom0.write("/shared/closed", "c2"));        // unreadable, readable parent
    ASSERT_TRUE(dom0.write("/shared/closed/inner", "i2"));  // node and parent unreadable
    EXPECT_EQ(rec.paths(), (std::vector<std::string>{"/shared/open", "/shared/closed"}));
    rec.events.clear();
    // A node made unreadable still tells those who could read it before.
    ASSERT_TRUE(dom0.set_perms("/shared/closed/inner", {{kDom0, kPermRead}}));
    ASSERT_TRUE(dom0.set_perms("/shared/closed/inner", {{kDom0, kPermNone}}));
    EXPECT_EQ(rec.paths(), (std::vector<std::string>{"/shared/closed/inner", "/shared/closed/inner"}));
}

TEST_F(XenstoreWatch, SpecialPathsFireOnDomainLifecycleForPermittedWatchers) {
    Recorder intro, rel, guest_rel;
    ASSERT_TRUE(dom0.watch("@introduceDomain", "i", intro.cb()));
    ASSERT_TRUE(dom0.watch("@releaseDomain", "r", rel.cb()));
    XsClient guest{xs, DomId{9}};
    ASSERT_TRUE(guest.watch("@releaseDomain", "g", guest_rel.cb()));
    intro.events.clear();
    rel.events.clear();
    guest_rel.events.clear();
    ASSERT_TRUE(dom0.write("/local/domain/7/name", "x"));  // ordinary writes do not fire them
    xs.introduce_domain(DomId{7});
    xs.release_domain(DomId{7});
    EXPECT_EQ(intro.paths(), std::vector<std::string>{"@introduceDomain"});
    EXPECT_EQ(rel.paths(), std::vector<std::string>{"@releaseDomain"});
    EXPECT_TRUE(guest_rel.events.empty());  // the special node is "n0"
    // Only dom0 may open it up; then the guest hears.
    EXPECT_EQ(err(guest.set_perms("@releaseDomain", {{DomId{9}, kPermRead}})), XEN_EACCES);
    EXPECT_EQ(err(dom0.set_perms("@unknownSpecial", {{kDom0, kPermRead}})), XEN_EINVAL);
    ASSERT_TRUE(dom0.set_perms("@releaseDomain", {{kDom0, kPermNone}, {DomId{9}, kPermRead}}));
    xs.release_domain(DomId{8});
    EXPECT_EQ(guest_rel.paths(), std::vector<std::string>{"@releaseDomain"});
}

TEST_F(XenstoreWatch, CallbacksRunThroughTheExecutorAndNotAfterUnwatch) {
    std::vector<std::function<void()>> posted;
    XenstoreOptions opts;
    opts.executor = [&](std::function<void()> f) { posted.push_back(std::move(f)); };
    Xenstore store(opts);
    XsClient c{store};
    Recorder r;
    ASSERT_TRUE(c.watch("/w", "t", r.cb()));
    ASSERT_TRUE(c.write("/w", "1"));
    EXPECT_TRUE(r.events.empty());  // nothing runs on the caller's thread
    ASSERT_EQ(posted.size(), 2u);
    posted[0]();
    EXPECT_EQ(r.events.size(), 1u);
    ASSERT_TRUE(c.unwatch("/w", "t"));
    posted[1]();  // already posted, but the watch is gone
    EXPECT_EQ(r.events.size(), 1u);
}

TEST_F(XenstoreWatch, WireEventsAreEncodedAfterTheWatchAckAndRelativeWhenRegisteredSo) {
    ASSERT_TRUE(dom0.mkdir("/local/domain/2"));
    ASSERT_TRUE(dom0.set_perms("/local/domain/2", {{DomId{2}, kPermNone}}));
    testing::WireGuest g{xs, DomId{2}};
    auto r = g.send(XS_WATCH, args("device", "tk"));
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].type, uint32_t{XS_WATCH});
    EXPECT_EQ(r[0].payload, nul("OK"));
    EXPECT_EQ(r[1].type, uint32_t{XS_WATCH_EVENT});
    EXPECT_EQ(r[1].payload, args("device", "tk"));
    ASSERT_TRUE(dom0.write("/local/domain/2/device/vif/0", "x"));
    auto ev = g.poll();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].type, uint32_t{XS_WATCH_EVENT});
    EXPECT_EQ(ev[0].req_id, 0u);
    EXPECT_EQ(ev[0].payload, args("device/vif/0", "tk"));
    // Registration errors: bad path, unknown unwatch.
    EXPECT_EQ(g.call(XS_WATCH, args("bad path", "t")), "ERR:EINVAL");
    EXPECT_EQ(g.call(XS_UNWATCH, args("device", "other")), "ERR:ENOENT");
}

TEST_F(XenstoreWatch, OutputReadyNamesOtherWireConnectionsOnly) {
    std::vector<ConnId> ready;
    XenstoreOptions opts;
    opts.output_ready = [&](ConnId c) { ready.push_back(c); };
    Xenstore store(opts);
    XsClient d0{store};
    ASSERT_TRUE(d0.mkdir("/local/domain/1"));
    ASSERT_TRUE(d0.set_perms("/local/domain/1", {{DomId{1}, kPermNone}}));
    testing::WireGuest g1{store, DomId{1}};
    g1.send(XS_WATCH, args("/local/domain/1", "t"));
    EXPECT_TRUE(ready.empty());  // its own feed drains its own output
    ASSERT_TRUE(d0.write("/local/domain/1/x", "y"));
    EXPECT_EQ(ready, std::vector<ConnId>{g1.conn()});
}

}  // namespace
}  // namespace pvhv::xs
