/* SCHEDOP_poll: a pending port returns at once, a timeout returns after the timeout (in the
 * pvclock's time), bad arguments get Xen's errors, and vCPU 1 sending on an IPI port wakes
 * vCPU 0 polling it (two vCPUs; the second comes up through INIT/SIPI). With "hang=1" on the
 * command line it then polls forever, to be destroyed. */
#include "test.h"
#include "cpu.h"
#include "events.h"
#include "pvclock.h"

#define MS 1000000ull
#define NO_RAM 0x80000000ul	/* mapped by the guest, no RAM behind it (32 MiB guest) */

static evtchn_port_t ipi;	/* bound to vCPU 0, masked: only pollers see it */
static volatile uint64_t go_time;	/* set by vCPU 0 when it is about to poll */
static volatile int ap_sent;	/* vCPU 1: 1 once its send returned 0, -1 on failure */

/* vCPU 1: wait for the go, let 5 ms pass on the pvclock, then raise the port. */
static void ap_main_fn(void)
{
	while (!go_time)
		asm volatile("pause");
	while (pvclock_now(1) < go_time + 5 * MS)
		asm volatile("pause");
	ap_sent = evtchn_send(ipi) == 0 ? 1 : -1;
}

static void check_basic(void)
{
	expect_rc("send_ipi", evtchn_send(ipi), 0);
	if (evtchn_is_pending(ipi))
		expect_rc("poll_pending_returns", sched_poll(&ipi, 1, 0), 0);
	else
		report_fail("poll_pending_returns", "port %u not pending after send", ipi);

	evtchn_clear(ipi);
	evtchn_ack(0);
	uint64_t timeout = pvclock_now(0) + 2 * MS;
	long rc = sched_poll(&ipi, 1, timeout);
	uint64_t after = pvclock_now(0);
	/* The poll ends while vCPU 1 is still in its send hypercall; let it record the result. */
	while (!ap_sent && pvclock_now(0) < timeout)
		asm volatile("pause");
	if (rc == 0 && after >= timeout && !evtchn_is_pending(ipi))
		report_pass("poll_timeout");
	else
		report_fail("poll_timeout", "rc %ld, %ld ns past the timeout, pending %d", rc,
			    (long)(after - timeout), evtchn_is_pending(ipi));
	expect_rc("poll_timeout_in_the_past", sched_poll(&ipi, 1, 1), 0);
	expect_rc("poll_no_ports_timeout", sched_poll(0, 0, pvclock_now(0) + MS), 0);
}

static void check_bad_args(void)
{
	static evtchn_port_t many[129];
	for (unsigned int i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = ipi;
	expect_rc("poll_too_many_ports", sched_poll(many, 129, 0), -XEN_EINVAL);
	evtchn_port_t bad[2] = {ipi, 4095};	/* beyond the allocated ports */
	expect_rc("poll_bad_port", sched_poll(bad, 2, 0), -XEN_EINVAL);
	expect_rc("poll_ports_unmapped", sched_poll((evtchn_port_t *)NO_RAM, 1, 0), -XEN_EFAULT);
	expect_rc("poll_struct_unmapped", HYPERVISOR_sched_op(SCHEDOP_poll, NO_RAM), -XEN_EFAULT);
	expect_rc("send_ipi_again", evtchn_send(ipi), 0);
	expect_rc("poll_pending_before_bad_port", sched_poll(bad, 2, 0), 0);	/* Xen's order */
	evtchn_clear(ipi);
	evtchn_ack(0);
}

static void check_woken_by_other_vcpu(void)
{
	smp_start_ap(1, ap_main_fn);
	uint64_t t = pvclock_now(0);
	uint64_t timeout = t + 2000 * MS;
	go_time = t;
	long rc = sched_poll(&ipi, 1, timeout);
	uint64_t after = pvclock_now(0);
	/* The poll ends while vCPU 1 is still in its send hypercall; let it record the result. */
	while (!ap_sent && pvclock_now(0) < timeout)
		asm volatile("pause");
	if (rc == 0 && ap_sent == 1 && evtchn_is_pending(ipi) && after >= t + 5 * MS && after < timeout)
		report_pass("poll_woken_by_vcpu1");
	else
		report_fail("poll_woken_by_vcpu1", "rc %ld, vcpu1 sent %d, pending %d, woke %lu ms after go",
			    rc, ap_sent, evtchn_is_pending(ipi), (unsigned long)((after - t) / MS));
}

void test_main(void)
{
	if (!events_init())  /* shared_info, and the LAPIC that sends INIT/SIPI */
		return;
	report_pass("events_init");
	if (!expect_rc("bind_ipi", evtchn_bind_ipi(0, &ipi), 0))
		return;
	evtchn_set_mask(ipi, true);
	check_basic();
	check_bad_args();
	check_woken_by_other_vcpu();

	/* "hang=1" on the command line: poll forever, for the test that destroys a domain whose
	 * vCPU sleeps in SCHEDOP_poll (tests/integration/destroy-while-polling.sh). */
	char v[4];
	if (cmdline_get(start_info_cmdline(), "hang", v, sizeof v)) {
		evtchn_clear(ipi);
	evtchn_ack(0);
		xprintf("polling with no timeout until destroyed\n");
		long rc = sched_poll(&ipi, 1, 0);
		report_fail("poll_hang", "poll returned %ld", rc);
	}
}
