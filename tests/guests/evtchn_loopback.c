/* Event channels (2-level) on the guest's own domain: a loopback interdomain pair, an IPI and a
 * VIRQ port, masking, close, and bad arguments. No upcall vector is registered, so nothing
 * interrupts the guest: it reads the pending, mask and selector bits in shared_info and
 * vcpu_info[0] directly. */
#include "test.h"
#include "events.h"
#include <xen/event_channel.h>

#define NO_RAM 0x80000000ul	/* mapped by the guest, no RAM behind it (32 MiB guest) */

/* The shared info page: lib/events.c's page of .bss (zeroed by the loader). */
#define SI shared_info
#define VI (&shared_info->vcpu_info[0])

static domid_t self_id;	/* our own domid, as status reports it */

static long evtchn_op(unsigned int cmd, void *arg)
{
	return HYPERVISOR_event_channel_op(cmd, arg);
}

static long status_of(evtchn_port_t port, evtchn_status_t *st)
{
	*st = (evtchn_status_t){.dom = DOMID_SELF, .port = port};
	return evtchn_op(EVTCHNOP_status, st);
}

static long send(evtchn_port_t port)
{
	evtchn_send_t op = {.port = port};
	return evtchn_op(EVTCHNOP_send, &op);
}

static uint64_t bit(evtchn_port_t p) { return 1ull << (p % 64); }

static bool pending(evtchn_port_t p)
{
	return __atomic_load_n(&SI->evtchn_pending[p / 64], __ATOMIC_SEQ_CST) & bit(p);
}

static bool masked(evtchn_port_t p)
{
	return __atomic_load_n(&SI->evtchn_mask[p / 64], __ATOMIC_SEQ_CST) & bit(p);
}

static uint64_t sel(void) { return __atomic_load_n(&VI->evtchn_pending_sel, __ATOMIC_SEQ_CST); }
static uint8_t upcall(void) { return __atomic_load_n(&VI->evtchn_upcall_pending, __ATOMIC_SEQ_CST); }

