// Unit tests of xenstore transactions: isolation, commit, EAGAIN conflicts, abort, ids, quotas.
#include <gtest/gtest.h>

#include "dom0-tools/xenstore/client.h"

namespace pvhv::xs {
namespace {

int err(const auto& r) { return r ? 0 : r.error().xen_errno; }

struct XenstoreTransaction : ::testing::Test {
    Xenstore xs;
    XsClient a{xs};
    XsClient b{xs};
    void SetUp() override {
        ASSERT_TRUE(a.write("/x", "1"));
        ASSERT_TRUE(a.write("/dir/one", ""));
    }
    void TearDown() override { EXPECT_TRUE(xs.check_invariants()); }
};

TEST_F(XenstoreTransaction, WritesAreInvisibleUntilCommit) {
    auto t = a.transaction_start();
    ASSERT_TRUE(t);
    EXPECT_NE(*t, kNoTx);
    ASSERT_TRUE(a.write("/x", "2", *t));
    ASSERT_TRUE(a.write("/new/deep", "n", *t));
    EXPECT_EQ(*a.read("/x", *t), "2");
    EXPECT_EQ(*a.read("/x"), "1");
    EXPECT_EQ(err(b.read("/new/deep")), XEN_ENOENT);
    ASSERT_TRUE(a.transaction_end(*t, true));
    EXPECT_EQ(*b.read("/x"), "2");
    EXPECT_EQ(*b.read("/new/deep"), "n");
}

TEST_F(XenstoreTransaction, AbortDiscards) {
    auto t = *a.transaction_start();
    ASSERT_TRUE(a.rm("/dir", t));
    EXPECT_EQ(err(a.read("/dir/one", t)), XEN_ENOENT);
    ASSERT_TRUE(a.transaction_end(t, false));
    EXPECT_TRUE(a.read("/dir/one"));
    EXPECT_EQ(err(a.transaction_end(t, true)), XEN_ENOENT);  // gone after end
}

TEST_F(XenstoreTransaction, ConflictOnReadNodeChanged) {
    auto t = *a.transaction_start();
    ASSERT_TRUE(a.read("/x", t));
    ASSERT_TRUE(a.write("/y", "from tx", t));
    ASSERT_TRUE(b.write("/x", "other"));
    EXPECT_EQ(err(a.transaction_end(t, true)), XEN_EAGAIN);
    EXPECT_EQ(err(b.read("/y")), XEN_ENOENT);  // nothing of the transaction landed
}

TEST_F(XenstoreTransaction, ConflictOnWrittenNodeChanged) {
    auto t = *a.transaction_start();
    ASSERT_TRUE(a.write("/x", "tx", t));
    ASSERT_TRUE(b.write("/x", "other"));
    EXPECT_EQ(err(a.transaction_end(t, true)), XEN_EAGAIN);
    EXPECT_EQ(*b.read("/x"), "other");
}

TEST_F(XenstoreTransaction, ConflictWhenAMissingNodeAppears) {
    auto t = *a.transaction_start();
    EXPECT_EQ(err(a.read("/later", t)), XEN_ENOENT);
    ASSERT_TRUE(b.write("/later", "here"));
    EXPECT_EQ(err(a.transaction_end(t, true)), XEN_EAGAIN);
}

TEST_F(XenstoreTransaction, ConflictWhenAListedDirectoryGainsAChild) {
    auto t = *a.transaction_start();
    ASSERT_TRUE(a.directory("/dir", t));
    ASSERT_TRUE(b.mkdir("/dir/two"));
    EXPECT_EQ(err(a.transaction_end(t, true)), XEN_EAGAIN);
}

TEST_F(XenstoreTransaction, NoConflictForUntouchedNodes) {
    auto t = *a.transaction_start();
    ASSERT_TRUE(a.write("/x", "tx", t));
    ASSERT_TRUE(b.write("/unrelated", "u"));
    ASSERT_TRUE(b.write("/dir/one", "touched"));
    EXPECT_TRUE(a.transaction_end(t, true));
    EXPECT_EQ(*b.read("/x"), "tx");
}

TEST_F(XenstoreTransaction, TwoTransactionsCreatingTheSameNodeConflict) {
    auto t1 = *a.transaction_start();
    auto t2 = *b.transaction_start();
    ASSERT_TRUE(a.write("/race/n", "a", t1));
    ASSERT_TRUE(b.write("/race/n", "b", t2));
    EXPECT_TRUE(a.transaction_end(t1, true));
    EXPECT_EQ(err(b.transaction_end(t2, true)), XEN_EAGAIN);
    EXPECT_EQ(*a.read("/race/n"), "a");
}

TEST_F(XenstoreTransaction, TransactRetriesOnConflict) {
    int runs = 0;
    auto r = a.transact([&](TxId t) -> Result<void> {
        auto v = a.read("/x", t);
        if (!v) return std::unexpected(v.error());
        if (++runs == 1) (void)b.write("/x", "interfering");  // forces one EAGAIN
        return a.write("/x", *v + "+", t);
    });
    ASSERT_TRUE(r);
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(*a.read("/x"), "interfering+");
}

TEST_F(XenstoreTransaction, IdsAndErrors) {
    EXPECT_EQ(err(a.read("/x", 12345)), XEN_ENOENT);
    EXPECT_EQ(err(a.transaction_end(kNoTx, true)), XEN_ENOENT);
    auto t1 = *a.transaction_start();
    auto t2 = *a.transaction_start();
    EXPECT_NE(t1, t2);
    // Transactions belong to their connection.
    EXPECT_EQ(err(b.read("/x", t1)), XEN_ENOENT);
    // TRANSACTION_START inside a transaction: EBUSY (xenstored), unknown id: ENOENT.
    EXPECT_EQ(err(xs.execute(a.conn(), t1, req::TransactionStart{})), XEN_EBUSY);
    EXPECT_EQ(err(xs.execute(a.conn(), 999, req::TransactionStart{})), XEN_ENOENT);
    EXPECT_TRUE(a.transaction_end(t1, false));
    EXPECT_TRUE(a.transaction_end(t2, false));
}

TEST_F(XenstoreTransaction, WatchEventsWaitForCommitAndVanishOnAbort) {
    std::vector<std::string> seen;
    ASSERT_TRUE(b.watch("/x", "tok", [&](std::string_view p, std::string_view) { seen.emplace_back(p); }));
    seen.clear();  // the initial event
    auto t = *a.transaction_start();
    ASSERT_TRUE(a.write("/x", "2", t));
    EXPECT_TRUE(seen.empty());
    ASSERT_TRUE(a.transaction_end(t, false));
    EXPECT_TRUE(seen.empty());
    t = *a.transaction_start();
    ASSERT_TRUE(a.write("/x", "3", t));
    ASSERT_TRUE(a.transaction_end(t, true));
    EXPECT_EQ(seen, std::vector<std::string>{"/x"});
}

TEST_F(XenstoreTransaction, GuestTransactionsAreLimited) {
    Quotas q;
    q.max_transactions = 2;
    q.max_transaction_nodes = 4;
    xs.set_quotas(DomId{7}, q);
    XsClient g{xs, DomId{7}};
    ASSERT_TRUE(a.mkdir("/local/domain/7"));
    ASSERT_TRUE(a.set_perms("/local/domain/7", {{DomId{7}, kPermNone}}));
    auto t1 = g.transaction_start();
    auto t2 = g.transaction_start();
    ASSERT_TRUE(t1 && t2);
    EXPECT_EQ(err(g.transaction_start()), XEN_ENOSPC);
    ASSERT_TRUE(g.transaction_end(*t2, false));
    // Touching more than 4 distinct nodes in one transaction fails and changes nothing.
    EXPECT_TRUE(g.write("a", "1", *t1));  // touches a, /local/domain/7
    EXPECT_TRUE(g.write("b", "1", *t1));  // + b
    EXPECT_EQ(err(g.write("c/d/e", "1", *t1)), XEN_ENOSPC);
    EXPECT_EQ(err(g.read("c/d/e", *t1)), XEN_ENOSPC);
    EXPECT_EQ(err(g.transaction_end(*t1, true)), XEN_ENOSPC);
    EXPECT_EQ(err(g.read("a")), XEN_ENOENT);
}

}  // namespace
}  // namespace pvhv::xs
