/* Malformed xenstore messages get XS_ERROR and the connection lives on; then one violation
 * that breaks it (break= on the command line: header, ringidx, rspidx) must set the ring
 * page's error field and close this guest's connection only. */
#include "test.h"
#include "events.h"
#include "xenstore.h"

#define RING XENSTORE_RING_SIZE

static uint8_t msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];

/* Sends one raw message and returns the type of what came back (error string in xs_error). */
static int raw(uint32_t type, uint32_t req_id, uint32_t tx_id, const void *payload, uint32_t len,
	       struct xsd_sockmsg *reply)
{
	struct xsd_sockmsg h = {.type = type, .req_id = req_id, .tx_id = tx_id, .len = len};
	memcpy(msg, &h, sizeof h);
	memcpy(msg + sizeof h, payload, len);
	int rc = xs_send_raw(msg, sizeof h + len);
	if (!rc)
		rc = xs_recv(reply);
	xs_error[0] = 0;
	if (!rc && reply->type == XS_ERROR) {
		size_t n = strnlen(xs_reply, sizeof(xs_error) - 1);
		memcpy(xs_error, xs_reply, n);
		xs_error[n] = 0;
	}
	return rc;
}

static void expect_error(const char *check, uint32_t type, const void *payload, uint32_t len,
			 const char *err)
{
	struct xsd_sockmsg r;
	int rc = raw(type, 77, 0, payload, len, &r);
	if (rc == 0 && r.type == XS_ERROR && r.req_id == 77 && !strcmp(xs_error, err))
		report_pass(check);
	else
		report_fail(check, "rc %d, reply type %u id %u \"%s\", expected XS_ERROR %s", rc, r.type,
			    r.req_id, xs_reply, err);
}

static char big[XENSTORE_PAYLOAD_MAX + 1];

static void recoverable(void)
{
	expect_error("read_without_nul", XS_READ, "name", 4, "EINVAL");
	expect_error("write_without_nul", XS_WRITE, "data/x", 6, "EINVAL");
	expect_error("watch_one_argument", XS_WATCH, "data\0", 5, "EINVAL");
	expect_error("read_two_paths", XS_READ, "name\0domid\0", 11, "EINVAL");
	expect_error("transaction_end_bad_arg", XS_TRANSACTION_END, "X\0", 2, "EINVAL");
	expect_error("get_domain_path_not_a_number", XS_GET_DOMAIN_PATH, "12x\0", 4, "EINVAL");
	expect_error("unknown_type", 0x7777, "name\0", 5, "ENOSYS");
	expect_error("type_invalid", XS_INVALID, "", 0, "ENOSYS");
	expect_error("type_watch_event", XS_WATCH_EVENT, "a\0b\0", 4, "ENOSYS");
	expect_error("type_error", XS_ERROR, "EINVAL\0", 7, "ENOSYS");
	expect_error("introduce_from_guest", XS_INTRODUCE, "1\0002\0003\0", 6, "EACCES");
	expect_error("release_from_guest", XS_RELEASE, "1\0", 2, "EACCES");

	/* A path of the maximum payload (over the 1 KiB ring: it goes in pieces), too long. */
	memset(big, 'a', XENSTORE_PAYLOAD_MAX - 1);
	big[XENSTORE_PAYLOAD_MAX - 1] = 0;
	expect_error("path_of_payload_max", XS_READ, big, XENSTORE_PAYLOAD_MAX, "EINVAL");
	/* A value larger than one node may hold (2048 bytes as cxenstored counts them). */
	memcpy(big, "data/big", 9);
	memset(big + 9, 'v', 3000);
	expect_error("oversized_node", XS_WRITE, big, 9 + 3000, "ENOSPC");

	struct xsd_sockmsg r;
	int rc = raw(XS_READ, 0xdeadbeef, 0, "domid\0", 6, &r);
	if (rc == 0 && r.type == XS_READ && r.req_id == 0xdeadbeef && r.tx_id == 0)
		report_pass("req_id_echoed");
	else
		report_fail("req_id_echoed", "rc %d type %u id %x", rc, r.type, r.req_id);
	xs_expect_ok("still_answers", xs_read(0, "domid"));
}

