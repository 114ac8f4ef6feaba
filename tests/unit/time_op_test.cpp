// Unit tests of the time hypercalls' argument handling (vcpu_op timers and run state,
// set_timer_op, SCHEDOP_poll, HVM_PARAM_CALLBACK_IRQ) against a fake domain.
#include <gtest/gtest.h>

#include <optional>

#include "fake_hypercall_domain.h"
#include "hv/hypercall/dispatcher.h"
#include "hv/time/time_domain.h"
#include "hv/xen_public.h"

#include <xen/vcpu.h>

namespace pvhv {
namespace {

class FakeTimeDomain : public TimeDomain {
public:
    uint64_t system_time_ns() const override { return now; }
    void set_singleshot_timer(VcpuId v, uint64_t d) override { singleshot = {v.value, d}; }
    void stop_singleshot_timer(VcpuId v) override { stopped.push_back(v.value); }
    void set_periodic_timer(VcpuId v, uint64_t p) override { periodic = {v.value, p}; }
    vcpu_runstate_info runstate(VcpuId) const override {
        vcpu_runstate_info r{};
        r.state = RUNSTATE_running;
        r.state_entry_time = 77;
        return r;
    }
    int64_t poll(VcpuId v, const PollRequest& r) override {
        polled_vcpu = v.value;
        poll_timeout = r.timeout_ns;
        poll_ie = r.interrupts_enabled;
        poll_ports.clear();
        for (uint32_t i = 0; i < r.nr_ports; ++i) {
            auto p = r.port_at(i);
            if (!p) return -XEN_EFAULT;
            poll_ports.push_back(p->value);
        }
        return 0;
    }

    uint64_t now = 1'000'000'000;
    std::optional<std::pair<uint32_t, uint64_t>> singleshot, periodic;
    std::vector<uint32_t> stopped;
    std::optional<uint32_t> polled_vcpu;
    uint64_t poll_timeout = 0;
    bool poll_ie = false;
    std::vector<uint32_t> poll_ports;
};

class TimedDomain : public testing::FakeHypercallDomain {
public:
    TimeDomain* time() override { return &clock; }
    Result<void> set_callback_via(uint64_t via) override {
        callback_via = via;
        return {};
    }
    FakeTimeDomain clock;
    std::optional<uint64_t> callback_via;
};

class TimeOpTest : public ::testing::Test {
protected:
    TimeOpTest() { EXPECT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0}, 1 << 20, "ram"))); }
    int64_t call(uint64_t nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint32_t vcpu = 0,
                 bool ie = false) {
        GuestLinearAccess guest(mem, PagingMode{});
        HypercallContext ctx{guest, domain, VcpuId{vcpu}, ie};
        return dispatch_hypercall(ctx, HypercallArgs{nr, {a0, a1, a2, 0, 0}}, counters);
    }
    int64_t singleshot(uint64_t deadline, uint32_t flags, uint32_t target = 0) {
        vcpu_set_singleshot_timer_t s{deadline, flags};
        EXPECT_TRUE(mem.write(Gpa{0x1000}, s));
        return call(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, target, 0x1000);
    }

    GuestMemory mem;
    TimedDomain domain;
    DomainCounters counters;
};

TEST_F(TimeOpTest, SingleshotTimer) {
    EXPECT_EQ(singleshot(2'000'000'000, 0), 0);
    EXPECT_EQ(domain.clock.singleshot, std::make_pair(0u, uint64_t{2'000'000'000}));
    // In the past: armed anyway without the flag (fires at once), -ETIME with it.
    EXPECT_EQ(singleshot(5, 0), 0);
    EXPECT_EQ(domain.clock.singleshot->second, 5u);
    EXPECT_EQ(singleshot(5, VCPU_SSHOTTMR_future), -XEN_ETIME);
    EXPECT_EQ(domain.clock.singleshot->second, 5u);
    EXPECT_EQ(singleshot(1'000'000'000, VCPU_SSHOTTMR_future), 0);  // now is not the past
    // Only the calling vCPU's own timer; a vCPU that does not exist is -ENOENT first.
    EXPECT_EQ(singleshot(3'000'000'000, 0, 1), -XEN_EINVAL);
    EXPECT_EQ(singleshot(3'000'000'000, 0, 2), -XEN_ENOENT);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, 0xfff00000), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 1), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0), 0);
    EXPECT_EQ(domain.clock.stopped, std::vector<uint32_t>{0});
}

TEST_F(TimeOpTest, PeriodicTimer) {
    vcpu_set_periodic_timer_t p{10'000'000};
    ASSERT_TRUE(mem.write(Gpa{0x1000}, p));
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, 0x1000), 0);  // any vCPU
    EXPECT_EQ(domain.clock.periodic, std::make_pair(1u, uint64_t{10'000'000}));
    p.period_ns = 999'999;
    ASSERT_TRUE(mem.write(Gpa{0x1000}, p));
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, 0x1000), -XEN_EINVAL);
    p.period_ns = ~uint64_t{0};
    ASSERT_TRUE(mem.write(Gpa{0x1000}, p));
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, 0x1000), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, 0xfff00000), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0), 0);
    EXPECT_EQ(domain.clock.periodic, std::make_pair(0u, uint64_t{0}));
}

TEST_F(TimeOpTest, SetTimerOpIsXens) {
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 1'500'000'000), 0);
    EXPECT_EQ(domain.clock.singleshot, std::make_pair(0u, uint64_t{1'500'000'000}));
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 0, 0, 0, 1), 0);  // 0 stops vCPU 1's timer
    EXPECT_EQ(domain.clock.stopped, std::vector<uint32_t>{1});
    // Negative, or more than 2^50 ns ahead: an event in 100 ms (Xen's Linux workaround).
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, uint64_t{1} << 63), 0);
    EXPECT_EQ(domain.clock.singleshot->second, 1'100'000'000u);
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 1'000'000'000 + (uint64_t{1} << 50)), 0);
    EXPECT_EQ(domain.clock.singleshot->second, 1'100'000'000u);
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 999), 0);  // in the past: fires at once
    EXPECT_EQ(domain.clock.singleshot->second, 999u);
}

TEST_F(TimeOpTest, RunstateAndTimeAreas) {
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 1, 0x2000), 0);
    EXPECT_EQ(mem.read<vcpu_runstate_info_t>(Gpa{0x2000})->state_entry_time, 77u);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 1, 0xfff00000), -XEN_EFAULT);

    vcpu_register_runstate_memory_area_t area{};
    area.addr.p = 0x3008;
    ASSERT_TRUE(mem.write(Gpa{0x1000}, area));
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 1, 0x1000), 0);
    EXPECT_EQ(mem.read<vcpu_runstate_info_t>(Gpa{0x3008})->state_entry_time, 77u);
    area.addr.p = 0xfff00000;  // unwritable: accepted, as Xen (the copy fails silently)
    ASSERT_TRUE(mem.write(Gpa{0x1000}, area));
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 1, 0x1000), 0);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 1, 0xfff00000), -XEN_EFAULT);

    // No secondary copy: KVM keeps one pvclock per vCPU (abi/README.md, "Time").
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 1, 0x1000), -XEN_ENOSYS);
    EXPECT_EQ(call(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1), -XEN_ENOSYS);
}

