/* Guest-side xenstore client: ring writes and reads with wrap-around, the event channel
 * protocol of docs/misc/xenstore-ring.txt, request building, XS_ERROR strings. */
/* xs_wire.h defines its xsd_errors table only where errno names exist: spell them as Xen's
 * values, before anything includes xs_wire.h. */
#define EINVAL XEN_EINVAL
#define EACCES XEN_EACCES
#define EEXIST XEN_EEXIST
#define EISDIR XEN_EISDIR
#define ENOENT XEN_ENOENT
#define ENOMEM XEN_ENOMEM
#define ENOSPC XEN_ENOSPC
#define EIO XEN_EIO
#define ENOTEMPTY XEN_ENOTEMPTY
#define ENOSYS XEN_ENOSYS
#define EROFS XEN_EROFS
#define EBUSY XEN_EBUSY
#define EAGAIN XEN_EAGAIN
#define EISCONN XEN_EISCONN
#define E2BIG XEN_E2BIG
#define EPERM XEN_EPERM
#include <stdbool.h>
#include <stdint.h>
#include <xen/errno.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_op.h>

#include "xenstore.h"

#include "events.h"
#include "hypercall.h"
#include "report.h"
#include "string.h"

#define RING XENSTORE_RING_SIZE
#define HDR sizeof(struct xsd_sockmsg)

struct xenstore_domain_interface *xs_intf;
evtchn_port_t xs_port;
char xs_reply[XENSTORE_PAYLOAD_MAX + 1];
uint32_t xs_reply_len;
char xs_error[16];

static uint32_t req_id;
static uint8_t out[HDR + XENSTORE_PAYLOAD_MAX];
static uint32_t out_len;	/* payload bytes in out */

#define MAX_EVENTS 8
static struct {
	char path[160];
	char token[40];
} events[MAX_EVENTS], current_event;
static unsigned int ev_head, ev_count;

static uint64_t get_param(uint32_t index, long *rc)
{
	struct xen_hvm_param p = {.domid = DOMID_SELF, .index = index};
	*rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
	return p.value;
}

