// Unit tests of the debug-dump text for event channels (the grant table's is in gnttab_table_test).
#include <gtest/gtest.h>

#include "hv/domain/debug_dump.h"

namespace pvhv {
namespace {

TEST(DebugDump, PortsShowStateVcpuAndBinding) {
    auto t = PortTable::create(DomId{3}, 2, nullptr);
    ASSERT_TRUE(t);
    PortTable& ports = **t;
    auto unbound = ports.alloc_unbound(DomId{0});
    auto a = ports.alloc_unbound(DomId{3});
    ASSERT_TRUE(unbound && a);
    auto b = PortTable::bind_interdomain(ports, ports, *a);
    auto virq = ports.bind_virq(0, VcpuId{1});
    auto ipi = ports.bind_ipi(VcpuId{0});
    ASSERT_TRUE(b && virq && ipi);

    const auto dump = ports.dump();
    const std::string d = describe_ports(DomId{3}, dump);
    EXPECT_NE(d.find("d3 event channels (2-level): 5 ports in use"), std::string::npos) << d;
    EXPECT_NE(d.find("port    1 unbound     vcpu 0 for d0"), std::string::npos) << d;
    EXPECT_NE(d.find("port    2 interdomain vcpu 0 to d3 port 3"), std::string::npos) << d;
    EXPECT_NE(d.find("port    4 virq        vcpu 1 virq 0"), std::string::npos) << d;
    EXPECT_NE(d.find("port    5 ipi         vcpu 0\n"), std::string::npos) << d;
    EXPECT_EQ(describe_ports(DomId{3}, {}), "d3 event channels (2-level): 0 ports in use\n");
}

}  // namespace
}  // namespace pvhv
