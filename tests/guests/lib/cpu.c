/* A 256-entry IDT built from head.S's, and INIT/SIPI bring-up of a secondary vCPU. */
#include "cpu.h"

#include "string.h"

#define TRAMPOLINE 0x8000	/* SIPI vector 8; free low RAM (guest_layout.h) */

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
struct desc_ptr ap_idt_desc;	/* also loaded by the AP entry in smp.S */

void idt_set_gate(uint8_t vector, void (*entry)(void))
{
	struct desc_ptr cur;
	asm volatile("sidt %0" : "=m"(cur));
	if (cur.base != (uintptr_t)idt) {
		memcpy(idt, (const void *)(uintptr_t)cur.base, cur.limit + 1u);
		cur.base = (uintptr_t)idt;
		cur.limit = sizeof idt - 1;
	}
	uint64_t a = (uintptr_t)entry;
	idt[vector] = (struct idt_gate){(uint16_t)a, 0x08, 0, 0x8e, (uint16_t)(a >> 16), (uint32_t)(a >> 32), 0};
	asm volatile("lidt %0" ::"m"(cur) : "memory");
}

extern const uint8_t ap_trampoline[], ap_trampoline_end[];
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
	asm volatile("sidt %0" : "=m"(ap_idt_desc) :: "memory");
	lapic_ipi(apic_id, 0x4500);			/* INIT, level assert */
	lapic_ipi(apic_id, 0x4600 | (TRAMPOLINE >> 12));	/* STARTUP at the trampoline */
}