bool xs_init(void)
{
	long rc1, rc2;
	uint64_t pfn = get_param(HVM_PARAM_STORE_PFN, &rc1);
	uint64_t port = get_param(HVM_PARAM_STORE_EVTCHN, &rc2);
	if (rc1 || rc2 || !pfn || !port) {
		report_fail("xs_init", "STORE_PFN %lx (rc %ld), STORE_EVTCHN %lu (rc %ld)",
			    (unsigned long)pfn, rc1, (unsigned long)port, rc2);
		return false;
	}
	xs_intf = (struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
	xs_port = (evtchn_port_t)port;
	return true;
}

static uint32_t min3(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t m = a < b ? a : b;
	return m < c ? m : c;
}

static bool broken(void) { return __atomic_load_n(&xs_intf->error, __ATOMIC_SEQ_CST) != 0; }

static int ring_write(const uint8_t *p, uint32_t len)
{
	while (len) {
		evtchn_clear(xs_port);
		if (broken())
			return -XEN_EIO;
		uint32_t cons = __atomic_load_n(&xs_intf->req_cons, __ATOMIC_ACQUIRE);
		uint32_t prod = xs_intf->req_prod;
		uint32_t space = RING - (prod - cons);
		if (space == 0 || space > RING) {
			evtchn_wait(xs_port);
			continue;
		}
		uint32_t off = MASK_XENSTORE_IDX(prod), n = min3(len, space, RING - off);
		memcpy(xs_intf->req + off, p, n);
		__atomic_store_n(&xs_intf->req_prod, prod + n, __ATOMIC_RELEASE);
		evtchn_send(xs_port);
		p += n;
		len -= n;
	}
	return 0;
}

static int ring_read(uint8_t *p, uint32_t len)
{
	while (len) {
		evtchn_clear(xs_port);
		if (broken())
			return -XEN_EIO;
		uint32_t prod = __atomic_load_n(&xs_intf->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t cons = xs_intf->rsp_cons;
		uint32_t avail = prod - cons;
		if (avail > RING)
			return -XEN_EIO;
		if (avail == 0) {
			evtchn_wait(xs_port);
			continue;
		}
		uint32_t off = MASK_XENSTORE_IDX(cons), n = min3(len, avail, RING - off);
		memcpy(p, xs_intf->rsp + off, n);
		__atomic_store_n(&xs_intf->rsp_cons, cons + n, __ATOMIC_SEQ_CST);
		p += n;
		len -= n;
		/* As Linux: if the ring was full, the server may be waiting for room. */
		if (__atomic_load_n(&xs_intf->rsp_prod, __ATOMIC_SEQ_CST) - cons >= RING)
			evtchn_send(xs_port);
	}
	return 0;
}

static void queue_event(void)
{
	const char *path = xs_reply;
	size_t plen = strnlen(path, xs_reply_len);
	const char *token = plen < xs_reply_len ? path + plen + 1 : "";
	if (ev_count == MAX_EVENTS || plen >= sizeof(events[0].path) ||
	    strlen(token) >= sizeof(events[0].token)) {
		xprintf("xenstore: watch event dropped (queue full or too long)\n");
		return;
	}
	unsigned int i = (ev_head + ev_count++) % MAX_EVENTS;
	memcpy(events[i].path, path, plen + 1);
	memcpy(events[i].token, token, strlen(token) + 1);
}

int xs_recv(struct xsd_sockmsg *h)
{
	int rc = ring_read((uint8_t *)h, HDR);
	if (rc)
		return rc;
	if (h->len > XENSTORE_PAYLOAD_MAX)
		return -XEN_EIO;
	rc = ring_read((uint8_t *)xs_reply, h->len);
	xs_reply[h->len] = 0;
	xs_reply_len = h->len;
	return rc;
}

int xs_send_raw(const void *bytes, uint32_t len) { return ring_write(bytes, len); }

static int error_number(const char *s)
{
	for (unsigned int i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (!strcmp(s, xsd_errors[i].errstring))
			return xsd_errors[i].errnum;
	return XEN_EIO;	/* EQUOTA and anything else */
}

static void put(const char *s, bool nul)
{
	size_t n = strlen(s) + (nul ? 1 : 0);
	if (out_len + n > XENSTORE_PAYLOAD_MAX)
		n = XENSTORE_PAYLOAD_MAX - out_len;
	memcpy(out + HDR + out_len, s, n);
	out_len += (uint32_t)n;
}

static int talk(uint32_t type, uint32_t tx)
{
	struct xsd_sockmsg *h = (struct xsd_sockmsg *)out;
	*h = (struct xsd_sockmsg){.type = type, .req_id = ++req_id, .tx_id = tx, .len = out_len};
	const uint32_t id = h->req_id;
	int rc = ring_write(out, HDR + out_len);
	out_len = 0;
	xs_error[0] = 0;
	if (rc)
		return rc;
	struct xsd_sockmsg r;
	for (;;) {
		if ((rc = xs_recv(&r)))
			return rc;
		if (r.type != XS_WATCH_EVENT)
			break;
		queue_event();
	}
	if (r.type == XS_ERROR) {
		size_t n = strnlen(xs_reply, sizeof(xs_error) - 1);
		memcpy(xs_error, xs_reply, n);
		xs_error[n] = 0;
		return -error_number(xs_error);
	}
	if (r.type != type || r.req_id != id) {
		xprintf("xenstore: reply type %u id %u to request type %u id %u\n", r.type, r.req_id,
			type, id);
		return -XEN_EIO;
	}
	return 0;
}

static int path_request(uint32_t type, uint32_t tx, const char *path)
{
	put(path, true);
	return talk(type, tx);
}

int xs_read(uint32_t tx, const char *path) { return path_request(XS_READ, tx, path); }
int xs_mkdir(uint32_t tx, const char *path) { return path_request(XS_MKDIR, tx, path); }
int xs_rm(uint32_t tx, const char *path) { return path_request(XS_RM, tx, path); }
int xs_directory(uint32_t tx, const char *path) { return path_request(XS_DIRECTORY, tx, path); }
int xs_get_perms(uint32_t tx, const char *path) { return path_request(XS_GET_PERMS, tx, path); }

int xs_write(uint32_t tx, const char *path, const char *value)
{
	put(path, true);
	put(value, false);
	return talk(XS_WRITE, tx);
}

int xs_set_perms(uint32_t tx, const char *path, const char *perms)
{
	put(path, true);
	char one[16];
	while (*perms) {
		size_t n = 0;
		while (perms[n] && perms[n] != ',' && n + 1 < sizeof(one))
			n++;
		memcpy(one, perms, n);
		one[n] = 0;
		put(one, true);
		perms += n;
		if (*perms == ',')
			perms++;
	}
	return talk(XS_SET_PERMS, tx);
}

int xs_get_domain_path(unsigned int domid)
{
	char num[12];
	u32_to_str(num, domid);
	put(num, true);
	return talk(XS_GET_DOMAIN_PATH, 0);
}

int xs_watch(const char *path, const char *token)
{
	put(path, true);
	put(token, true);
	return talk(XS_WATCH, 0);
}

int xs_unwatch(const char *path, const char *token)
{
	put(path, true);
	put(token, true);
	return talk(XS_UNWATCH, 0);
}

int xs_transaction_start(uint32_t *tx)
{
	put("", true);
	int rc = talk(XS_TRANSACTION_START, 0);
	*tx = 0;
	if (!rc && !str_to_u32(xs_reply, tx))
		rc = -XEN_EIO;
	return rc;
}

int xs_transaction_end(uint32_t tx, bool commit)
{
	put(commit ? "T" : "F", true);
	return talk(XS_TRANSACTION_END, tx);
}

bool xs_event_queued(void) { return ev_count != 0; }
void xs_discard_events(void) { ev_count = 0; }

static bool message_waiting(void *unused)
{
	(void)unused;
	return broken() || __atomic_load_n(&xs_intf->rsp_prod, __ATOMIC_ACQUIRE) != xs_intf->rsp_cons;
}

int xs_wait_event(const char **path, const char **token) { return xs_wait_event_for(path, token, 0); }

int xs_wait_event_for(const char **path, const char **token, uint64_t timeout)
{
	while (!ev_count) {
		if (timeout && !evtchn_wait_until(xs_port, message_waiting, 0, timeout))
			return -XEN_ETIMEDOUT;
		struct xsd_sockmsg r;
		int rc = xs_recv(&r);
		if (rc)
			return rc;
		if (r.type == XS_WATCH_EVENT)
			queue_event();
		else
			xprintf("xenstore: unexpected message type %u while waiting for a watch\n", r.type);
	}
	current_event = events[ev_head];
	ev_head = (ev_head + 1) % MAX_EVENTS;
	ev_count--;
	*path = current_event.path;
	*token = current_event.token;
	return 0;
}

bool xs_reply_has(const char *item)
{
	for (uint32_t off = 0; off < xs_reply_len; off += (uint32_t)strlen(xs_reply + off) + 1)
		if (!strcmp(xs_reply + off, item))
			return true;
	return false;
}

unsigned int xs_reply_count(void)
{
	unsigned int n = 0;
	for (uint32_t off = 0; off < xs_reply_len; off += (uint32_t)strlen(xs_reply + off) + 1)
		n++;
	return n;
}

bool xs_expect_ok(const char *check, int rc)
{
	if (rc == 0) {
		report_pass(check);
		return true;
	}
	report_fail(check, "rc %d (%s)", rc, xs_error[0] ? xs_error : "no XS_ERROR");
	return false;
}

bool xs_expect_value(const char *check, int rc, const char *value)
{
	if (rc == 0 && !strcmp(xs_reply, value)) {
		report_pass(check);
		return true;
	}
	report_fail(check, "rc %d (%s), value \"%s\", expected \"%s\"", rc, xs_error,
		    rc ? "" : xs_reply, value);
	return false;
}

bool xs_expect_err(const char *check, int rc, const char *err)
{
	if (rc < 0 && !strcmp(xs_error, err)) {
		report_pass(check);
		return true;
	}
	report_fail(check, "rc %d, error \"%s\", expected %s", rc, xs_error, err);
	return false;
}
