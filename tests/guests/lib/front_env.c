/* The test guests' side of pvdrivers/front/front_env.h: pages from a pool in .bss, events,
 * xenstore and the console of this runtime; and front_init for guests that use the drivers. */
#include <stdarg.h>

#include "front.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "start_info.h"
#include "string.h"
#include "xenstore.h"

/* 96 pages: a netfront's rings and buffers (50), or a few blkfronts (12 each). The loader
 * zero-fills .bss, so the pool costs no guest instructions. */
#define POOL_PAGES 96
static uint8_t pool[POOL_PAGES][FRONT_PAGE_SIZE] __attribute__((aligned(FRONT_PAGE_SIZE)));
static unsigned int pool_used;

void *front_alloc_pages(unsigned int n)
{
	if (n > POOL_PAGES - pool_used)
		return 0;
	void *p = pool[pool_used];
	pool_used += n;
	return p;
}

xen_pfn_t front_virt_to_gfn(const void *p) { return (uintptr_t)p >> 12; }	/* identity-mapped */

long front_memory_op(unsigned int cmd, void *arg) { return HYPERVISOR_memory_op(cmd, arg); }

int front_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
	return (int)evtchn_alloc_unbound(remote, port);
}

int front_evtchn_send(evtchn_port_t port) { return (int)evtchn_send(port); }

int front_evtchn_close(evtchn_port_t port)
{
	evtchn_close_t op = {.port = port};
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
}

uint64_t front_now_ms(void) { return pvclock_now(0) / 1000000; }

static uint64_t ms_to_ticks(uint32_t ms) { return (ms + TICK_MS - 1) / TICK_MS; }

bool front_wait(evtchn_port_t port, bool (*cond)(void *), void *arg, uint32_t timeout_ms)
{
	return evtchn_wait_until(port, cond, arg, ms_to_ticks(timeout_ms));
}

/* xs_reply (xs_reply_len bytes, NUL-terminated) into out. */
static int copy_reply(char *out, size_t size)
{
	if (xs_reply_len >= size)
		return -XEN_E2BIG;
	memcpy(out, xs_reply, xs_reply_len + 1);
	return 0;
}

int front_xs_read(uint32_t tx, const char *path, char *value, size_t size)
{
	int rc = xs_read(tx, path);
	return rc ? rc : copy_reply(value, size);
}

int front_xs_write(uint32_t tx, const char *path, const char *value)
{
	return xs_write(tx, path, value);
}

int front_xs_directory(const char *path, char *list, size_t size, uint32_t *len)
{
	int rc = xs_directory(0, path);
	if (!rc && !(rc = copy_reply(list, size)))
		*len = xs_reply_len;
	return rc;
}

int front_xs_watch(const char *path, const char *token) { return xs_watch(path, token); }
int front_xs_unwatch(const char *path, const char *token) { return xs_unwatch(path, token); }

int front_xs_wait_event(char *path, size_t size, uint32_t timeout_ms)
{
	const char *p, *token;
	int rc = xs_wait_event_for(&p, &token, ms_to_ticks(timeout_ms) ? ms_to_ticks(timeout_ms) : 1);
	if (rc)
		return rc;
	size_t n = strnlen(p, size - 1);
	memcpy(path, p, n);
	path[n] = '\0';
	return 0;
}

void front_xs_discard_events(void) { xs_discard_events(); }

int front_xs_transaction_start(uint32_t *tx) { return xs_transaction_start(tx); }
int front_xs_transaction_end(uint32_t tx, bool commit) { return xs_transaction_end(tx, commit); }

void front_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vxprintf(fmt, ap);
	va_end(ap);
}

bool front_init(unsigned int grant_frames)
{
	if (!events_init() || !xs_init())
		return false;
	ticks_init();
	uint64_t hole = start_info_hole((uint64_t)grant_frames * FRONT_PAGE_SIZE);
	int rc = hole ? gnt_init(hole, grant_frames) : -XEN_ENOMEM;
	if (rc) {
		report_fail("front_init", "grant table at %lx: %d", (unsigned long)hole, rc);
		return false;
	}
	return true;
}
