// Unit tests of the xenstore tree: paths, permissions, parent creation, removal, DIRECTORY_PART.
#include <gtest/gtest.h>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/path.h"
#include "dom0-tools/xenstore/perms.h"
#include "dom0-tools/xenstore/tree_ops.h"
#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace pvhv::xs {
namespace {

int err(const auto& r) { return r ? 0 : r.error().xen_errno; }

TEST(XenstorePath, ValidityFollowsXenstored) {
    const PathLimits dom0{2048, true};
    EXPECT_TRUE(is_valid_path("/", dom0, false));
    EXPECT_TRUE(is_valid_path("/local/domain/1/device/vbd/768", dom0, false));
    EXPECT_TRUE(is_valid_path("/a-b_c@d", dom0, false));
    EXPECT_FALSE(is_valid_path("", dom0, false));
    EXPECT_FALSE(is_valid_path("a/b", dom0, false));
    EXPECT_FALSE(is_valid_path("/a/", dom0, false));
    EXPECT_FALSE(is_valid_path("/a//b", dom0, false));
    EXPECT_FALSE(is_valid_path("/a b", dom0, false));
    EXPECT_FALSE(is_valid_path("/a.b", dom0, false));
    EXPECT_FALSE(is_valid_path(std::string("/a\0b", 4), dom0, false));
    EXPECT_FALSE(is_valid_path("@releaseDomain", dom0, false));
    EXPECT_TRUE(is_valid_path("@releaseDomain", dom0, true));
    EXPECT_FALSE(is_valid_path("/" + std::string(XENSTORE_ABS_PATH_MAX, 'a'), dom0, false));
}

TEST(XenstorePath, RelativeLengthLimitCountsBelowTheDomainPath) {
    const PathLimits guest{10, false};
    EXPECT_TRUE(is_valid_path("/local/domain/5/abcdefghij", guest, false));
    EXPECT_FALSE(is_valid_path("/local/domain/5/abcdefghijk", guest, false));
    EXPECT_FALSE(is_valid_path("/abcdefghijk", guest, false));
    EXPECT_TRUE(is_valid_path("/abcdefghijk", PathLimits{10, true}, false));
}

TEST(XenstorePath, CanonicalizeAndAlgebra) {
    EXPECT_EQ(canonicalize(DomId{5}, "device/vif"), "/local/domain/5/device/vif");
    EXPECT_EQ(canonicalize(DomId{5}, "/abs"), "/abs");
    EXPECT_EQ(canonicalize(DomId{5}, "@releaseDomain"), "@releaseDomain");
    EXPECT_EQ(parent_of("/a/b"), "/a");
    EXPECT_EQ(parent_of("/a"), "/");
    EXPECT_EQ(basename_of("/a/b"), "b");
    EXPECT_EQ(child_path("/", "a"), "/a");
    EXPECT_TRUE(is_at_or_below("/a/b", "/a"));
    EXPECT_TRUE(is_at_or_below("/a", "/a"));
    EXPECT_FALSE(is_at_or_below("/ab", "/a"));
    EXPECT_TRUE(is_at_or_below("/ab", "/"));
    EXPECT_FALSE(parse_domid("65536"));
    EXPECT_FALSE(parse_domid("-1"));
    EXPECT_FALSE(parse_domid("1x"));
    EXPECT_EQ(parse_domid("65535")->value, 65535);
}

TEST(XenstorePerms, ParseFormatAndAccessRule) {
    EXPECT_EQ(parse_perm("b7"), (Perm{DomId{7}, kPermRead | kPermWrite}));
    EXPECT_EQ(parse_perm("n0"), (Perm{DomId{0}, kPermNone}));
    EXPECT_FALSE(parse_perm("x1"));
    EXPECT_FALSE(parse_perm("r"));
    EXPECT_FALSE(parse_perm("r99999"));
    const Perms p{{DomId{3}, kPermRead}, {DomId{5}, kPermWrite}, {DomId{6}, kPermNone}};
    EXPECT_EQ(format_perms_text(p), "r3,w5,n6");
    EXPECT_EQ(format_perms_wire(p), std::string("r3\0w5\0n6\0", 9));
    EXPECT_EQ(perm_for(kDom0, p), kPermRead | kPermWrite | kPermOwner);    // dom0 bypasses
    EXPECT_EQ(perm_for(DomId{3}, p), kPermRead | kPermWrite | kPermOwner); // owner
    EXPECT_EQ(perm_for(DomId{5}, p), kPermWrite);                          // listed
    EXPECT_EQ(perm_for(DomId{6}, p), kPermNone);                           // listed: none
    EXPECT_EQ(perm_for(DomId{9}, p), kPermRead);                           // default = owner entry
}

struct XenstoreTree : ::testing::Test {
    Xenstore xs;
    XsClient dom0{xs};
    XsClient guest{xs, DomId{5}};
    XsClient other{xs, DomId{6}};

