// Unit tests of the standard domain tree: xl's layout and permissions, lifecycle watch events.
#include <gtest/gtest.h>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/domain_tree.h"

namespace pvhv::xs {
namespace {

int err(const auto& r) { return r ? 0 : r.error().xen_errno; }

struct XenstoreDomainTree : ::testing::Test {
    Xenstore xs;
    XsClient dom0{xs};
    DomainTreeSpec spec{.domid = DomId{4},
                        .name = "guest",
                        .uuid = "",
                        .memory_kib = 262144,
                        .max_memory_kib = 0,
                        .vcpus = 2,
                        .store_port = 1,
                        .store_ring_ref = 0xfeffc,
                        .console = std::nullopt};
    void TearDown() override { EXPECT_TRUE(xs.check_invariants()); }
};

TEST_F(XenstoreDomainTree, LayoutAndValuesAsXl) {
    ASSERT_TRUE(create_domain_tree(dom0, spec));
    const std::string d = "/local/domain/4";
    EXPECT_EQ(*dom0.read(d + "/name"), "guest");
    EXPECT_EQ(*dom0.read(d + "/domid"), "4");
    EXPECT_EQ(*dom0.read(d + "/vm"), "/vm/" + default_uuid(DomId{4}));
    EXPECT_EQ(*dom0.read("/vm/" + default_uuid(DomId{4}) + "/name"), "guest");
    EXPECT_EQ(*dom0.read(d + "/memory/target"), "262144");
    EXPECT_EQ(*dom0.read(d + "/memory/static-max"), "262144");
    EXPECT_EQ(*dom0.read(d + "/cpu/1/availability"), "online");
    EXPECT_EQ(*dom0.read(d + "/store/port"), "1");
    EXPECT_EQ(*dom0.read(d + "/store/ring-ref"), std::to_string(0xfeffc));
    EXPECT_EQ(*dom0.read(d + "/control/platform-feature-xs_reset_watches"), "1");
    EXPECT_EQ(format_perms_text(*dom0.get_perms(d)), "n0,r4");
    EXPECT_EQ(format_perms_text(*dom0.get_perms(d + "/control/shutdown")), "n4");
    EXPECT_EQ(format_perms_text(*dom0.get_perms(d + "/data")), "n4");
    EXPECT_EQ(default_uuid(DomId{0x1234}), "00000000-0000-0000-0000-000000001234");
}

TEST_F(XenstoreDomainTree, PrimaryConsoleNodesAsLibxl) {
    spec.console = DomainTreeSpec::Console{.ring_ref = 0xfeff1, .port = 2};
    ASSERT_TRUE(create_domain_tree(dom0, spec));
    const std::string fe = "/local/domain/4/console", be = "/local/domain/0/backend/console/4/0";
    EXPECT_EQ(console_backend_path(DomId{4}), be);
    EXPECT_EQ(*dom0.read(fe + "/ring-ref"), std::to_string(0xfeff1));
    EXPECT_EQ(*dom0.read(fe + "/port"), "2");
    EXPECT_EQ(*dom0.read(fe + "/type"), "xenconsoled");
    EXPECT_EQ(*dom0.read(fe + "/backend"), be);
    EXPECT_EQ(*dom0.read(fe + "/backend-id"), "0");
    EXPECT_EQ(*dom0.read(be + "/frontend"), fe);
    EXPECT_EQ(*dom0.read(be + "/frontend-id"), "4");
    EXPECT_EQ(*dom0.read(be + "/state"), "1");
    XsClient guest{xs, DomId{4}};
    EXPECT_EQ(*guest.read(be + "/protocol"), "vt100");  // the guest reads its backend
    EXPECT_EQ(err(guest.write(fe + "/ring-ref", "1")), XEN_EACCES);
    EXPECT_EQ(err(guest.write(be + "/state", "4")), XEN_EACCES);
    ASSERT_TRUE(destroy_domain_tree(dom0, DomId{4}));
    EXPECT_EQ(err(dom0.read(be)), XEN_ENOENT);
}

TEST_F(XenstoreDomainTree, GuestMayUseItsControlNodesButNotRewriteItsIdentity) {
    ASSERT_TRUE(create_domain_tree(dom0, spec));
    XsClient guest{xs, DomId{4}};
    EXPECT_EQ(*guest.read("name"), "guest");
    EXPECT_TRUE(guest.write("control/shutdown", ""));
    EXPECT_TRUE(guest.write("control/feature-poweroff", "1"));
    EXPECT_TRUE(guest.write("data/anything", "x"));
    EXPECT_EQ(err(guest.write("name", "evil")), XEN_EACCES);
    EXPECT_EQ(err(guest.write("memory/target", "99999999")), XEN_EACCES);
    EXPECT_EQ(err(guest.write("device/vbd", "x")), XEN_EACCES);
    EXPECT_EQ(err(guest.rm("control")), XEN_EACCES);
    // Another guest sees nothing of it.
    XsClient other{xs, DomId{5}};
    EXPECT_EQ(err(other.read("/local/domain/4/name")), XEN_EACCES);
}

TEST_F(XenstoreDomainTree, LifecycleFiresSpecialWatchesAndCleansUp) {
    std::vector<std::string> events;
    ASSERT_TRUE(dom0.watch("@introduceDomain", "i", [&](auto p, auto) { events.emplace_back(p); }));
    ASSERT_TRUE(dom0.watch("@releaseDomain", "r", [&](auto p, auto) { events.emplace_back(p); }));
    events.clear();
    ASSERT_TRUE(create_dom0_tree(dom0));
    const size_t base = xs.node_count();
    auto conn = create_domain_tree(dom0, spec);
    ASSERT_TRUE(conn);
    EXPECT_FALSE(xs.is_broken(*conn));
    // Recreating the same domid starts from a clean slate.
    ASSERT_TRUE(dom0.write("/local/domain/4/data/stale", "x"));
    ASSERT_TRUE(create_domain_tree(dom0, spec));
    EXPECT_EQ(err(dom0.read("/local/domain/4/data/stale")), XEN_ENOENT);
    ASSERT_TRUE(destroy_domain_tree(dom0, DomId{4}));
    EXPECT_EQ(err(dom0.read("/local/domain/4")), XEN_ENOENT);
    EXPECT_EQ(err(dom0.read("/vm/" + default_uuid(DomId{4}))), XEN_ENOENT);
    EXPECT_TRUE(xs.is_broken(*conn));
    EXPECT_EQ(xs.node_count(), base + 1);  // "/vm" stays, as in xl
    EXPECT_EQ(events, (std::vector<std::string>{"@introduceDomain", "@introduceDomain", "@releaseDomain"}));
    EXPECT_EQ(*dom0.read("/local/domain/0/name"), "Domain-0");
    EXPECT_TRUE(destroy_domain_tree(dom0, DomId{4}));  // twice is harmless
}

TEST_F(XenstoreDomainTree, OnlyDom0BuildsTrees) {
    XsClient guest{xs, DomId{4}};
    EXPECT_EQ(err(create_domain_tree(guest, spec)), XEN_EPERM);
    spec.domid = kDom0;
    EXPECT_EQ(err(create_domain_tree(dom0, spec)), XEN_EINVAL);
}

}  // namespace
}  // namespace pvhv::xs