/* Waits for dom0's kick that comes with a broken connection, then checks the error field. */
static void expect_broken(const char *check, uint32_t error)
{
	for (;;) {
		evtchn_clear(xs_port);
		if (__atomic_load_n(&xs_intf->error, __ATOMIC_SEQ_CST))
			break;
		evtchn_wait(xs_port);
	}
	uint32_t e = __atomic_load_n(&xs_intf->error, __ATOMIC_SEQ_CST);
	if (e == error)
		report_pass(check);
	else
		report_fail(check, "error field %u, expected %u", e, error);
}

/* A well-formed request written straight into the ring: it must go unanswered. */
static void expect_ignored(void)
{
	static const char req[] = "domid";
	struct xsd_sockmsg h = {.type = XS_READ, .req_id = 1, .len = sizeof req};
	uint32_t prod = xs_intf->req_prod, rsp = xs_intf->rsp_prod;
	for (uint32_t i = 0; i < sizeof h + sizeof req; i++)
		xs_intf->req[MASK_XENSTORE_IDX(prod + i)] =
			i < sizeof h ? ((const char *)&h)[i] : req[i - sizeof h];
	__atomic_store_n(&xs_intf->req_prod, prod + sizeof h + sizeof req, __ATOMIC_SEQ_CST);
	evtchn_send(xs_port);
	/* No timer here: give pvd a few hundred host scheduling rounds to (not) answer. */
	for (int i = 0; i < 300; i++)
		HYPERVISOR_sched_op(SCHEDOP_yield, 0);
	if (__atomic_load_n(&xs_intf->rsp_prod, __ATOMIC_SEQ_CST) == rsp)
		report_pass("broken_connection_ignored");
	else
		report_fail("broken_connection_ignored", "rsp_prod moved from %u to %u", rsp,
			    xs_intf->rsp_prod);
	if (xs_read(0, "domid") == -XEN_EIO)
		report_pass("client_sees_broken_connection");
	else
		report_fail("client_sees_broken_connection", "a request did not fail with EIO");
}

void test_main(void)
{
	char mode[16];
	if (!cmdline_get(start_info_cmdline(), "break", mode, sizeof(mode))) {
		report_fail("mode", "no break=header|ringidx|rspidx on the command line");
		return;
	}
	if (!events_init() || !xs_init())
		return;
	recoverable();

	if (!strcmp(mode, "header")) {
		/* len > XENSTORE_PAYLOAD_MAX: the stream cannot be resynchronised. */
		struct xsd_sockmsg h = {.type = XS_READ, .req_id = 9, .len = XENSTORE_PAYLOAD_MAX + 1};
		xs_send_raw(&h, sizeof h);
		expect_broken("overlong_header_breaks", XENSTORE_ERROR_PROTO);
	} else if (!strcmp(mode, "ringidx")) {
		/* req_prod more than a ring ahead of req_cons. */
		uint32_t cons = xs_intf->req_cons;
		__atomic_store_n(&xs_intf->req_prod, cons + RING + 1, __ATOMIC_SEQ_CST);
		evtchn_send(xs_port);
		expect_broken("req_prod_past_ring_breaks", XENSTORE_ERROR_RINGIDX);
		__atomic_store_n(&xs_intf->req_prod, cons, __ATOMIC_SEQ_CST);
	} else if (!strcmp(mode, "rspidx")) {
		/* rsp_cons past rsp_prod, then a request whose reply has nowhere to go. */
		uint32_t rsp = xs_intf->rsp_prod;
		__atomic_store_n(&xs_intf->rsp_cons, rsp + 16, __ATOMIC_SEQ_CST);
		static const char req[] = "domid";
		struct xsd_sockmsg h = {.type = XS_READ, .req_id = 2, .len = sizeof req};
		memcpy(msg, &h, sizeof h);
		memcpy(msg + sizeof h, req, sizeof req);
		xs_send_raw(msg, sizeof h + sizeof req);
		expect_broken("rsp_cons_past_prod_breaks", XENSTORE_ERROR_RINGIDX);
		__atomic_store_n(&xs_intf->rsp_cons, rsp, __ATOMIC_SEQ_CST);
	} else {
		report_fail("mode", "unknown break=%s", mode);
		return;
	}
	expect_ignored();
	/* Still running: RESULT and poweroff follow; pvd must carry on (integration test). */
}
