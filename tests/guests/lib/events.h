/* Event channels for guest tests: shared_info, an upcall vector on vCPU 0, waits, binds, SCHEDOP_poll. */
#ifndef GUEST_EVENTS_H
#define GUEST_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

/* The vector upcalls arrive on (HVMOP_set_evtchn_upcall_vector), and ticks_init()'s timer. */
#define UPCALL_VECTOR 0x20
#define TICK_VECTOR 0x21

/* The shared info page: a page of .bss, valid once shared_info_map() (or events_init) worked. */
extern shared_info_t *const shared_info;
/* XENMEM_add_to_physmap(XENMAPSPACE_shared_info) onto that page; returns its result. */
long shared_info_map(void);

/* Maps shared_info (a page of .bss), installs an IDT gate for UPCALL_VECTOR that only EOIs,
 * software-enables the LAPIC (with LINT0 masked: KVM resets the BSP's LINT0 to ExtINT, and the
 * unprogrammed 8259 would deliver an ISA IRQ as vector 0-15, an exception) and registers the
 * vector for vCPU 0. Reports a FAIL line and returns false if any step fails. Interrupts stay
 * disabled except inside the waits below. */
bool events_init(void);

/* After events_init: the IDT has room for all 256 vectors; `entry` becomes the gate of
 * `vector`. eoi_only_entry is what the upcall gate runs: it only ends the interrupt, for
 * sources (e.g. a device IRQ through the IOAPIC) whose waiter re-checks a condition. */
void idt_set_gate(unsigned int vector, void (*entry)(void));
void eoi_only_entry(void);

/* After events_init: a periodic LAPIC timer on TICK_VECTOR that counts `ticks` every
 * TICK_MS (KVM's APIC bus runs at 1 GHz), for bounded waits and sleeps. Ticks are counted
 * only while a wait has interrupts on, which is where time is spent waiting. */
#define TICK_MS 10
void ticks_init(void);
extern volatile uint64_t ticks;
void sleep_ticks(uint64_t n);

bool evtchn_is_pending(evtchn_port_t port);
void evtchn_clear(evtchn_port_t port);
void evtchn_set_mask(evtchn_port_t port, bool masked);
/* What an upcall handler does first: clear vCPU `vcpu`'s evtchn_upcall_pending and selector. */
void evtchn_ack(unsigned int vcpu);
uint8_t evtchn_upcall_pending(unsigned int vcpu);
/* Blocks (sti; hlt) until `port` is pending; does not clear it. Race-free against an event
 * that arrives between the check and hlt: upcall_pending and the selector are cleared before
 * the check, so such an event raises a new upcall, held in the LAPIC until sti. Clear the
 * port, look at what it guards, then wait: that order loses nothing. */
void evtchn_wait(evtchn_port_t port);
/* Blocks until cond() holds or `timeout` ticks pass (false then; needs ticks_init). Before each
 * check upcall_pending, the selector and `port` are cleared (port 0: none, e.g. when waiting
 * for a device), so an event on `port` after the check wakes the hlt; any other interrupt
 * just leads to another check. cond() reads what the port guards (a ring index). */
bool evtchn_wait_for(evtchn_port_t port, bool (*cond)(void), uint64_t timeout);
/* The same with an argument for cond(), e.g. the ring a driver waits on. */
bool evtchn_wait_until(evtchn_port_t port, bool (*cond)(void *), void *arg, uint64_t timeout);

long evtchn_send(evtchn_port_t port);
long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *local);
long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
/* SCHEDOP_poll on `nr` ports with an absolute timeout in system time (0: none). */
long sched_poll(evtchn_port_t *ports, unsigned int nr, uint64_t timeout);

/* Our domid, from the Xen HVM CPUID leaf (0 if the leaf does not say). */
domid_t self_domid(void);

#endif