TEST_F(TimeOpTest, SchedPollPassesItsArguments) {
    const uint32_t ports[] = {3, 9};
    ASSERT_TRUE(mem.write(Gpa{0x5000}, ports));
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, reinterpret_cast<evtchn_port_t*>(0x5000));
    p.nr_ports = 2;
    p.timeout = 1234;
    ASSERT_TRUE(mem.write(Gpa{0x1000}, p));
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_poll, 0x1000, 0, 1, true), 0);
    EXPECT_EQ(domain.clock.polled_vcpu, 1u);
    EXPECT_EQ(domain.clock.poll_timeout, 1234u);
    EXPECT_TRUE(domain.clock.poll_ie);
    EXPECT_EQ(domain.clock.poll_ports, (std::vector<uint32_t>{3, 9}));
    set_xen_guest_handle(p.ports, reinterpret_cast<evtchn_port_t*>(0xffffc));  // 2nd port unmapped
    ASSERT_TRUE(mem.write(Gpa{0x1000}, p));
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_poll, 0x1000), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_sched_op, SCHEDOP_poll, 0xfff00000), -XEN_EFAULT);
}

TEST_F(TimeOpTest, WithoutTimeServicesItIsEnosys) {
    testing::FakeHypercallDomain plain;
    GuestLinearAccess guest(mem, PagingMode{});
    HypercallContext ctx{guest, plain, VcpuId{0}};
    EXPECT_EQ(dispatch_hypercall(ctx, HypercallArgs{__HYPERVISOR_set_timer_op, {1}}, counters), -XEN_ENOSYS);
    EXPECT_EQ(dispatch_hypercall(ctx, HypercallArgs{__HYPERVISOR_vcpu_op, {VCPUOP_stop_periodic_timer, 0}},
                                 counters),
              -XEN_ENOSYS);
    EXPECT_EQ(dispatch_hypercall(ctx, HypercallArgs{__HYPERVISOR_sched_op, {SCHEDOP_poll, 0x1000}}, counters),
              -XEN_ENOSYS);
}

TEST_F(TimeOpTest, CallbackIrqParamReachesTheDomainAndIsStored) {
    xen_hvm_param_t p{};
    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_CALLBACK_IRQ;
    p.value = (uint64_t{HVM_PARAM_CALLBACK_TYPE_VECTOR} << 56) | 0xf3;
    ASSERT_TRUE(mem.write(Gpa{0x1000}, p));
    EXPECT_EQ(call(__HYPERVISOR_hvm_op, HVMOP_set_param, 0x1000), 0);
    EXPECT_EQ(domain.callback_via, p.value);
    EXPECT_EQ(*domain.params.get(HVM_PARAM_CALLBACK_IRQ), p.value);
    // A domain without upcalls refuses it (and stores nothing).
    testing::FakeHypercallDomain plain;
    GuestLinearAccess guest(mem, PagingMode{});
    HypercallContext ctx{guest, plain, VcpuId{0}};
    EXPECT_EQ(dispatch_hypercall(ctx, HypercallArgs{__HYPERVISOR_hvm_op, {HVMOP_set_param, 0x1000}}, counters),
              -XEN_ENOSYS);
    EXPECT_EQ(*plain.params.get(HVM_PARAM_CALLBACK_IRQ), 0u);
}

}  // namespace
}  // namespace pvhv
