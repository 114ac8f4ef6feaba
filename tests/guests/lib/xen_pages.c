/* Shared info mapping, event-channel helpers and pvclock reads for test guests. */
#include "xen_pages.h"

#include <xen/memory.h>
#include <xen/sched.h>

#include "hypercall.h"

static union {
	shared_info_t si;
	uint8_t raw[4096];
} page __attribute__((aligned(4096)));

shared_info_t *const shared_info = &page.si;

long shared_info_map(void)
{
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)&page >> 12,
	};
	return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

void evtchn_clear(evtchn_port_t p, unsigned int vcpu)
{
	vcpu_info_t *vi = &shared_info->vcpu_info[vcpu];
	__atomic_fetch_and(&shared_info->evtchn_pending[p / 64], ~evtchn_bit(p), __ATOMIC_SEQ_CST);
	__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
}

uint8_t evtchn_upcall_pending(unsigned int vcpu)
{
	return __atomic_load_n(&shared_info->vcpu_info[vcpu].evtchn_upcall_pending, __ATOMIC_SEQ_CST);
}

long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
	evtchn_bind_virq_t op = {.virq = virq, .vcpu = vcpu};
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
	*port = op.port;
	return rc;
}

long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
	evtchn_bind_ipi_t op = {.vcpu = vcpu};
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);
	*port = op.port;
	return rc;
}

long evtchn_send(evtchn_port_t port)
{
	evtchn_send_t op = {.port = port};
	return HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

long sched_poll(evtchn_port_t *ports, unsigned int nr, uint64_t timeout)
{
	struct sched_poll p = {.nr_ports = nr, .timeout = timeout};
	set_xen_guest_handle(p.ports, ports);
	return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t pvclock_now(unsigned int vcpu)
{
	const volatile struct vcpu_time_info *t = &shared_info->vcpu_info[vcpu].time;
	uint32_t version;
	uint64_t ns;
	do {
		version = t->version;
		asm volatile("" ::: "memory");
		uint64_t delta = rdtsc() - t->tsc_timestamp;
		int8_t shift = t->tsc_shift;
		delta = shift < 0 ? delta >> -shift : delta << shift;
		ns = t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
		asm volatile("" ::: "memory");
	} while ((version & 1) || version != t->version);
	return ns;
}

uint64_t pvclock_tsc_khz(const volatile struct vcpu_time_info *t)
{
	uint32_t mul = t->tsc_to_system_mul;
	if (!mul)
		return 0;
	uint64_t khz = (1000000ull << 32) / mul;
	return t->tsc_shift < 0 ? khz << -t->tsc_shift : khz >> t->tsc_shift;
}
