// Unit tests of xenstore quotas: nodes, entry size, watches, perms, path length, both error styles.
#include <gtest/gtest.h>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/errors.h"
#include "dom0-tools/xenstore/testing/fake_guest.h"

namespace pvhv::xs {
namespace {

int err(const auto& r) { return r ? 0 : r.error().xen_errno; }

struct XenstoreQuota : ::testing::Test {
    Xenstore xs;
    XsClient dom0{xs};
    Quotas q;
    void SetUp() override {
        ASSERT_TRUE(dom0.mkdir("/local/domain/5"));
        ASSERT_TRUE(dom0.set_perms("/local/domain/5", {{DomId{5}, kPermNone}}));
        q.max_nodes = 4;  // the domain's own directory is already one
        q.max_entry_size = 200;
        q.max_watches = 2;
        q.max_perms = 2;
        q.max_path_length = 32;
    }
    void TearDown() override { EXPECT_TRUE(xs.check_invariants()); }
};

TEST_F(XenstoreQuota, NodesPerDomain) {
    xs.set_quotas(DomId{5}, q);
    XsClient g{xs, DomId{5}};
    ASSERT_TRUE(g.write("a", "1"));
    ASSERT_TRUE(g.write("b", "1"));
    // Creating two at once (parent + child) would end at 5 > 4: refused as a whole.
    EXPECT_EQ(err(g.write("x/y", "1")), XEN_ENOSPC);
    EXPECT_EQ(err(g.read("x")), XEN_ENOENT);
    ASSERT_TRUE(g.write("c", "1"));
    EXPECT_EQ(err(g.mkdir("d")), XEN_ENOSPC);
    EXPECT_TRUE(g.write("a", "rewrite is not a new node"));
    ASSERT_TRUE(g.rm("a"));
    EXPECT_TRUE(g.mkdir("d"));  // removal gave the slot back
    // dom0 is never limited, also when writing into the guest's tree.
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(dom0.write("/local/domain/5/dom0-" + std::to_string(i), "x"));
}

TEST_F(XenstoreQuota, EntrySizeCountsValueChildrenAndPerms) {
    xs.set_quotas(DomId{5}, q);
    XsClient g{xs, DomId{5}};
    EXPECT_TRUE(g.write("small", std::string(100, 'v')));
    EXPECT_EQ(err(g.write("big", std::string(200, 'v'))), XEN_ENOSPC);
    EXPECT_EQ(err(g.write("small", std::string(200, 'v'))), XEN_ENOSPC);
    EXPECT_EQ(*g.read("small"), std::string(100, 'v'));
    EXPECT_TRUE(dom0.write("/local/domain/5/dom0big", std::string(4000, 'v')));
}

TEST_F(XenstoreQuota, WatchesPermsAndPathLength) {
    xs.set_quotas(DomId{5}, q);
    XsClient g{xs, DomId{5}};
    ASSERT_TRUE(g.watch("w1", "t", [](auto, auto) {}));
    ASSERT_TRUE(g.watch("w2", "t", [](auto, auto) {}));
    EXPECT_EQ(err(g.watch("w3", "t", [](auto, auto) {})), XEN_E2BIG);
    ASSERT_TRUE(g.unwatch("w1", "t"));
    EXPECT_TRUE(g.watch("w3", "t", [](auto, auto) {}));

    ASSERT_TRUE(g.write("p", ""));
    EXPECT_TRUE(g.set_perms("p", {{DomId{5}, kPermNone}, {DomId{6}, kPermRead}}));
    EXPECT_EQ(err(g.set_perms("p", {{DomId{5}, kPermNone}, {DomId{6}, kPermRead}, {DomId{7}, kPermRead}})),
              XEN_ENOSPC);

    EXPECT_TRUE(g.write(std::string(32, 'x'), ""));
    EXPECT_EQ(err(g.write(std::string(33, 'x'), "")), XEN_EINVAL);
}

TEST_F(XenstoreQuota, OxenstoredStyleAnswersEquota) {
    q.style = QuotaStyle::OXenstored;
    xs.set_quotas(DomId{5}, q);
    XsClient g{xs, DomId{5}};
    ASSERT_TRUE(g.write("a", ""));
    ASSERT_TRUE(g.write("b", ""));
    ASSERT_TRUE(g.write("c", ""));
    EXPECT_EQ(err(g.write("d", "")), kEQuota);
    EXPECT_EQ(err(g.write("a", std::string(300, 'v'))), XEN_E2BIG);
    EXPECT_EQ(error_string(kEQuota), "EQUOTA");
    testing::WireGuest w{xs, DomId{5}};
    EXPECT_EQ(w.call(XS_WRITE, testing::nul("d")), "ERR:EQUOTA");
}

TEST_F(XenstoreQuota, RequestSizeOnTheWire) {
    q.max_request_size = 64;
    xs.set_quotas(DomId{5}, q);
    testing::WireGuest g{xs, DomId{5}};
    EXPECT_EQ(g.call(XS_WRITE, testing::nul("k") + std::string(100, 'v')), "ERR:E2BIG");
    EXPECT_EQ(g.call(XS_WRITE, testing::nul("k") + "v"), testing::nul("OK"));  // still in sync
}

TEST(XenstoreErrors, StringsComeFromXsWire) {
    EXPECT_EQ(error_string(XEN_EINVAL), "EINVAL");
    EXPECT_EQ(error_string(XEN_EACCES), "EACCES");
    EXPECT_EQ(error_string(XEN_ENOENT), "ENOENT");
    EXPECT_EQ(error_string(XEN_EAGAIN), "EAGAIN");
    EXPECT_EQ(error_string(XEN_E2BIG), "E2BIG");
    EXPECT_EQ(error_string(XEN_ENOSPC), "ENOSPC");
    EXPECT_EQ(error_string(XEN_EPERM), "EPERM");
    EXPECT_EQ(error_string(XEN_ENOTCONN), "EINVAL");  // no string: EINVAL, as xenstored
}

}  // namespace
}  // namespace pvhv::xs
