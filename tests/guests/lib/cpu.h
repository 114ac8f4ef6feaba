/* The local APIC, interrupt gates and secondary vCPUs, for guests that take interrupts or use SMP. */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE 0xfee00000ul
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_IRR 0x200	/* 8 registers, 0x10 apart: bit v%32 of IRR[v/32] */
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

static inline void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }
static inline uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC_BASE + reg); }

/* Software-enables the LAPIC (spurious vector 0xff): fixed interrupts are accepted from now on. */
static inline void lapic_enable(void) { lapic_write(LAPIC_SVR, 0x1ff); }

/* Points `vector` at `entry` (an assembly stub that ends in iretq). The first call moves the
 * IDT from head.S's 32 exception gates to a 256-entry table; later APs load that table too. */
void idt_set_gate(uint8_t vector, void (*entry)(void));

/* Starts the vCPU with APIC id `apic_id` through INIT/SIPI: a real-mode trampoline at 0x8000
 * takes it to long mode on the boot page tables and this IDT, then it runs fn() on its own
 * stack and halts with interrupts off. One secondary vCPU at a time. */
void smp_start_ap(uint32_t apic_id, void (*fn)(void));

#endif
