/* The shared info page, 2-level event-channel helpers and the pvclock, for guests that use events. */
#ifndef GUEST_XEN_PAGES_H
#define GUEST_XEN_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

/* A page of this image's .bss; valid once shared_info_map() succeeded. */
extern shared_info_t *const shared_info;

/* XENMEM_add_to_physmap(XENMAPSPACE_shared_info) onto that page; returns its result. */
long shared_info_map(void);

static inline uint64_t evtchn_bit(evtchn_port_t p) { return 1ull << (p % 64); }

static inline bool evtchn_is_pending(evtchn_port_t p)
{
	return __atomic_load_n(&shared_info->evtchn_pending[p / 64], __ATOMIC_SEQ_CST) & evtchn_bit(p);
}

static inline void evtchn_set_mask(evtchn_port_t p, bool on)
{
	if (on)
		__atomic_fetch_or(&shared_info->evtchn_mask[p / 64], evtchn_bit(p), __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&shared_info->evtchn_mask[p / 64], ~evtchn_bit(p), __ATOMIC_SEQ_CST);
}

/* What an upcall handler does: clear the port, then vCPU v's selector and upcall_pending. */
void evtchn_clear(evtchn_port_t p, unsigned int vcpu);
uint8_t evtchn_upcall_pending(unsigned int vcpu);

long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long evtchn_send(evtchn_port_t port);

/* SCHEDOP_poll on `nr` ports with an absolute timeout in system time (0: none). */
long sched_poll(evtchn_port_t *ports, unsigned int nr, uint64_t timeout);

/* Xen system time in ns from vCPU `vcpu`'s vcpu_info in shared_info (the pvclock protocol:
 * retry while the version is odd or changed). */
uint64_t pvclock_now(unsigned int vcpu);
/* The TSC frequency the pvclock implies, in kHz (Linux's pvclock_tsc_khz). */
uint64_t pvclock_tsc_khz(const volatile struct vcpu_time_info *t);

#endif
