/* Time: the pvclock in vcpu_info (version protocol, frequency against CPUID 0x40000003,
 * monotonic), the wall clock, and VIRQ_TIMER from the singleshot timer, set_timer_op and the
 * periodic timer -- delivered to a blocked vCPU with interrupts off (SCHEDOP_block wakes, the
 * vector waits in the LAPIC), with interrupts on (the upcall vector interrupts the halt), and
 * to a poller on the masked port. */
#include "test.h"
#include "cpu.h"
#include "events.h"
#include "pvclock.h"
#include <xen/vcpu.h>
#include <xen/hvm/hvm_op.h>
#include "pvhv/hypercall_transport.h"

#define MS 1000000ull

volatile uint32_t upcalls;	/* counted by upcall_entry */
void upcall_entry(void);
asm(".text\n"
    "upcall_entry:\n"
    "	push %rax\n"
    "	lock incl upcalls(%rip)\n"
    "	mov $0xfee000b0, %eax\n"	/* LAPIC EOI */
    "	movl $0, (%rax)\n"
    "	pop %rax\n"
    "	iretq\n");

static evtchn_port_t timer_port;

static uint64_t now(void) { return pvclock_now(0); }

static long singleshot(uint64_t deadline, uint32_t flags)
{
	vcpu_set_singleshot_timer_t t = {.timeout_abs_ns = deadline, .flags = flags};
	return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

/* SCHEDOP_block with interrupts enabled, the out right behind sti: like sti;hlt, an interrupt
 * cannot slip in between (pvhv's pio transport, abi/README.md). */
static long block_interrupts_on(void)
{
	long rc;
	asm volatile("sti; out %%eax, %[port]; cli"
		     : "=a"(rc)
		     : "a"(__HYPERVISOR_sched_op), "D"((long)SCHEDOP_block), "S"(0l), [port] "i"(PVHV_HYPERCALL_PORT)
		     : "memory");
	return rc;
}

static void check_pvclock(void)
{
	const volatile struct vcpu_time_info *t = &shared_info->vcpu_info[0].time;
	uint32_t a, b, c, d;
	cpuid(xen_cpuid_base + 3, &a, &b, &c, &d);	/* sub-leaf 0: ECX = guest TSC kHz */
	uint64_t khz = pvclock_tsc_khz(t);
	xprintf("pvclock: version %u mul %08x shift %d flags %x -> %lu kHz; CPUID says %u kHz\n",
		t->version, t->tsc_to_system_mul, t->tsc_shift, t->flags, (unsigned long)khz, c);
	if (t->version != 0 && !(t->version & 1) && c != 0 && khz + 1 >= c && khz <= c + 1)
		report_pass("pvclock_frequency");
	else
		report_fail("pvclock_frequency", "version %u, %lu kHz vs CPUID %u kHz", t->version,
			    (unsigned long)khz, c);

	uint64_t t1 = now(), t2 = now(), t3 = pvclock_now(0);
	if (t1 > 0 && t2 >= t1 && t3 >= t2 && t3 - t1 < 1000 * MS)
		report_pass("pvclock_monotonic");
	else
		report_fail("pvclock_monotonic", "%lu %lu %lu", (unsigned long)t1, (unsigned long)t2,
			    (unsigned long)t3);

	uint32_t wv = shared_info->wc_version;
	uint64_t sec = ((uint64_t)shared_info->wc_sec_hi << 32) | shared_info->wc_sec;
	if (!(wv & 1) && wv != 0 && sec > 1600000000ull && shared_info->wc_nsec < 1000000000u)
		report_pass("wallclock");
	else
		report_fail("wallclock", "version %u sec %lu nsec %u", wv, (unsigned long)sec,
			    shared_info->wc_nsec);
}

/* The timer fires while the vCPU blocks with interrupts off: SCHEDOP_block returns on the
 * upcall, the port and upcall_pending are set, and the vector waits in the LAPIC. */
static void check_block_interrupts_off(void)
{
	evtchn_clear(timer_port);
	evtchn_ack(0);
	uint64_t deadline = now() + 2 * MS;
	long rc = singleshot(deadline, 0);	/* already past by now (a preempted vCPU): fires at once */
	long brc = HYPERVISOR_sched_op(SCHEDOP_block, 0);
	uint64_t after = now();
	if (rc == 0 && brc == 0 && evtchn_is_pending(timer_port) && evtchn_upcall_pending(0) &&
	    after >= deadline && upcalls == 0)
		report_pass("timer_block_interrupts_off");
	else
		report_fail("timer_block_interrupts_off", "rc %ld/%ld pending %d upcall %u %lu ns after, upcalls %u",
			    rc, brc, evtchn_is_pending(timer_port), evtchn_upcall_pending(0),
			    (unsigned long)(after - deadline), upcalls);

	/* The MSI waits in the LAPIC's IRR; sti;hlt takes it (hlt returns at once with an
	 * interrupt pending, so this cannot hang once the IRR bit is seen). */
	if (!lapic_irr_pending(UPCALL_VECTOR)) {
		report_fail("upcall_vector_delivered", "vector %#x not pending in the LAPIC", UPCALL_VECTOR);
		return;
	}
	asm volatile("sti; hlt; cli" ::: "memory");
	if (upcalls == 1)
		report_pass("upcall_vector_delivered");
	else
		report_fail("upcall_vector_delivered", "%u upcalls once interrupts were on", upcalls);
}

static void check_block_interrupts_on(void)
{
	evtchn_clear(timer_port);
	evtchn_ack(0);
	uint32_t before = upcalls;
	uint64_t deadline = now() + 2 * MS;
	long rc = singleshot(deadline, 0);
	long brc = block_interrupts_on();
	uint64_t after = now();
	if (rc == 0 && brc == 0 && upcalls == before + 1 && after >= deadline && evtchn_is_pending(timer_port))
		report_pass("timer_block_interrupts_on");
	else
		report_fail("timer_block_interrupts_on", "rc %ld/%ld upcalls %u->%u pending %d", rc, brc,
			    before, upcalls, evtchn_is_pending(timer_port));
}

/* Masked port: no upcall, only the poller wakes. */
static void check_polled_timers(void)
{
	evtchn_set_mask(timer_port, true);
	uint32_t before = upcalls;

	evtchn_clear(timer_port);
	evtchn_ack(0);
	uint64_t deadline = now() + MS;
	long rc = hypercall1(__HYPERVISOR_set_timer_op, deadline);
	long prc = sched_poll(&timer_port, 1, now() + 1000 * MS);
	uint64_t after = now();
	if (rc == 0 && prc == 0 && evtchn_is_pending(timer_port) && after >= deadline)
		report_pass("set_timer_op_poll");
	else
		report_fail("set_timer_op_poll", "rc %ld/%ld pending %d", rc, prc, evtchn_is_pending(timer_port));

	evtchn_clear(timer_port);
	evtchn_ack(0);
	rc = singleshot(1, 0);	/* long past, no "future" flag: fires at once */
	prc = sched_poll(&timer_port, 1, now() + 1000 * MS);
	if (rc == 0 && prc == 0 && evtchn_is_pending(timer_port))
		report_pass("past_deadline_fires");
	else
		report_fail("past_deadline_fires", "rc %ld/%ld pending %d", rc, prc, evtchn_is_pending(timer_port));
	expect_rc("past_deadline_etime", singleshot(1, VCPU_SSHOTTMR_future), -XEN_ETIME);

	/* 50 ms: the stop must come before the deadline even if this vCPU's thread is preempted. */
	evtchn_clear(timer_port);
	evtchn_ack(0);
	uint64_t stopped_deadline = now() + 50 * MS;
	rc = singleshot(stopped_deadline, 0);
	long src = HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0);
	uint64_t timeout = stopped_deadline + 2 * MS;
	prc = sched_poll(&timer_port, 1, timeout);
	after = now();
	if (rc == 0 && src == 0 && prc == 0 && !evtchn_is_pending(timer_port) && after >= timeout)
		report_pass("stop_singleshot");
	else
		report_fail("stop_singleshot", "rc %ld/%ld/%ld pending %d", rc, src, prc,
			    evtchn_is_pending(timer_port));

	vcpu_set_periodic_timer_t per = {.period_ns = MS};
	rc = HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per);
	int ticks = 0;
	for (int i = 0; i < 2; i++) {
		evtchn_clear(timer_port);
		evtchn_ack(0);
		if (sched_poll(&timer_port, 1, now() + 1000 * MS) == 0 && evtchn_is_pending(timer_port))
			ticks++;
	}
	src = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0);
	if (rc == 0 && src == 0 && ticks == 2)
		report_pass("periodic_timer");
	else
		report_fail("periodic_timer", "rc %ld/%ld, %d ticks of 2", rc, src, ticks);
	per.period_ns = MS - 1;
	expect_rc("periodic_below_1ms", HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), -XEN_EINVAL);

	if (upcalls == before)
		report_pass("masked_timer_no_upcall");
	else
		report_fail("masked_timer_no_upcall", "upcalls %u -> %u", before, upcalls);
}

