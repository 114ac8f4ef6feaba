// pvdrivers/front's grant helper and xenbus front-end half, against the fake environment.
#include <gtest/gtest.h>

#include "front_fake_env.h"

namespace pvhv::test {
namespace {

TEST(FrontGrant, GrantsAndEndsAccessLikeLinux) {
    FakeFrontEnv env;
    env.init_grants(1);
    EXPECT_EQ(gnt_nr_refs(), 512u);
    grant_ref_t ref = 0;
    ASSERT_EQ(gnt_grant(0, 0x1234, true, &ref), 0);
    EXPECT_GE(ref, GNTTAB_NR_RESERVED_ENTRIES);
    grant_entry_v1_t& e = env.table()[ref];
    EXPECT_EQ(e.frame, 0x1234u);
    EXPECT_EQ(e.domid, 0);
    EXPECT_EQ(e.flags, GTF_permit_access | GTF_readonly);

    e.flags |= GTF_reading;  // the back-end holds it
    EXPECT_EQ(gnt_end(ref), -XEN_EBUSY);
    EXPECT_EQ(e.flags, GTF_permit_access | GTF_readonly | GTF_reading);
    e.flags &= ~GTF_reading;
    EXPECT_EQ(gnt_end(ref), 0);
    EXPECT_EQ(e.flags, 0);
    EXPECT_EQ(gnt_refs_in_use(), 0u);
    EXPECT_EQ(gnt_end(ref), -XEN_EINVAL);  // no longer taken
}

TEST(FrontGrant, ChosenRefsRevocationAndExhaustion) {
    FakeFrontEnv env;
    env.init_grants(1);
    EXPECT_EQ(gnt_grant_ref(8, 0, 1, GTF_permit_access), 0);
    EXPECT_EQ(gnt_grant_ref(8, 0, 1, GTF_permit_access), -XEN_EBUSY);
    EXPECT_EQ(gnt_grant_ref(512, 0, 1, GTF_permit_access), -XEN_EINVAL);
    env.table()[8].flags |= GTF_writing;
    gnt_revoke(8);  // a hostile guest's way: whoever holds it
    EXPECT_EQ(gnt_flags(8), 0);
    EXPECT_EQ(gnt_refs_in_use(), 0u);

    grant_ref_t ref = 0;
    for (unsigned int i = GNTTAB_NR_RESERVED_ENTRIES; i < 512; ++i) ASSERT_EQ(gnt_grant(0, i, false, &ref), 0);
    EXPECT_EQ(gnt_grant(0, 1, false, &ref), -XEN_ENOSPC);
    EXPECT_EQ(gnt_end(300), 0);
    EXPECT_EQ(gnt_grant(0, 1, false, &ref), 0);
    EXPECT_EQ(ref, 300u);
}

// A back-end with no rings: connect() succeeds or fails as told.
class PlainBackend : public FakeXenbusBackend {
  public:
    PlainBackend(FakeFrontEnv& env, unsigned int devid, bool ok)
        : FakeXenbusBackend(env, "vbd", devid, {{"feature-x", "1"}}), ok_(ok) {}

