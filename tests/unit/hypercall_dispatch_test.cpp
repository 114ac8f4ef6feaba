// Unit tests of the hypercall table and handlers against a fake domain and guest memory.
#include <gtest/gtest.h>

#include <cstring>

#include "fake_hypercall_domain.h"
#include "hv/gnttab/grant_table.h"
#include "hv/hypercall/dispatcher.h"
#include "hv/hypercall/handlers.h"
#include "hv/xen_public.h"

#include <xen/grant_table.h>
#include <xen/vcpu.h>

namespace pvhv {
namespace {

// Paging off: guest linear == guest physical, 1 MiB of RAM.
class HypercallTest : public ::testing::Test {
protected:
    HypercallTest() { EXPECT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0}, 1 << 20, "ram"))); }

    int64_t call(uint64_t nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0) {
        GuestLinearAccess guest(mem, PagingMode{});
        HypercallContext ctx{guest, domain, VcpuId{0}};
        return dispatch_hypercall(ctx, HypercallArgs{nr, {a0, a1, a2, 0, 0}}, counters);
    }
    void put(uint64_t gpa, std::string_view s) {
        ASSERT_TRUE(mem.write(Gpa{gpa}, std::span<const uint8_t>(
                                             reinterpret_cast<const uint8_t*>(s.data()), s.size())));
    }

    GuestMemory mem;
    testing::FakeHypercallDomain domain;
    DomainCounters counters;
};

TEST_F(HypercallTest, UnknownNumbersReturnEnosysAndAreCounted) {
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table), -XEN_ENOSYS);
    EXPECT_EQ(call(63), -XEN_ENOSYS);
    EXPECT_EQ(call(1000), -XEN_ENOSYS);
    EXPECT_EQ(counters.hypercall_enosys.load(), 3u);
    EXPECT_EQ(counters.hypercall_unknown_number.load(), 1u);  // 1000 is past the table
    EXPECT_EQ(counters.hypercalls[63].load(), 1u);
}

TEST_F(HypercallTest, XenVersion) {
    EXPECT_EQ(call(__HYPERVISOR_xen_version, XENVER_version), (4 << 16) | 17);
    EXPECT_EQ(call(__HYPERVISOR_xen_version, XENVER_pagesize), 4096);
    ASSERT_EQ(call(__HYPERVISOR_xen_version, XENVER_extraversion, 0x1000), 0);
    EXPECT_EQ(*mem.read_cstring(Gpa{0x1000}, XEN_EXTRAVERSION_LEN), "-pvhv");
    EXPECT_EQ(call(__HYPERVISOR_xen_version, 0x7fff), -XEN_ENOSYS);
    EXPECT_EQ(call(__HYPERVISOR_xen_version, XENVER_commandline, 0x1000), -XEN_EPERM);
}

TEST_F(HypercallTest, GetFeaturesChecksSubmapAndBuffer) {
    xen_feature_info_t fi{0, 0};
    ASSERT_TRUE(mem.write(Gpa{0x2000}, fi));
    ASSERT_EQ(call(__HYPERVISOR_xen_version, XENVER_get_features, 0x2000), 0);
    EXPECT_EQ(mem.read<xen_feature_info_t>(Gpa{0x2000})->submap,
              (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_auto_translated_physmap) |
                  (1u << XENFEAT_hvm_safe_pvclock));
    fi.submap_idx = 1;
    ASSERT_TRUE(mem.write(Gpa{0x2000}, fi));
    EXPECT_EQ(call(__HYPERVISOR_xen_version, XENVER_get_features, 0x2000), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_xen_version, XENVER_get_features, 1 << 20), -XEN_EFAULT);
}

TEST_F(HypercallTest, ConsoleWriteAndHostileBuffers) {
    put(0x3000, "hello\n");
    EXPECT_EQ(call(__HYPERVISOR_console_io, CONSOLEIO_write, 6, 0x3000), 0);
    EXPECT_EQ(domain.console, "hello\n");
    EXPECT_EQ(call(__HYPERVISOR_console_io, CONSOLEIO_write, 16, (1 << 20) - 8), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_console_io, CONSOLEIO_write, 0xffffffff, 0x3000), -XEN_EINVAL);
    EXPECT_EQ(domain.console, "hello\n");  // nothing of a refused write reaches the console
    EXPECT_EQ(call(__HYPERVISOR_console_io, CONSOLEIO_write, 16, ~uint64_t{0} - 4), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_console_io, CONSOLEIO_read, 16, 0x3000), -XEN_EPERM);
    EXPECT_EQ(call(__HYPERVISOR_console_io, 99, 16, 0x3000), -XEN_ENOSYS);
}

