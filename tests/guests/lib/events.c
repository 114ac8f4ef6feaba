/* Event channels for waiting guests: shared_info in .bss, a tiny upcall gate, sti;hlt waits. */
#include "events.h"

#include <xen/hvm/hvm_op.h>

#include "hypercall.h"
#include "report.h"
#include "string.h"

#define GDT_CS 0x08
#define LAPIC_SVR ((volatile uint32_t *)0xfee000f0ul)
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_LVT_TIMER ((volatile uint32_t *)0xfee00320ul)
#define LAPIC_LVT_LINT0 ((volatile uint32_t *)0xfee00350ul)
#define LAPIC_TIMER_INIT ((volatile uint32_t *)0xfee00380ul)
#define LAPIC_TIMER_DIV ((volatile uint32_t *)0xfee003e0ul)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)

static union {
	shared_info_t si;
	uint8_t raw[4096];
} shared __attribute__((aligned(4096)));

shared_info_t *const shared_info = &shared.si;

#define VI (&shared.si.vcpu_info[0])

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

/* head.S's static IDT covers the 32 exception vectors; this copy adds the others. */
static struct idt_gate idt[256] __attribute__((aligned(16)));

volatile uint64_t ticks;

void tick_entry(void);
/* The upcall only ends the interrupt: waiters look at the pending bits themselves. The 32-bit
 * mov zero-extends, so %rax holds the LAPIC EOI register's address. The tick counts, then
 * does the same. */
asm(".pushsection .text\n"
    ".globl eoi_only_entry, tick_entry\n"
    "tick_entry:\n"
    "	incq ticks(%rip)\n"
    "eoi_only_entry:\n"
    "	push %rax\n"
    "	mov $0xfee000b0, %eax\n"
    "	movl $0, (%rax)\n"
    "	pop %rax\n"
    "	iretq\n"
    ".popsection");

void idt_set_gate(unsigned int vector, void (*entry)(void))
{
	uint64_t a = (uintptr_t)entry;
	idt[vector & 0xff] = (struct idt_gate){(uint16_t)a, GDT_CS, 0, 0x8e, (uint16_t)(a >> 16),
					       (uint32_t)(a >> 32), 0};
}

static void install_upcall_gate(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) d;
	asm volatile("sidt %0" : "=m"(d));
	size_t n = (size_t)d.limit + 1;
	if (n > sizeof(idt))
		n = sizeof(idt);
	memcpy(idt, (const void *)d.base, n);
	idt_set_gate(UPCALL_VECTOR, eoi_only_entry);
	d.limit = sizeof(idt) - 1;
	d.base = (uintptr_t)idt;
	asm volatile("lidt %0" ::"m"(d) : "memory");
}

long shared_info_map(void)
{
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)&shared >> 12,
	};
	return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

bool events_init(void)
{
	long rc = shared_info_map();
	if (rc) {
		report_fail("events_init", "map shared_info: %ld", rc);
		return false;
	}
	install_upcall_gate();
	*LAPIC_SVR = *LAPIC_SVR | LAPIC_SVR_ENABLE;
	*LAPIC_LVT_LINT0 = LVT_MASKED;
	struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = 0, .vector = UPCALL_VECTOR};
	rc = HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
	if (rc) {
		report_fail("events_init", "HVMOP_set_evtchn_upcall_vector: %ld", rc);
		return false;
	}
	return true;
}

static uint64_t bit(evtchn_port_t p) { return 1ull << (p % 64); }

bool evtchn_is_pending(evtchn_port_t p)
{
	return __atomic_load_n(&shared.si.evtchn_pending[p / 64], __ATOMIC_SEQ_CST) & bit(p);
}

void evtchn_clear(evtchn_port_t p)
{
	__atomic_fetch_and(&shared.si.evtchn_pending[p / 64], ~bit(p), __ATOMIC_SEQ_CST);
}

void evtchn_set_mask(evtchn_port_t p, bool masked)
{
	if (masked)
		__atomic_fetch_or(&shared.si.evtchn_mask[p / 64], bit(p), __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&shared.si.evtchn_mask[p / 64], ~bit(p), __ATOMIC_SEQ_CST);
}

void evtchn_ack(unsigned int vcpu)
{
	vcpu_info_t *vi = &shared.si.vcpu_info[vcpu];
	__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
}

uint8_t evtchn_upcall_pending(unsigned int vcpu)
{
	return __atomic_load_n(&shared.si.vcpu_info[vcpu].evtchn_upcall_pending, __ATOMIC_SEQ_CST);
}

void evtchn_wait(evtchn_port_t p)
{
	for (;;) {
		asm volatile("cli" ::: "memory");
		__atomic_store_n(&VI->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&VI->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		if (evtchn_is_pending(p))
			return;
		/* sti's one-instruction shadow covers hlt: a queued upcall wakes it. */
		asm volatile("sti; hlt; cli" ::: "memory");
	}
}

bool evtchn_wait_until(evtchn_port_t p, bool (*cond)(void *), void *arg, uint64_t timeout)
{
	uint64_t deadline = ticks + timeout;
	for (;;) {
		asm volatile("cli" ::: "memory");
		__atomic_store_n(&VI->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&VI->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		if (p)
			evtchn_clear(p);
		if (cond(arg))
			return true;
		if (ticks >= deadline)
			return false;
		asm volatile("sti; hlt; cli" ::: "memory");
	}
}

static bool call_plain(void *cond) { return ((bool (*)(void))cond)(); }

bool evtchn_wait_for(evtchn_port_t p, bool (*cond)(void), uint64_t timeout)
{
	return evtchn_wait_until(p, call_plain, (void *)cond, timeout);
}

void ticks_init(void)
{
	idt_set_gate(TICK_VECTOR, tick_entry);
	*LAPIC_TIMER_DIV = 0xb; /* divide by 1 */
	*LAPIC_LVT_TIMER = LVT_TIMER_PERIODIC | TICK_VECTOR;
	*LAPIC_TIMER_INIT = TICK_MS * 1000000u;
}

void sleep_ticks(uint64_t n)
{
	uint64_t until = ticks + n;
	while (ticks < until)
		asm volatile("sti; hlt; cli" ::: "memory");
}

long evtchn_send(evtchn_port_t port)
{
	evtchn_send_t op = {.port = port};
	return HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
	evtchn_alloc_unbound_t op = {.dom = DOMID_SELF, .remote_dom = remote};
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
	*port = op.port;
	return rc;
}

long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *local)
{
	evtchn_bind_interdomain_t op = {.remote_dom = remote, .remote_port = remote_port};
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
	*local = op.local_port;
	return rc;
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

long sched_poll(evtchn_port_t *ports, unsigned int nr, uint64_t timeout)
{
	struct sched_poll p = {.nr_ports = nr, .timeout = timeout};
	set_xen_guest_handle(p.ports, ports);
	return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

domid_t self_domid(void)
{
	uint32_t a, b, c, d;
	cpuid(xen_cpuid_base + 4, &a, &b, &c, &d);
	return (a & XEN_HVM_CPUID_DOMID_PRESENT) ? (domid_t)c : 0;
}
