/* The README demo guest: greets, echoes its command line, passes. */
#include "test.h"

void test_main(void)
{
	long v = HYPERVISOR_xen_version(XENVER_version, 0);
	xprintf("Hello from a pvhv test guest (PVH, Xen %ld.%ld ABI)\n", v >> 16, v & 0xffff);
	xprintf("command line: \"%s\"\n", start_info_cmdline());
	report_pass("hello");
}
