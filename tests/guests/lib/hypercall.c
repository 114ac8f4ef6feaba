/* Finds Xen's CPUID leaves and hands the hypercall page to the hypervisor. */
#include "hypercall.h"

uint32_t xen_cpuid_base;

bool xen_init(void)
{
	uint32_t a, b, c, d;

	/* Xen moves its leaves up in 0x100 steps when other hypervisor leaves (Viridian) come
	 * first; a Xen host answers at the first step, so the scan is one exit there. */
	for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XEN_CPUID_FIRST_LEAF + 0x10000; base += 0x100) {
		cpuid(base, &a, &b, &c, &d);
		if (b == XEN_CPUID_SIGNATURE_EBX && c == XEN_CPUID_SIGNATURE_ECX &&
		    d == XEN_CPUID_SIGNATURE_EDX && a - base >= 2) {
			xen_cpuid_base = base;
			break;
		}
	}
	if (!xen_cpuid_base)
		return false;

	cpuid(xen_cpuid_base + 2, &a, &b, &c, &d);
	uint64_t gpa = (uintptr_t)hypercall_page;	/* identity-mapped */
	asm volatile("wrmsr" ::"c"(b), "a"((uint32_t)gpa), "d"((uint32_t)(gpa >> 32)) : "memory");
	return true;
}
