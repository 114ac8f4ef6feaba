/* Event channels for waiting guests: shared_info in .bss, a tiny upcall gate, sti;hlt waits. */
#include "events.h"

#include <xen/hvm/hvm_op.h>

#include "hypercall.h"
#include "report.h"
#include "string.h"

#define GDT_CS 0x08
#define LAPIC_SVR ((volatile uint32_t *)0xfee000f0ul)
#define LAPIC_SVR_ENABLE 0x100

static union {
	shared_info_t si;
	uint8_t raw[4096];
} shared __attribute__((aligned(4096)));

#define VI (&shared.si.vcpu_info[0])

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

/* head.S's static IDT covers the 32 exception vectors; this copy adds the upcall gate. */
static struct idt_gate idt[UPCALL_VECTOR + 1] __attribute__((aligned(16)));

void upcall_entry(void);
/* The upcall only ends the interrupt: waiters look at the pending bits themselves. The 32-bit
 * mov zero-extends, so %rax holds the LAPIC EOI register's address. */
asm(".pushsection .text\n"
    ".globl upcall_entry\n"
    "upcall_entry:\n"
    "	push %rax\n"
    "	mov $0xfee000b0, %eax\n"
    "	movl $0, (%rax)\n"
    "	pop %rax\n"
    "	iretq\n"
    ".popsection");

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
	uint64_t a = (uintptr_t)upcall_entry;
	idt[UPCALL_VECTOR] = (struct idt_gate){(uint16_t)a, GDT_CS, 0, 0x8e, (uint16_t)(a >> 16),
					       (uint32_t)(a >> 32), 0};
	d.limit = sizeof(idt) - 1;
	d.base = (uintptr_t)idt;
	asm volatile("lidt %0" ::"m"(d) : "memory");
}

bool events_init(void)
{
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)&shared >> 12,
	};
	long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
	if (rc) {
		report_fail("events_init", "map shared_info: %ld", rc);
		return false;
	}
	install_upcall_gate();
	*LAPIC_SVR = *LAPIC_SVR | LAPIC_SVR_ENABLE;
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

domid_t self_domid(void)
{
	uint32_t a, b, c, d;
	cpuid(xen_cpuid_base + 4, &a, &b, &c, &d);
	return (a & XEN_HVM_CPUID_DOMID_PRESENT) ? (domid_t)c : 0;
}
