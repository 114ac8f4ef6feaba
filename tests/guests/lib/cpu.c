/* INIT/SIPI bring-up of a secondary vCPU (the trampoline and 64-bit entry are in smp.S). */
#include "cpu.h"

#include "string.h"

#define TRAMPOLINE 0x8000	/* SIPI vector 8; free low RAM (guest_layout.h) */

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint8_t ap_trampoline[], ap_trampoline_end[];
struct desc_ptr ap_idt_desc;	/* loaded by the AP's 64-bit entry in smp.S */
void (*volatile ap_entry_fn)(void);
uint64_t ap_stack_ptr;
static uint8_t ap_stack[8192] __attribute__((aligned(16)));

_Noreturn void ap_main(void)
{
	ap_entry_fn();
	for (;;)
		asm volatile("cli; hlt");
}

static void lapic_ipi(uint32_t apic_id, uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
}

void smp_start_ap(uint32_t apic_id, void (*fn)(void))
{
	memcpy((void *)(uintptr_t)TRAMPOLINE, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
	ap_entry_fn = fn;
	ap_stack_ptr = (uintptr_t)(ap_stack + sizeof ap_stack);
	asm volatile("sidt %0" : "=m"(ap_idt_desc)::"memory");
	lapic_ipi(apic_id, 0x4500);			/* INIT, level assert */
	lapic_ipi(apic_id, 0x4600 | (TRAMPOLINE >> 12));	/* STARTUP at the trampoline */
}