/* Clears the guest-owned bits: the ports' pending bits, the selector and upcall_pending. */
static void clear_events(evtchn_port_t a, evtchn_port_t b)
{
	__atomic_fetch_and(&SI->evtchn_pending[a / 64], ~bit(a), __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&SI->evtchn_pending[b / 64], ~bit(b), __ATOMIC_SEQ_CST);
	__atomic_store_n(&VI->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&VI->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
}

static bool map_shared_info(void)
{
	/* Odd and zero before the map: the hypervisor's write is what makes them sane. */
	__atomic_store_n(&SI->wc_version, 1, __ATOMIC_SEQ_CST);
	SI->wc_sec = 0;
	long rc = shared_info_map();
	uint32_t ver = __atomic_load_n(&SI->wc_version, __ATOMIC_SEQ_CST);
	uint32_t sec = *(volatile uint32_t *)&SI->wc_sec;
	if (rc == 0 && !(ver & 1) && sec != 0) {
		report_pass("map_shared_info");
		return true;
	}
	report_fail("map_shared_info", "rc %ld, wc_version %u, wc_sec %u at %p", rc, ver, sec,
		    (void *)shared_info);
	return false;
}

void test_main(void)
{
	if (!map_shared_info())
		return;	/* nothing below can be observed without the page */

	/* 2. alloc_unbound on ourselves. */
	evtchn_alloc_unbound_t au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
	long rc = evtchn_op(EVTCHNOP_alloc_unbound, &au);
	evtchn_port_t p1 = au.port;
	evtchn_status_t st;
	if (rc != 0 || p1 == 0 || p1 >= 4096) {
		report_fail("alloc_unbound", "rc %ld port %u", rc, p1);
		return;
	}
	long src = status_of(p1, &st);
	if (src == 0 && st.status == EVTCHNSTAT_unbound && st.vcpu == 0) {
		self_id = st.u.unbound.dom;
		xprintf("alloc_unbound: port %u, remote dom %u (self)\n", p1, self_id);
		report_pass("alloc_unbound");
	} else {
		report_fail("alloc_unbound", "port %u: status rc %ld status %u vcpu %u", p1, src,
			    st.status, st.vcpu);
		return;
	}

	/* 3. bind_interdomain to our own unbound port: a loopback pair. */
	evtchn_bind_interdomain_t bi = {.remote_dom = DOMID_SELF, .remote_port = p1};
	rc = evtchn_op(EVTCHNOP_bind_interdomain, &bi);
	evtchn_port_t p2 = bi.local_port;
	if (rc != 0 || p2 == 0 || p2 == p1 || p2 >= 4096) {
		report_fail("bind_interdomain", "rc %ld local port %u (p1 %u)", rc, p2, p1);
		return;
	}
	evtchn_status_t st2;
	long rc1 = status_of(p1, &st), rc2 = status_of(p2, &st2);
	if (rc1 == 0 && rc2 == 0 && st.status == EVTCHNSTAT_interdomain &&
	    st2.status == EVTCHNSTAT_interdomain && st.u.interdomain.dom == self_id &&
	    st.u.interdomain.port == p2 && st2.u.interdomain.dom == self_id &&
	    st2.u.interdomain.port == p1)
		report_pass("bind_interdomain");
	else
		report_fail("bind_interdomain",
			    "p1 %u: rc %ld status %u -> %u:%u; p2 %u: rc %ld status %u -> %u:%u", p1, rc1,
			    st.status, st.u.interdomain.dom, st.u.interdomain.port, p2, rc2, st2.status,
			    st2.u.interdomain.dom, st2.u.interdomain.port);

	/* 4. send on p2 raises p1 (only p1): pending bit, selector bit, upcall_pending. */
	clear_events(p1, p2);
	rc = send(p2);
	if (rc == 0 && pending(p1) && !pending(p2) && (sel() & (1ull << (p1 / 64))) && upcall() == 1)
		report_pass("send_interdomain");
	else
		report_fail("send_interdomain", "rc %ld pending p1 %d p2 %d sel %lx upcall %u", rc,
			    pending(p1), pending(p2), (unsigned long)sel(), upcall());

	/* 5. masked: pending only; unmask then raises the selector and upcall. */
	clear_events(p1, p2);
	__atomic_fetch_or(&SI->evtchn_mask[p1 / 64], bit(p1), __ATOMIC_SEQ_CST);
	rc = send(p2);
	uint64_t s = sel();
	uint8_t u = upcall();
	if (rc == 0 && pending(p1) && s == 0 && u == 0)
		report_pass("send_masked");
	else
		report_fail("send_masked", "rc %ld pending %d sel %lx upcall %u", rc, pending(p1),
			    (unsigned long)s, u);
	evtchn_unmask_t um = {.port = p1};
	rc = evtchn_op(EVTCHNOP_unmask, &um);
	if (rc == 0 && !masked(p1) && upcall() == 1 && (sel() & (1ull << (p1 / 64))))
		report_pass("unmask");
	else
		report_fail("unmask", "rc %ld masked %d sel %lx upcall %u", rc, masked(p1),
			    (unsigned long)sel(), upcall());

	/* 6. IPI to ourselves. */
	evtchn_bind_ipi_t ipi = {.vcpu = 0};
	rc = evtchn_op(EVTCHNOP_bind_ipi, &ipi);
	evtchn_port_t p3 = ipi.port;
	if (rc != 0 || p3 == 0 || p3 >= 4096 || p3 == p1 || p3 == p2) {
		report_fail("bind_ipi", "rc %ld port %u", rc, p3);
	} else {
		clear_events(p3, p3);
		rc = send(p3);
		if (rc == 0 && pending(p3) && upcall() == 1)
			report_pass("bind_ipi");
		else
			report_fail("bind_ipi", "port %u: send rc %ld pending %d upcall %u", p3, rc,
				    pending(p3), upcall());
	}

	/* 7. VIRQ_TIMER on vCPU 0: once only, and not for send. */
	evtchn_bind_virq_t bv = {.virq = VIRQ_TIMER, .vcpu = 0};
	rc = evtchn_op(EVTCHNOP_bind_virq, &bv);
	evtchn_port_t pv = bv.port;
	if (rc == 0 && pv != 0 && pv < 4096 && status_of(pv, &st) == 0 &&
	    st.status == EVTCHNSTAT_virq && st.u.virq == VIRQ_TIMER)
		report_pass("bind_virq");
	else
		report_fail("bind_virq", "rc %ld port %u status %u virq %u", rc, pv, st.status, st.u.virq);
	evtchn_bind_virq_t bv2 = {.virq = VIRQ_TIMER, .vcpu = 0};
	expect_rc("bind_virq_twice", evtchn_op(EVTCHNOP_bind_virq, &bv2), -XEN_EEXIST);
	expect_rc("send_virq", send(pv), -XEN_EINVAL);

	/* 8. close one end: the other goes back to unbound, waiting for us again. */
	evtchn_close_t cl = {.port = p1};
	rc = evtchn_op(EVTCHNOP_close, &cl);
	rc1 = status_of(p1, &st);
	rc2 = status_of(p2, &st2);
	if (rc == 0 && rc1 == 0 && st.status == EVTCHNSTAT_closed && rc2 == 0 &&
	    st2.status == EVTCHNSTAT_unbound && st2.u.unbound.dom == self_id)
		report_pass("close");
	else
		report_fail("close", "rc %ld; p1: rc %ld status %u; p2: rc %ld status %u dom %u", rc, rc1,
			    st.status, rc2, st2.status, st2.u.unbound.dom);

	/* 9. bad ports, another domain, bad pointers. */
	expect_rc("send_port_4096", send(4096), -XEN_EINVAL);
	expect_rc("send_port_0", send(0), -XEN_EINVAL);
	expect_rc("status_port_5000", status_of(5000, &st), -XEN_EINVAL);
	evtchn_alloc_unbound_t other = {.dom = 3, .remote_dom = DOMID_SELF};
	rc = evtchn_op(EVTCHNOP_alloc_unbound, &other);
	if (rc == -XEN_EPERM || rc == -XEN_ESRCH) {
		xprintf("alloc_unbound for dom 3: %s\n", rc == -XEN_EPERM ? "-EPERM" : "-ESRCH");
		report_pass("alloc_unbound_other_dom");
	} else {
		report_fail("alloc_unbound_other_dom", "returned %ld, expected %d or %d", rc, -XEN_EPERM,
			    -XEN_ESRCH);
	}
	expect_rc("status_bad_struct", HYPERVISOR_event_channel_op(EVTCHNOP_status, NO_RAM), -XEN_EFAULT);
	expect_rc("send_bad_struct", HYPERVISOR_event_channel_op(EVTCHNOP_send, NO_RAM), -XEN_EFAULT);
}
