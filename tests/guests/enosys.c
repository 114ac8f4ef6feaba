/* Hypercalls and sub-ops that Xen does not offer an HVM guest must return -ENOSYS. */
#include "test.h"
#include <pvhv/hypercall_transport.h>

/* Numbers with an HVM handler in Xen (xen/include/hypercall-defs.c): platform_op,
 * memory_op, multicall, set_timer_op, xen_version, console_io, grant_table_op, vcpu_op,
 * mmuext_op, xsm_op, sched_op, event_channel_op, physdev_op, hvm_op, sysctl, domctl, argo_op,
 * xenpmu_op, dm_op, hypfs_op, paging_domctl_cont. Every other number below the page's 128
 * slots has none (tmem_op, 38, is gone since Xen 4.13; 64 and up are past NR_hypercalls). */
#define B(n) (1ull << (n))
static const uint64_t hvm_handled = B(7) | B(12) | B(13) | B(15) | B(17) | B(18) | B(20) | B(24) |
				    B(26) | B(27) | B(29) | B(32) | B(33) | B(34) | B(35) | B(36) |
				    B(39) | B(40) | B(41) | B(42) | B(49);

static void expect_enosys_range(const char *name, unsigned int first, unsigned int last)
{
	for (unsigned int nr = first; nr <= last; nr++) {
		if (nr < 64 && (hvm_handled & B(nr)))
			continue;
		long rc = hypercall0(nr);
		if (rc != -XEN_ENOSYS) {
			report_fail(name, "hypercall %u returned %ld, expected %d", nr, rc, -XEN_ENOSYS);
			return;
		}
	}
	report_pass(name);
}

/* Straight to the pio transport (abi/include/pvhv/hypercall_transport.h): the only way to
 * issue numbers the page has no slot for. */
static long pio_hypercall(uint32_t nr)
{
	register unsigned long rdi asm("rdi") = 0, rsi asm("rsi") = 0, rdx asm("rdx") = 0;
	register unsigned long r10 asm("r10") = 0, r8 asm("r8") = 0;
	long ret;
	asm volatile("out %%eax, %[port]"
		     : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
		     : "a"(nr), [port] "i"(PVHV_HYPERCALL_PORT)
		     : "memory");
	return ret;
}

void test_main(void)
{
	expect_rc("enosys_set_trap_table", hypercall0(__HYPERVISOR_set_trap_table), -XEN_ENOSYS);
	expect_rc("enosys_mmu_update", hypercall0(__HYPERVISOR_mmu_update), -XEN_ENOSYS);
	expect_enosys_range("enosys_pv_only_2_37", 2, 37);
	expect_enosys_range("enosys_unassigned_38_63", 38, 63);
	expect_enosys_range("enosys_past_nr_hypercalls_64_127", 64, 127);

	expect_rc("enosys_pio_128", pio_hypercall(128), -XEN_ENOSYS);
	expect_rc("enosys_pio_huge", pio_hypercall(0xffffffffu), -XEN_ENOSYS);

	/* Unknown sub-ops: each of these handlers ends in "default: -ENOSYS" in Xen. */
	expect_rc("enosys_xen_version_7fff", HYPERVISOR_xen_version(0x7fff, 0), -XEN_ENOSYS);
	expect_rc("enosys_sched_op_7fff", HYPERVISOR_sched_op(0x7fff, 0), -XEN_ENOSYS);
	/* memory_op keeps the op in the low 6 bits and a continuation index above them. */
	expect_rc("enosys_memory_op_3f", HYPERVISOR_memory_op(0x3f, 0), -XEN_ENOSYS);
	expect_rc("enosys_memory_op_3fff", HYPERVISOR_memory_op(0x3fff, 0), -XEN_ENOSYS);
	expect_rc("enosys_hvm_op_7fff", HYPERVISOR_hvm_op(0x7fff, 0), -XEN_ENOSYS);
	expect_rc("enosys_event_channel_op_7fff", HYPERVISOR_event_channel_op(0x7fff, 0), -XEN_ENOSYS);
	expect_rc("enosys_vcpu_op_7fff", HYPERVISOR_vcpu_op(0x7fff, 0, 0), -XEN_ENOSYS);
	expect_rc("enosys_console_io_7fff", HYPERVISOR_console_io(0x7fff, 0, 0), -XEN_ENOSYS);
}