  protected:
    std::optional<std::map<std::string, std::string>> connect() override {
        if (!ok_) return std::nullopt;
        return std::map<std::string, std::string>{{"sectors", "8"}};
    }
    bool ok_;
};

int publish_ring_ref(void* arg, uint32_t tx) {
    return xbf_write(static_cast<xenbus_front*>(arg), tx, "ring-ref", "42");
}

TEST(FrontXenbus, FindsTheFirstDeviceAndItsBackend) {
    FakeFrontEnv env;
    PlainBackend be(env, 51728, true);
    PlainBackend be2(env, 51712, true);
    xenbus_front x{};
    ASSERT_EQ(xbf_find(&x, "vbd", XBF_FIRST_DEVICE), 0);
    EXPECT_EQ(x.devid, 51712u);  // xenstore lists children in order
    EXPECT_STREQ(x.node, "device/vbd/51712");
    EXPECT_EQ(std::string(x.backend), be2.back);
    EXPECT_EQ(x.backend_id, 0);
    ASSERT_EQ(xbf_find(&x, "vbd", 51728), 0);
    EXPECT_EQ(std::string(x.backend), be.back);
    EXPECT_EQ(xbf_find(&x, "vif", XBF_FIRST_DEVICE), -XEN_ENOENT);
    EXPECT_EQ(xbf_find(&x, "vbd", 1), -XEN_ENOENT);
    EXPECT_EQ(xbf_read_uint(&x, true, "feature-x", 0), 1u);
    EXPECT_EQ(xbf_read_uint(&x, true, "feature-y", 7), 7u);
}

TEST(FrontXenbus, ConnectPublishesThenFollowsTheBackendToConnected) {
    FakeFrontEnv env;
    PlainBackend be(env, 51712, true);
    env.backend_step = [&] { be.step(); };
    env.commits_to_refuse = 2;  // the transaction is redone until it commits
    xenbus_front x{};
    ASSERT_EQ(xbf_find(&x, "vbd", XBF_FIRST_DEVICE), 0);
    ASSERT_EQ(xbf_connect(&x, publish_ring_ref, &x), 0);
    EXPECT_EQ(env.commits_to_refuse, 0);
    EXPECT_EQ(be.front_key("ring-ref"), "42");
    EXPECT_EQ(be.front_key("state"), "4");
    EXPECT_EQ(be.state(), XenbusStateConnected);
    EXPECT_EQ(xbf_read_uint(&x, true, "sectors", 0), 8u);

    ASSERT_EQ(xbf_close(&x), 0);
    EXPECT_EQ(be.front_key("state"), "6");
    EXPECT_EQ(be.state(), XenbusStateClosed);
    EXPECT_FALSE(x.watching);
    // Events of state changes nobody waited for do not pile up (a guest's queue holds 8).
    EXPECT_LE(env.queued_events(), 1u);
}

TEST(FrontXenbus, ABackendThatGivesUpEndsTheConnect) {
    FakeFrontEnv env;
    PlainBackend be(env, 51712, false);
    env.backend_step = [&] { be.step(); };
    xenbus_front x{};
    ASSERT_EQ(xbf_find(&x, "vbd", XBF_FIRST_DEVICE), 0);
    EXPECT_EQ(xbf_connect(&x, publish_ring_ref, &x), -XEN_EIO);
    EXPECT_EQ(be.state(), XenbusStateClosing);
    EXPECT_EQ(xbf_close(&x), 0);  // Closing -> our Closed -> its Closed
    EXPECT_EQ(be.state(), XenbusStateClosed);
}

TEST(FrontXenbus, ABackendThatNeverMovesTimesOut) {
    FakeFrontEnv env;
    PlainBackend be(env, 51712, true);
    env.write(be.back + "/state", "1");  // never reaches InitWait; the back-end never steps
    xenbus_front x{};
    ASSERT_EQ(xbf_find(&x, "vbd", XBF_FIRST_DEVICE), 0);
    EXPECT_EQ(xbf_connect(&x, publish_ring_ref, &x), -XEN_ETIMEDOUT);
    EXPECT_GE(env.now_ms, XBF_TIMEOUT_MS);
    EXPECT_EQ(be.front_key("ring-ref"), "");
}

TEST(FrontXenbus, UnparsableBackendStateCountsAsUnknown) {
    FakeFrontEnv env;
    PlainBackend be(env, 51712, true);
    xenbus_front x{};
    ASSERT_EQ(xbf_find(&x, "vbd", XBF_FIRST_DEVICE), 0);
    for (const char* bad : {"9", "04x", "", "-1", "99999999999999999999999"}) {
        env.write(be.back + "/state", bad);
        EXPECT_EQ(xbf_backend_state(&x), XenbusStateUnknown) << bad;
    }
}

}  // namespace
}  // namespace pvhv::test
