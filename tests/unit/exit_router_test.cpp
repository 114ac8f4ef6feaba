// Unit tests of exit routing without KVM: hypercall port, hypercall MSR, buses, fatal exits.
#include <gtest/gtest.h>

#include "fake_hypercall_domain.h"
#include "hv/cpu/cpuid_policy.h"
#include "hv/domain/exit_router.h"
#include "hv/xen_public.h"
#include "pvhv/hypercall_transport.h"

namespace pvhv {
namespace {

class ExitRouterTest : public ::testing::Test {
protected:
    ExitRouterTest() {
        EXPECT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0}, 1 << 20, "ram")));
    }
    // Registers held in the fixture; records whether the router marked them changed.
    struct FakeContext : VcpuContext {
        ExitRouterTest& t;
        explicit FakeContext(ExitRouterTest& f) : t(f) {}
        VcpuId id() const override { return VcpuId{0}; }
        Result<kvm_regs*> regs() override { return &t.regs; }
        void mark_regs_changed() override { t.dirty = true; }
        Result<const kvm_sregs*> sregs() override { return &t.sregs; }
    };
    void route(VcpuExit exit) {
        FakeContext ctx(*this);
        router.handle(ctx, exit);
    }

    GuestMemory mem;
    testing::FakeHypercallDomain domain;
    Bus pio{"pio"}, mmio{"mmio"};
    DomainCounters counters;
    std::vector<std::string> fatal;
    ExitRouter router{mem, domain, pio, mmio, counters,
                      [this](VcpuId, const std::string& why) { fatal.push_back(why); }};
    kvm_regs regs{};
    kvm_sregs sregs{};  // paging off: linear == physical
    bool dirty = false;
};

TEST_F(ExitRouterTest, HypercallPortRunsTheDispatcherAndSetsRax) {
    regs.rax = __HYPERVISOR_xen_version;
    regs.rdi = XENVER_pagesize;
    uint32_t eax = static_cast<uint32_t>(regs.rax);
    route(IoExit{PVHV_HYPERCALL_PORT, true, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&eax), 4)});
    EXPECT_EQ(regs.rax, 4096u);
    EXPECT_TRUE(dirty);
    EXPECT_EQ(counters.hypercalls[__HYPERVISOR_xen_version].load(), 1u);
}

TEST_F(ExitRouterTest, HypercallPortOnlyAsA32BitOut) {
    uint8_t b = 0;
    route(IoExit{PVHV_HYPERCALL_PORT, true, std::span<uint8_t>(&b, 1)});  // byte out: not a call
    EXPECT_FALSE(dirty);
    EXPECT_EQ(counters.hypercalls[0].load(), 0u);
}

TEST_F(ExitRouterTest, HypercallMsrInstallsThePageOrRaisesGp) {
    uint64_t value = 0x5000;
    uint8_t error = 0;
    route(MsrExit{kXenHypercallMsr, true, &value, &error});
    EXPECT_EQ(error, 0);
    EXPECT_EQ(*mem.read<uint8_t>(Gpa{0x5000 + 5}), 0xe7);
    value = 0x5001;  // page index 1 does not exist
    route(MsrExit{kXenHypercallMsr, true, &value, &error});
    EXPECT_EQ(error, 1);
    error = 0;
    route(MsrExit{0xc0011234, false, &value, &error});  // nobody's MSR
    EXPECT_EQ(error, 1);
}

TEST_F(ExitRouterTest, UnclaimedPortsFloatHigh) {
    uint16_t v = 0;
    route(IoExit{0x80, false, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 2)});
    EXPECT_EQ(v, 0xffff);
}

TEST_F(ExitRouterTest, UnbackedMmioReadsAllOnesAndIsCounted) {
    uint64_t v = 0;
    route(MmioExit{0x10000000, false, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 8)});
    EXPECT_EQ(v, ~uint64_t{0});
    route(MmioExit{0x10000000, true, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 4)});
    EXPECT_EQ(counters.mmio_unclaimed.load(), 2u);
    EXPECT_EQ(counters.snapshot().mmio_unclaimed, 2u);
    EXPECT_TRUE(fatal.empty());
}

TEST_F(ExitRouterTest, FatalExitsCrashAndSystemEventsShutDown) {
    route(ShutdownExit{});
    route(InternalErrorExit{1});
    ASSERT_EQ(fatal.size(), 2u);
    EXPECT_NE(fatal[0].find("triple fault"), std::string::npos);
    route(SystemEventExit{KVM_SYSTEM_EVENT_RESET});
    EXPECT_EQ(domain.shutdown_reason, ShutdownReason::Reboot);
}

}  // namespace
}  // namespace pvhv
