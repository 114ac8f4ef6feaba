// Unit tests of __HYPERVISOR_grant_table_op (setup, query_size, versions) on a fake domain.
#include <gtest/gtest.h>

#include "fake_hypercall_domain.h"
#include "gnttab_fixture.h"
#include "hv/hypercall/handlers.h"

namespace pvhv {
namespace {

// The fake domain (d7) with a grant table.
class GnttabFakeDomain : public testing::FakeHypercallDomain {
  public:
    explicit GnttabFakeDomain(GrantTable& t) : table_(t) {}
    GrantTable* grant_table() override { return &table_; }

  private:
    GrantTable& table_;
};

class GnttabHypercall : public testing::GnttabFixture {
  protected:
    static constexpr uint64_t kArg = 0x10000;   // where the op struct goes (paging off)
    static constexpr uint64_t kList = 0x11000;  // frame list

    int64_t op(uint64_t cmd, uint64_t uop, uint64_t count, HypercallDomain* dom = nullptr) {
        GuestLinearAccess guest(mem, PagingMode{});
        HypercallContext ctx{guest, dom ? *dom : domain, VcpuId{0}};
        return do_grant_table_op(
            ctx, HypercallArgs{__HYPERVISOR_grant_table_op, {cmd, uop, count, 0, 0}});
    }
    template <class T>
    void put(const T& v, uint64_t gpa = kArg) {
        ASSERT_TRUE(mem.write(Gpa{gpa}, v));
    }
    template <class T>
    T get(uint64_t gpa = kArg) {
        return *mem.read<T>(Gpa{gpa});
    }
    gnttab_setup_table_t setup_op(uint16_t dom, uint32_t nr, uint64_t list = kList) {
        gnttab_setup_table_t s{};
        s.dom = dom;
        s.nr_frames = nr;
        s.status = 99;
        s.frame_list.p = reinterpret_cast<xen_pfn_t*>(list);
        return s;
    }