    void SetUp() override {
        ASSERT_TRUE(dom0.mkdir("/local/domain/5"));
        ASSERT_TRUE(dom0.set_perms("/local/domain/5", {{DomId{5}, kPermNone}}));
        ASSERT_TRUE(dom0.write("/secret", "s"));
        ASSERT_TRUE(dom0.write("/public", "p"));
        ASSERT_TRUE(dom0.set_perms("/public", {{kDom0, kPermRead}}));
    }
    void TearDown() override { EXPECT_TRUE(xs.check_invariants()) << xs.check_invariants().error().message; }
};

TEST_F(XenstoreTree, WriteCreatesMissingParentsThatInheritPermissions) {
    ASSERT_TRUE(dom0.set_perms("/public", {{kDom0, kPermRead}, {DomId{6}, kPermNone}}));
    ASSERT_TRUE(dom0.write("/public/a/b/c", "v"));
    EXPECT_EQ(*dom0.read("/public/a/b/c"), "v");
    EXPECT_EQ(*dom0.read("/public/a"), "");
    EXPECT_EQ(*dom0.directory("/public/a"), std::vector<std::string>{"b"});
    EXPECT_EQ(format_perms_text(*dom0.get_perms("/public/a/b")), "r0,n6");
    EXPECT_EQ(*guest.read("/public/a/b/c"), "v");
    EXPECT_EQ(err(other.read("/public/a/b/c")), XEN_EACCES);
}

TEST_F(XenstoreTree, GuestCreatedNodesAreOwnedByTheGuest) {
    ASSERT_TRUE(dom0.set_perms("/local/domain/5", {{kDom0, kPermNone}, {DomId{5}, kPermWrite | kPermRead}}));
    ASSERT_TRUE(guest.write("data/x/y", "1"));  // relative to /local/domain/5
    EXPECT_EQ(format_perms_text(*dom0.get_perms("/local/domain/5/data/x")), "n5,b5");
    EXPECT_EQ(*dom0.read("/local/domain/5/data/x/y"), "1");
    EXPECT_EQ(xs.check_invariants().has_value(), true);
}

TEST_F(XenstoreTree, PermissionDenialsAndHiddenExistence) {
    EXPECT_EQ(err(guest.read("/secret")), XEN_EACCES);
    EXPECT_EQ(err(guest.write("/secret", "x")), XEN_EACCES);
    EXPECT_EQ(err(guest.write("/public", "x")), XEN_EACCES);  // read-only for others
    EXPECT_EQ(*guest.read("/public"), "p");
    // A missing node below an unreadable parent is EACCES, not ENOENT: no probing.
    EXPECT_EQ(err(guest.read("/secret/missing")), XEN_EACCES);
    EXPECT_EQ(err(guest.read("/public/missing")), XEN_ENOENT);
    // Creating needs write access to the nearest existing ancestor.
    EXPECT_EQ(err(guest.write("/public/new", "x")), XEN_EACCES);
    EXPECT_EQ(err(guest.mkdir("/newtop")), XEN_EACCES);
    EXPECT_EQ(err(dom0.read("/newtop")), XEN_ENOENT);
    EXPECT_EQ(err(guest.directory("/")), XEN_EACCES);
    EXPECT_EQ(err(guest.rm("/public")), XEN_EACCES);
    EXPECT_TRUE(dom0.read("/public"));
    // The guest's own subtree is its own.
    EXPECT_TRUE(guest.write("mine", "m"));
    EXPECT_EQ(err(other.read("/local/domain/5/mine")), XEN_EACCES);
}

TEST_F(XenstoreTree, PathsAreValidated) {
    EXPECT_EQ(err(dom0.write("/a//b", "x")), XEN_EINVAL);
    EXPECT_EQ(err(dom0.write("/a/", "x")), XEN_EINVAL);
    EXPECT_EQ(err(dom0.read("/a b")), XEN_EINVAL);
    EXPECT_EQ(err(guest.read("")), XEN_EINVAL);  // "/local/domain/5/" ends with '/'
    EXPECT_EQ(err(dom0.read("@releaseDomain")), XEN_EINVAL);
}

TEST_F(XenstoreTree, MkdirKeepsExistingValue) {
    ASSERT_TRUE(dom0.write("/d", "keep"));
    ASSERT_TRUE(dom0.mkdir("/d"));
    EXPECT_EQ(*dom0.read("/d"), "keep");
    ASSERT_TRUE(dom0.mkdir("/e/f"));
    EXPECT_EQ(*dom0.read("/e/f"), "");
}

TEST_F(XenstoreTree, RmRemovesSubtreesAndToleratesMissingLeaves) {
    const size_t before = xs.node_count();
    ASSERT_TRUE(dom0.write("/t/a/b", "1"));
    ASSERT_TRUE(dom0.write("/t/a/c", "2"));
    ASSERT_TRUE(dom0.write("/t/d", "3"));
    ASSERT_TRUE(dom0.rm("/t/a"));
    EXPECT_EQ(err(dom0.read("/t/a/b")), XEN_ENOENT);
    EXPECT_EQ(*dom0.directory("/t"), std::vector<std::string>{"d"});
    EXPECT_TRUE(dom0.rm("/t/nothing"));                 // parent exists: fine
    EXPECT_EQ(err(dom0.rm("/t/no/thing")), XEN_ENOENT);  // parent missing
    EXPECT_EQ(err(dom0.rm("/")), XEN_EINVAL);
    ASSERT_TRUE(dom0.rm("/t"));
    EXPECT_EQ(xs.node_count(), before);
}

TEST_F(XenstoreTree, SetPermsNeedsOwnershipAndOnlyDom0ChangesOwners) {
    ASSERT_TRUE(guest.write("n", "v"));
    EXPECT_TRUE(guest.set_perms("n", {{DomId{5}, kPermNone}, {DomId{6}, kPermRead}}));
    EXPECT_EQ(*other.read("/local/domain/5/n"), "v");
    EXPECT_EQ(err(guest.set_perms("n", {{DomId{6}, kPermNone}})), XEN_EPERM);
    EXPECT_EQ(err(other.set_perms("/local/domain/5/n", {{DomId{5}, kPermRead}})), XEN_EACCES);
    // Write permission alone is not ownership.
    ASSERT_TRUE(dom0.set_perms("/public", {{kDom0, kPermNone}, {DomId{6}, kPermRead | kPermWrite}}));
    EXPECT_TRUE(other.write("/public", "changed"));
    EXPECT_EQ(err(other.set_perms("/public", {{kDom0, kPermRead}})), XEN_EACCES);
    // dom0 gives the node away.
    EXPECT_TRUE(dom0.set_perms("/public", {{DomId{6}, kPermNone}}));
    EXPECT_TRUE(other.set_perms("/public", {{DomId{6}, kPermRead}}));
    EXPECT_EQ(err(dom0.set_perms("/public", {})), XEN_EINVAL);
}

TEST_F(XenstoreTree, ValuesAreBinary) {
    const std::string v("a\0b\xff", 4);
    ASSERT_TRUE(dom0.write("/bin", v));
    EXPECT_EQ(*dom0.read("/bin"), v);
}

TEST_F(XenstoreTree, DirectoryListsInCreationOrder) {
    for (const char* n : {"z", "a", "m"}) ASSERT_TRUE(dom0.mkdir(std::string("/order/") + n));
    EXPECT_EQ(*dom0.directory("/order"), (std::vector<std::string>{"z", "a", "m"}));
}

TEST(XenstoreTreeOps, DirectoryPartPagesThroughLargeDirectories) {
    Store store;
    DirectAccess access(store);
    Quotas q;
    std::vector<Change> changes;
    TreeOps ops(access, kDom0, q, changes);
    std::string all;
    for (int i = 0; i < 400; ++i) {
        const std::string name = "child-with-a-long-name-" + std::to_string(i);
        ASSERT_TRUE(ops.mkdir("/big/" + name));
        all += name;
        all += '\0';
    }
    std::string got;
    uint32_t offset = 0;
    std::string generation;
    for (int parts = 0;; ++parts) {
        ASSERT_LT(parts, 10);
        auto r = ops.directory_part("/big", offset);
        ASSERT_TRUE(r);
        ASSERT_LE(r->size(), size_t{XENSTORE_PAYLOAD_MAX});
        const size_t gen_end = r->find('\0');
        if (parts == 0) generation = r->substr(0, gen_end);
        EXPECT_EQ(r->substr(0, gen_end), generation);
        std::string body = r->substr(gen_end + 1);
        const bool last = body.size() >= 2 && body.ends_with(std::string("\0\0", 2));
        if (last || body == std::string(1, '\0')) {
            got += body.substr(0, body.size() - 1);
            break;
        }
        got += body;
        offset += static_cast<uint32_t>(body.size());
    }
    EXPECT_EQ(got, all);
    auto past = ops.directory_part("/big", 1u << 30);
    ASSERT_TRUE(past);
    EXPECT_EQ(*past, generation + std::string("\0\0", 2));
}

TEST(XenstoreTreeOps, GenerationsChangeWithChildren) {
    Store store;
    DirectAccess access(store);
    Quotas q;
    std::vector<Change> changes;
    TreeOps ops(access, kDom0, q, changes);
    ASSERT_TRUE(ops.mkdir("/g"));
    const uint64_t g1 = store.generation_of("/g");
    ASSERT_TRUE(ops.mkdir("/g/c"));
    EXPECT_NE(store.generation_of("/g"), g1);
    EXPECT_EQ(store.generation_of("/nothing"), kNoGeneration);
}

}  // namespace
}  // namespace pvhv::xs