TEST_F(HypercallTest, SchedOpShutdownReasons) {
    sched_shutdown_t s{SHUTDOWN_reboot};
    ASSERT_TRUE(mem.write(Gpa{0x4000}, s));
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_shutdown, 0x4000), 0);
    EXPECT_EQ(domain.shutdown_reason, ShutdownReason::Reboot);
    s.reason = SHUTDOWN_MAX + 1;
    ASSERT_TRUE(mem.write(Gpa{0x4000}, s));
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_shutdown, 0x4000), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_shutdown, 0xfffff000ull << 12), -XEN_EFAULT);
    s.reason = SHUTDOWN_watchdog;
    ASSERT_TRUE(mem.write(Gpa{0x4000}, s));
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_shutdown_code, 0x4000), 0);
    EXPECT_EQ(domain.shutdown_code, ShutdownReason::Watchdog);
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_yield), 0);
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_block), 0);
    EXPECT_EQ(domain.blocked.size(), 1u);
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, 0x4000), -XEN_EPERM);
    EXPECT_EQ(call(__HYPERVISOR_sched_op, 0x7fff), -XEN_ENOSYS);
}

TEST_F(HypercallTest, MemoryMapCopiesAtMostWhatFits) {
    struct [[gnu::packed]] E820 { uint64_t addr, size; uint32_t type; };
    xen_memory_map map{};
    map.nr_entries = 2;
    set_xen_guest_handle(map.buffer, reinterpret_cast<void*>(0x6000));
    ASSERT_TRUE(mem.write(Gpa{0x5000}, map));
    ASSERT_EQ(call(__HYPERVISOR_memory_op, XENMEM_memory_map, 0x5000), 0);
    EXPECT_EQ(mem.read<xen_memory_map>(Gpa{0x5000})->nr_entries, 2u);
    auto second = mem.read<E820>(Gpa{0x6000 + sizeof(E820)});
    EXPECT_EQ(second->addr, 0x100000u);
    EXPECT_EQ(second->type, 1u);

    map.nr_entries = 1000000;  // more than we have: clipped to the real count
    ASSERT_TRUE(mem.write(Gpa{0x5000}, map));
    ASSERT_EQ(call(__HYPERVISOR_memory_op, XENMEM_memory_map, 0x5000), 0);
    EXPECT_EQ(mem.read<xen_memory_map>(Gpa{0x5000})->nr_entries, 3u);

    set_xen_guest_handle(map.buffer, reinterpret_cast<void*>((1 << 20) - 10));
    ASSERT_TRUE(mem.write(Gpa{0x5000}, map));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_memory_map, 0x5000), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_memory_map, 1 << 20), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_memory_op, 0x3f), -XEN_ENOSYS);
}

TEST_F(HypercallTest, AddToPhysmapSharedInfo) {
    xen_add_to_physmap_t x{};
    x.domid = DOMID_SELF;
    x.space = XENMAPSPACE_shared_info;
    x.gpfn = 0x42;
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), 0);
    EXPECT_EQ(domain.shared_info_gfn, Gfn{0x42});
    x.gpfn = 0x100000;  // not RAM
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), -XEN_EINVAL);
    x.gpfn = 0x43;
    x.idx = 1;  // only one shared info page
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), -XEN_EINVAL);
    x.idx = 0;
    x.domid = 3;
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), -XEN_EPERM);
    x.domid = DOMID_SELF;
    x.space = XENMAPSPACE_gmfn;
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 1 << 20), -XEN_EFAULT);
    EXPECT_EQ(domain.shared_info_gfn, Gfn{0x42});  // refused calls changed nothing
}

TEST_F(HypercallTest, AddToPhysmapGrantTable) {
    xen_add_to_physmap_t x{};
    x.domid = DOMID_SELF;
    x.space = XENMAPSPACE_grant_table;
    x.idx = 3;
    x.gpfn = 0x20000;  // the domain decides whether it is a hole
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), 0);
    ASSERT_EQ(domain.grant_frames.size(), 1u);
    EXPECT_EQ(domain.grant_frames[0].first, 3u);
    EXPECT_EQ(domain.grant_frames[0].second, Gfn{0x20000});
    // A v2 status frame is just a huge index with v1: the domain's -EINVAL comes back.
    x.idx = XENMAPIDX_grant_table_status;
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), -XEN_EINVAL);
    x.idx = 0;
    x.domid = 0;  // dom0's table is not the guest's to place
    ASSERT_TRUE(mem.write(Gpa{0x8000}, x));
    EXPECT_EQ(call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x8000), -XEN_EPERM);
    EXPECT_EQ(domain.grant_frames.size(), 1u);
}