    GnttabFakeDomain domain{*table};
};

TEST_F(GnttabHypercall, QuerySize) {
    put(gnttab_query_size_t{DOMID_SELF, 0, 0, 99});
    ASSERT_EQ(op(GNTTABOP_query_size, kArg, 1), 0);
    auto q = get<gnttab_query_size_t>();
    EXPECT_EQ(q.status, GNTST_okay);
    EXPECT_EQ(q.nr_frames, 1u);
    EXPECT_EQ(q.max_nr_frames, 4u);

    put(gnttab_query_size_t{7, 0, 0, 99});  // own id is as good as DOMID_SELF
    ASSERT_EQ(op(GNTTABOP_query_size, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_query_size_t>().status, GNTST_okay);

    put(gnttab_query_size_t{0, 0, 0, 99});  // dom0's table: not ours to ask about
    ASSERT_EQ(op(GNTTABOP_query_size, kArg, 1), 0);
    q = get<gnttab_query_size_t>();
    EXPECT_EQ(q.status, GNTST_permission_denied);
    EXPECT_EQ(q.max_nr_frames, 0u);

    EXPECT_EQ(op(GNTTABOP_query_size, kArg, 2), -XEN_EINVAL);
    EXPECT_EQ(op(GNTTABOP_query_size, kArg, 0), -XEN_EINVAL);
    EXPECT_EQ(op(GNTTABOP_query_size, kRamEnd - 8, 1), -XEN_EFAULT);
}

TEST_F(GnttabHypercall, SetupTableGrowsAndReportsPlacedFrames) {
    ASSERT_TRUE(table->place_frame(1, Gfn{0xf0000}));
    put(setup_op(DOMID_SELF, 3));
    ASSERT_EQ(op(GNTTABOP_setup_table, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_setup_table_t>().status, GNTST_okay);
    EXPECT_EQ(table->nr_frames(), 3u);
    EXPECT_EQ(get<uint64_t>(kList), kGrantFrameNotPlaced);
    EXPECT_EQ(get<uint64_t>(kList + 8), 0xf0000u);
    EXPECT_EQ(get<uint64_t>(kList + 16), kGrantFrameNotPlaced);
    EXPECT_EQ(get<uint64_t>(kList + 24), 0u);  // only nr_frames entries are written
    // Only the status field is written back.
    EXPECT_EQ(get<gnttab_setup_table_t>().nr_frames, 3u);
}

TEST_F(GnttabHypercall, SetupTableErrorsGoToStatus) {
    put(setup_op(DOMID_SELF, 5));  // beyond max_frames
    ASSERT_EQ(op(GNTTABOP_setup_table, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_setup_table_t>().status, GNTST_general_error);
    EXPECT_EQ(table->nr_frames(), 1u);

    put(setup_op(3, 1));
    ASSERT_EQ(op(GNTTABOP_setup_table, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_setup_table_t>().status, GNTST_permission_denied);

    put(setup_op(DOMID_SELF, 2, kRamEnd - 8));  // first element fits, second faults
    ASSERT_EQ(op(GNTTABOP_setup_table, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_setup_table_t>().status, GNTST_bad_virt_addr);
    EXPECT_EQ(get<uint64_t>(kRamEnd - 8), kGrantFrameNotPlaced);
    EXPECT_EQ(table->nr_frames(), 2u);  // the table did grow, as in Xen

    put(setup_op(DOMID_SELF, 0));
    ASSERT_EQ(op(GNTTABOP_setup_table, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_setup_table_t>().status, GNTST_okay);

    EXPECT_EQ(op(GNTTABOP_setup_table, kArg, 2), -XEN_EINVAL);
    EXPECT_EQ(op(GNTTABOP_setup_table, 0xfffffffffffff000ull, 1), -XEN_EFAULT);
}

TEST_F(GnttabHypercall, SetAndGetVersion) {
    put(gnttab_set_version_t{1});
    EXPECT_EQ(op(GNTTABOP_set_version, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_set_version_t>().version, 1u);

    put(gnttab_set_version_t{2});  // as Xen with gnttab=max-ver:1
    EXPECT_EQ(op(GNTTABOP_set_version, kArg, 1), -XEN_ENOSYS);
    EXPECT_EQ(get<gnttab_set_version_t>().version, 1u);

    put(gnttab_set_version_t{3});
    EXPECT_EQ(op(GNTTABOP_set_version, kArg, 1), -XEN_EINVAL);
    EXPECT_EQ(get<gnttab_set_version_t>().version, 1u);
    put(gnttab_set_version_t{0});
    EXPECT_EQ(op(GNTTABOP_set_version, kArg, 0), -XEN_EINVAL);  // count is not looked at

    put(gnttab_get_version_t{DOMID_SELF, 0, 0});
    EXPECT_EQ(op(GNTTABOP_get_version, kArg, 1), 0);
    EXPECT_EQ(get<gnttab_get_version_t>().version, 1u);
    put(gnttab_get_version_t{0, 0, 0});
    EXPECT_EQ(op(GNTTABOP_get_version, kArg, 1), -XEN_EPERM);
    EXPECT_EQ(get<gnttab_get_version_t>().version, 0u);
    EXPECT_EQ(op(GNTTABOP_get_version, kRamEnd, 1), -XEN_EFAULT);
}

TEST_F(GnttabHypercall, CommandAndCountFiltering) {
    for (uint32_t cmd :
         {GNTTABOP_map_grant_ref, GNTTABOP_unmap_grant_ref, GNTTABOP_copy, GNTTABOP_swap_grant_ref,
          GNTTABOP_dump_table, GNTTABOP_transfer, GNTTABOP_unmap_and_replace,
          GNTTABOP_get_status_frames, GNTTABOP_cache_flush, 13, 0xfff})
        EXPECT_EQ(op(cmd, kArg, 1), -XEN_ENOSYS) << cmd;
    put(gnttab_query_size_t{DOMID_SELF, 0, 0, 99});
    // Continuation bits in cmd: Xen's HVM filter compares the whole cmd.
    EXPECT_EQ(op(GNTTABOP_query_size | (1u << 12), kArg, 1), -XEN_ENOSYS);
    // The upper halves of the registers are not part of cmd and count.
    EXPECT_EQ(op((uint64_t{1} << 32) | GNTTABOP_query_size, kArg, (uint64_t{5} << 32) | 1), 0);
    // A negative count is refused before the sub-op looks at anything.
    EXPECT_EQ(op(GNTTABOP_get_version, kArg, 0x80000000u), -XEN_EINVAL);
    // A domain without a grant table has no grant_table_op.
    testing::FakeHypercallDomain bare;
    EXPECT_EQ(op(GNTTABOP_query_size, kArg, 1, &bare), -XEN_ENOSYS);
}

}  // namespace
}  // namespace pvhv
