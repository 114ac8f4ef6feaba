/* C entry from head.S: hypercall setup, the no-Xen diagnostic path, and the exception handler. */
#include <stdint.h>

#include "test.h"

/* Under QEMU (no Xen leaves) there is nothing to test, but printing what the boot path saw
 * proves the 32->64-bit switch, the page tables (start_info in low RAM, the LAPIC at
 * 0xfee00000 in the uncached top GiB) and the formatting code. */
static _Noreturn void no_xen(void)
{
	uint32_t nr;
	const struct hvm_memmap_table_entry *m = start_info_memmap(&nr);
	xprintf("no Xen CPUID leaves\n");
	xprintf("start_info %p magic %x version %u cmdline \"%s\"\n", (const void *)start_info,
		start_info->magic, start_info->version, start_info_cmdline());
	for (uint32_t i = 0; m && i < nr; i++)
		xprintf("memmap %u: %016lx-%016lx type %u\n", i, (unsigned long)m[i].addr,
			(unsigned long)(m[i].addr + m[i].size), m[i].type);
	xprintf("image %p-%p lapic version %x\n", (void *)__image_start, (void *)__image_end,
		*(volatile uint32_t *)0xfee00030);
	halt_forever();
}

_Noreturn void guest_start(uint32_t start_info_pa)
{
	start_info = (const struct hvm_start_info *)(uintptr_t)start_info_pa;
	if (!xen_init())
		no_xen();
	test_main();
	test_finish();
}

_Noreturn void guest_exception(unsigned int vec, unsigned long err, unsigned long rip, unsigned long cr2)
{
	static int depth;
	if (depth++) {
		/* Faulting while reporting a fault (e.g. an unfilled hypercall page): force a
		 * triple fault, which the hypervisor sees as a crash, rather than hang. */
		static const struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) no_idt = {0, 0};
		asm volatile("lidt %0; ud2" ::"m"(no_idt));
	}
	report_fail("exception", "vector %u error %lx rip %lx cr2 %lx", vec, err, rip, cr2);
	test_finish();
}
