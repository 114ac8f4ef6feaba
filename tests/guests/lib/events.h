/* Event channels for guests that wait: shared_info, an upcall vector on vCPU 0, blocking in hlt. */
#ifndef GUEST_EVENTS_H
#define GUEST_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

/* The vector upcalls arrive on (HVMOP_set_evtchn_upcall_vector). */
#define UPCALL_VECTOR 0x20

/* Maps shared_info (a page of .bss), installs an IDT gate for UPCALL_VECTOR that only EOIs,
 * software-enables the LAPIC and registers the vector for vCPU 0. Reports a FAIL line and
 * returns false if any step fails. Interrupts stay disabled except inside evtchn_wait(). */
bool events_init(void);

bool evtchn_is_pending(evtchn_port_t port);
void evtchn_clear(evtchn_port_t port);
/* Blocks (sti; hlt) until `port` is pending; does not clear it. Race-free against an event
 * that arrives between the check and hlt: upcall_pending and the selector are cleared before
 * the check, so such an event raises a new upcall, held in the LAPIC until sti. Clear the
 * port, look at what it guards, then wait: that order loses nothing. */
void evtchn_wait(evtchn_port_t port);

long evtchn_send(evtchn_port_t port);
long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *local);

/* Our domid, from the Xen HVM CPUID leaf (0 if the leaf does not say). */
domid_t self_domid(void);

#endif