TEST_F(HypercallTest, GrantTableOpIsDispatched) {
    gnttab_query_size_t q{DOMID_SELF, 0, 0, 99};
    ASSERT_TRUE(mem.write(Gpa{0x8000}, q));
    // Without a grant table the domain has no grant_table_op.
    EXPECT_EQ(call(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, 0x8000, 1), -XEN_ENOSYS);

    class WithTable : public testing::FakeHypercallDomain {
      public:
        GrantTable* grant_table() override { return table.get(); }
        std::shared_ptr<GrantTable> table;
    } with_table;
    with_table.table = *GrantTable::create(
        {with_table.id(), 64}, *GrantTable::allocate_frames(with_table.id(), 64),
        std::make_unique<LayoutGrantableRam>(mem, std::vector<PhysRange>{{0, 1 << 20}}));
    GuestLinearAccess guest(mem, PagingMode{});
    HypercallContext ctx{guest, with_table, VcpuId{0}};
    EXPECT_EQ(dispatch_hypercall(
                  ctx, HypercallArgs{__HYPERVISOR_grant_table_op, {GNTTABOP_query_size, 0x8000, 1}},
                  counters),
              0);
    q = *mem.read<gnttab_query_size_t>(Gpa{0x8000});
    EXPECT_EQ(q.status, GNTST_okay);
    EXPECT_EQ(q.nr_frames, 1u);
    EXPECT_EQ(q.max_nr_frames, 64u);
    EXPECT_EQ(counters.hypercalls[__HYPERVISOR_grant_table_op].load(), 2u);
}

TEST_F(HypercallTest, RegisterVcpuInfo) {
    vcpu_register_vcpu_info_t info{0x42, 0x40, 0};
    ASSERT_TRUE(mem.write(Gpa{0x9000}, info));
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, 0x9000), 0);
    ASSERT_EQ(domain.vcpu_info.size(), 1u);
    EXPECT_EQ(domain.vcpu_info[0].first, VcpuId{1});
    EXPECT_EQ(domain.vcpu_info[0].second, Gpa{0x42040});
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 2, 0x9000), -XEN_ENOENT);
    info.offset = kPageSize - 32;  // vcpu_info (64 bytes) would cross the page end
    ASSERT_TRUE(mem.write(Gpa{0x9000}, info));
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, 0x9000), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, 1 << 20), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, 0x7fff, 0, 0x9000), -XEN_ENOSYS);
    EXPECT_EQ(domain.vcpu_info.size(), 1u);
}

TEST_F(HypercallTest, SetEvtchnUpcallVector) {
    xen_hvm_evtchn_upcall_vector_t u{};
    u.vcpu = 1;
    u.vector = 0xf3;
    ASSERT_TRUE(mem.write(Gpa{0xa000}, u));
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, 0xa000), 0);
    ASSERT_EQ(domain.upcall_vectors.size(), 1u);
    EXPECT_EQ(domain.upcall_vectors[0].second, 0xf3);
    u.vector = 0x0e;  // an exception vector
    ASSERT_TRUE(mem.write(Gpa{0xa000}, u));
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, 0xa000), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, 1 << 20), -XEN_EFAULT);
}

TEST_F(HypercallTest, HvmParams) {
    domain.params.set_by_toolstack(HVM_PARAM_STORE_PFN, 0xfeff1);
    xen_hvm_param_t p{};
    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_STORE_PFN;
    ASSERT_TRUE(mem.write(Gpa{0x7000}, p));
    ASSERT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_get_param, 0x7000), 0);
    EXPECT_EQ(mem.read<xen_hvm_param_t>(Gpa{0x7000})->value, 0xfeff1u);
    p.index = HVM_NR_PARAMS;
    ASSERT_TRUE(mem.write(Gpa{0x7000}, p));
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_get_param, 0x7000), -XEN_EINVAL);
    p.index = HVM_PARAM_STORE_PFN;
    p.domid = 3;  // another domain
    ASSERT_TRUE(mem.write(Gpa{0x7000}, p));
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_get_param, 0x7000), -XEN_EPERM);
    p.domid = DOMID_SELF;
    p.value = 1;
    ASSERT_TRUE(mem.write(Gpa{0x7000}, p));
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_set_param, 0x7000), -XEN_EPERM);
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, 0x7fff, 0x7000), -XEN_ENOSYS);
}

}  // namespace
}  // namespace pvhv