static void check_runstate(void)
{
	static struct vcpu_runstate_info area, got;
	area.state = -1;
	vcpu_register_runstate_memory_area_t reg = {.addr.v = &area};
	long rc = HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &reg);
	long grc = HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &got);
	if (rc == 0 && grc == 0 && area.state == RUNSTATE_running && got.state == RUNSTATE_running)
		report_pass("runstate");
	else
		report_fail("runstate", "rc %ld/%ld state %d/%d", rc, grc, area.state, got.state);
	vcpu_set_singleshot_timer_t t = {.timeout_abs_ns = 0};
	expect_rc("singleshot_no_such_vcpu", HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &t),
		  -XEN_ENOENT);
}

void test_main(void)
{
	/* shared_info, the IDT, the LAPIC and vCPU 0's upcall vector (lib/events.c); then this
	 * test's own gate, which counts upcalls. */
	if (!events_init())
		return;
	report_pass("events_init");
	idt_set_gate(UPCALL_VECTOR, upcall_entry);
	check_pvclock();
	if (!expect_rc("bind_virq_timer", evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port), 0))
		return;

	xen_hvm_evtchn_upcall_vector_t uv = {.vcpu = 0, .vector = UPCALL_VECTOR};
	if (!expect_rc("set_upcall_vector", HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), 0))
		return;
	check_block_interrupts_off();
	check_block_interrupts_on();
	check_polled_timers();
	check_runstate();
}
