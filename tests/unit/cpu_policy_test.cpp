// Unit tests of the CPUID policy and the hypercall page stub bytes.
#include <gtest/gtest.h>

#include <asm/kvm_para.h>

#include <cstring>

#include "hv/cpu/cpuid_policy.h"
#include "hv/hypercall/hypercall_page.h"
#include "hv/xen_public.h"
#include "pvhv/hypercall_transport.h"

namespace pvhv {
namespace {

const kvm_cpuid_entry2* find(const std::vector<kvm_cpuid_entry2>& t, uint32_t fn, uint32_t idx = 0) {
    for (const auto& e : t)
        if (e.function == fn && e.index == idx) return &e;
    return nullptr;
}

std::vector<kvm_cpuid_entry2> host() {
    std::vector<kvm_cpuid_entry2> v(5);
    v[0].function = 1;
    v[0].ebx = 0xff000800;
    v[1].function = 0x40000000;  // KVM's own signature leaf
    v[1].eax = 0x40000001;
    v[1].ebx = 0x4b4d564b;
    v[2].function = 0xb;
    v[3].function = 0x40000001;  // KVM's features: everything offered
    v[3].eax = 0xffffffff;
    v[4].function = 0x40000010;  // a leaf beyond KVM's two: never passed on
    return v;
}

TEST(CpuidPolicy, XenLeaves) {
    auto t = make_cpuid(host(), {.vcpu_id = 3, .nr_vcpus = 4, .domid = 9, .xen_leaves = true,
                                 .tsc_khz = 2000000, .xen_version = (4 << 16) | 17});
    auto* sig = find(t, 0x40000000);
    ASSERT_NE(sig, nullptr);
    EXPECT_EQ(sig->ebx, XEN_CPUID_SIGNATURE_EBX);
    EXPECT_EQ(sig->ecx, XEN_CPUID_SIGNATURE_ECX);
    EXPECT_EQ(sig->edx, XEN_CPUID_SIGNATURE_EDX);
    EXPECT_EQ(sig->eax, 0x40000004u);
    EXPECT_EQ(find(t, 0x40000001)->eax, (4u << 16) | 17);
    EXPECT_EQ(find(t, 0x40000002)->eax, 1u);
    EXPECT_EQ(find(t, 0x40000002)->ebx, kXenHypercallMsr);
    auto* hvm = find(t, 0x40000004);
    EXPECT_TRUE(hvm->eax & XEN_HVM_CPUID_VCPU_ID_PRESENT);
    EXPECT_TRUE(hvm->eax & XEN_HVM_CPUID_UPCALL_VECTOR);
    EXPECT_EQ(hvm->ebx, 3u);
    EXPECT_EQ(hvm->ecx, 9u);
    EXPECT_EQ(find(t, 1)->ebx >> 24, 3u);           // APIC id = vCPU id
    EXPECT_TRUE(find(t, 1)->ecx & (1u << 31));      // hypervisor present
    EXPECT_EQ(find(t, 0xb)->edx, 3u);
}

TEST(CpuidPolicy, PvhvLeavesAnnounceThePioTransport) {
    auto t = make_cpuid(host(), {.vcpu_id = 0, .xen_leaves = true});
    auto* sig = find(t, PVHV_CPUID_BASE);
    ASSERT_NE(sig, nullptr);
    EXPECT_EQ(sig->eax, uint32_t{PVHV_CPUID_FEATURES_LEAF});
    char text[13] = {};
    std::memcpy(text, &sig->ebx, 4);
    std::memcpy(text + 4, &sig->ecx, 4);
    std::memcpy(text + 8, &sig->edx, 4);
    EXPECT_STREQ(text, PVHV_CPUID_SIGNATURE);
    EXPECT_EQ(find(t, PVHV_CPUID_FEATURES_LEAF)->eax, PVHV_CPUID_PIO_HYPERCALL);
    // Without the Xen leaves a guest has no hypercalls at all: no pvhv leaves either.
    auto plain = make_cpuid(host(), {.vcpu_id = 0, .xen_leaves = false});
    EXPECT_EQ(find(plain, PVHV_CPUID_BASE), nullptr);
}

TEST(CpuidPolicy, PlainPvhSeesOnlyKvmsInKernelFeatures) {
    auto t = make_cpuid(host(), {.vcpu_id = 0, .xen_leaves = false});
    ASSERT_NE(find(t, 0x40000000), nullptr);
    EXPECT_EQ(find(t, 0x40000000)->ebx, 0x4b4d564bu);  // "KVMK"
    const uint32_t features = find(t, 0x40000001)->eax;
    EXPECT_TRUE(features & (1u << KVM_FEATURE_CLOCKSOURCE2));
    EXPECT_FALSE(features & (1u << KVM_FEATURE_ASYNC_PF));
    EXPECT_FALSE(features & (1u << KVM_FEATURE_MIGRATION_CONTROL));
    EXPECT_EQ(find(t, 0x40000010), nullptr);
}

TEST(CpuidPolicy, XenLeavesReplaceKvms) {
    auto t = make_cpuid(host(), {.vcpu_id = 0, .xen_leaves = true});
    EXPECT_EQ(find(t, 0x40000000)->ebx, static_cast<uint32_t>(XEN_CPUID_SIGNATURE_EBX));
    int n = 0;
    for (const auto& e : t) n += e.function == 0x40000000;
    EXPECT_EQ(n, 1);
}

TEST(HypercallPage, StubShape) {
    auto page = make_hypercall_page();
    const uint8_t* s = page.data() + __HYPERVISOR_console_io * PVHV_HYPERCALL_STUB_SIZE;
    const uint8_t want[] = {0xb8, __HYPERVISOR_console_io, 0, 0, 0, 0xe7, PVHV_HYPERCALL_PORT, 0xc3};
    EXPECT_TRUE(std::equal(std::begin(want), std::end(want), s));
    EXPECT_EQ(s[8], 0xcc);
}

TEST(HypercallPage, MsrWriteChecksIndexAndRam) {
    GuestMemory mem;
    ASSERT_TRUE(mem.add_region(*MemoryRegion::create(Gpa{0}, 64 * kPageSize, "ram")));
    EXPECT_TRUE(write_hypercall_page(mem, 0x3000));
    EXPECT_EQ(*mem.read<uint8_t>(Gpa{0x3000 + 7}), 0xc3);
    EXPECT_FALSE(write_hypercall_page(mem, 0x3001));           // page index 1
    EXPECT_FALSE(write_hypercall_page(mem, 64 * kPageSize));   // past RAM
}

}  // namespace
}  // namespace pvhv
