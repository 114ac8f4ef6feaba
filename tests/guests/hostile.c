/* Bad guest pointers and lengths: each hypercall must fail with a Xen errno and the domain
 * must keep running (DESIGN §3, "guest data is hostile"). */
#include "test.h"

/* Bit 47 set with bits 63:48 clear: not canonical, so no page walk can succeed. */
#define BAD_VA 0xfffffffff000ul
#define ABOVE_4G 0x100001000ul		/* canonical, outside the guest's 4 GiB identity map */
#define NO_RAM 0x80000000ul		/* mapped by the guest, no RAM behind it */
#define LAPIC 0xfee00000ul		/* mapped, MMIO */

static const char msg[] = "hostile: this text must never reach the console\n";

extern uint64_t boot_pt0[512];	/* head.S: 4 KiB mappings of the first 2 MiB */

static void expect_err2(const char *name, long rc, int e1, int e2)
{
	if (rc == -e1 || rc == -e2)
		report_pass(name);
	else
		report_fail(name, "returned %ld, expected %d or %d", rc, -e1, -e2);
}

static long console_write(unsigned long buf, unsigned long len)
{
	return HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
}

/* First byte past the end of RAM, if no other memmap entry (ACPI, special pages) starts
 * there: only then must a read across it fail. */
static uint64_t unbacked_ram_end(void)
{
	uint32_t nr;
	const struct hvm_memmap_table_entry *m = start_info_memmap(&nr);
	uint64_t end = start_info_ram_end();
	for (uint32_t i = 0; i < nr; i++)
		if (m[i].addr <= end && end < m[i].addr + m[i].size)
			return 0;
	return end;
}

void test_main(void)
{
	expect_rc("console_io_noncanonical", console_write(BAD_VA, 16), -XEN_EFAULT);
	expect_rc("console_io_above_4g", console_write(ABOVE_4G, 16), -XEN_EFAULT);
	expect_rc("console_io_no_ram", console_write(NO_RAM, 16), -XEN_EFAULT);
	expect_rc("console_io_mmio", console_write(LAPIC, 16), -XEN_EFAULT);
	uint64_t end = unbacked_ram_end();
	if (end)
		expect_rc("console_io_straddles_ram_end", console_write(end - 8, 16), -XEN_EFAULT);
	else
		report_skip("console_io_straddles_ram_end", "no unbacked address after RAM in the memmap");
	expect_err2("console_io_wraps", console_write(~0ul - 15, 256), XEN_EFAULT, XEN_EINVAL);
	expect_err2("console_io_len_4g", console_write((unsigned long)msg, 0xffffffffu), XEN_EFAULT,
		    XEN_EINVAL);

	/* Page 0 is RAM and mapped by default; unmapped, NULL is a bad pointer as in Xen. */
	uint64_t pte0 = boot_pt0[0];
	boot_pt0[0] = 0;
	asm volatile("invlpg (%0)" ::"r"(0ul) : "memory");
	expect_rc("console_io_null", console_write(0, 16), -XEN_EFAULT);
	boot_pt0[0] = pte0;

	expect_rc("xenver_extraversion_bad_buffer", HYPERVISOR_xen_version(XENVER_extraversion, BAD_VA),
		  -XEN_EFAULT);
	expect_rc("xenver_get_features_bad_buffer", HYPERVISOR_xen_version(XENVER_get_features, BAD_VA),
		  -XEN_EFAULT);
	struct xen_feature_info fi = {.submap_idx = 0x7fffffff};
	expect_rc("xenver_get_features_bad_submap", HYPERVISOR_xen_version(XENVER_get_features, &fi),
		  -XEN_EINVAL);

	struct xen_memory_map map = {.nr_entries = 0xffffffffu};
	set_xen_guest_handle(map.buffer, (void *)BAD_VA);
	expect_rc("memory_map_bad_buffer", HYPERVISOR_memory_op(XENMEM_memory_map, &map), -XEN_EFAULT);
	expect_rc("memory_map_bad_struct", HYPERVISOR_memory_op(XENMEM_memory_map, BAD_VA), -XEN_EFAULT);

	expect_rc("sched_shutdown_bad_struct", HYPERVISOR_sched_op(SCHEDOP_shutdown, BAD_VA), -XEN_EFAULT);
	/* Still here: the domain survived every case; RESULT and poweroff follow. */
}
