/* The local APIC's registers and bringing up a secondary vCPU (INIT/SIPI), for SMP test guests. */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdint.h>

#define LAPIC_BASE 0xfee00000ul
#define LAPIC_IRR 0x200	/* 8 registers, 0x10 apart: bit v%32 of IRR[v/32] */
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

static inline void lapic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(LAPIC_BASE + reg) = v; }
static inline uint32_t lapic_read(uint32_t reg) { return *(volatile uint32_t *)(LAPIC_BASE + reg); }

/* Whether `vector` waits in this vCPU's LAPIC (IRR), e.g. with interrupts off. */
static inline int lapic_irr_pending(uint8_t vector)
{
	return (lapic_read(LAPIC_IRR + (vector / 32) * 0x10) >> (vector % 32)) & 1;
}

/* Starts the vCPU with APIC id `apic_id` through INIT/SIPI: a real-mode trampoline at 0x8000
 * takes it to long mode on the boot page tables and the caller's IDT (events_init's, if it ran),
 * then it runs fn() on its own stack and halts with interrupts off. One secondary vCPU at a
 * time; the caller's LAPIC must be software-enabled (events_init does it). */
void smp_start_ap(uint32_t apic_id, void (*fn)(void));

#endif
