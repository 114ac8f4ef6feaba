/* xenbus for front-ends: finding the device, reading and writing its keys, and the state
 * handshake with the back-end through a watch on the back-end's `state` node. */
#include "xenbus_front.h"

#include "decimal.h"

/* out = a + "/" + b; false (out unusable) when it does not fit. */
static bool join(char *out, size_t size, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la + 1 + lb + 1 > size)
		return false;
	memcpy(out, a, la);
	out[la] = '/';
	memcpy(out + la + 1, b, lb + 1);
	return true;
}

int xbf_find(struct xenbus_front *out, const char *type, unsigned int devid)
{
	char dir[32], list[256], num[24];
	if (!join(dir, sizeof(dir), "device", type))
		return -XEN_EINVAL;
	if (devid == XBF_FIRST_DEVICE) {
		uint32_t len;
		int rc = front_xs_directory(dir, list, sizeof(list), &len);
		if (rc)
			return rc;
		uint64_t id;
		if (!len || !front_atou(list, 0xffffffffu, &id))
			return -XEN_ENOENT;
		devid = (unsigned int)id;
	}
	/* Filled in a copy: *out changes only when the device is found. */
	struct xenbus_front x = {.devid = devid};
	front_utoa(num, devid);
	if (!join(x.node, sizeof(x.node), dir, num))
		return -XEN_EINVAL;
	int rc = xbf_read(&x, false, "backend", x.backend, sizeof(x.backend));
	if (rc)
		return rc;
	uint64_t id = xbf_read_uint(&x, false, "backend-id", ~0ull);
	if (id >= DOMID_FIRST_RESERVED)
		return -XEN_ENOENT;
	x.backend_id = (domid_t)id;
	if (!join(x.backend_state, sizeof(x.backend_state), x.backend, "state"))
		return -XEN_EINVAL;
	*out = x;
	return 0;
}

int xbf_read(const struct xenbus_front *x, bool backend, const char *key, char *value, size_t size)
{
	char path[160];
	if (!join(path, sizeof(path), backend ? x->backend : x->node, key))
		return -XEN_EINVAL;
	return front_xs_read(0, path, value, size);
}

uint64_t xbf_read_uint(const struct xenbus_front *x, bool backend, const char *key, uint64_t dflt)
{
	char value[24];
	uint64_t v;
	if (xbf_read(x, backend, key, value, sizeof(value)) || !front_atou(value, UINT64_MAX, &v))
		return dflt;
	return v;
}

int xbf_write(const struct xenbus_front *x, uint32_t tx, const char *key, const char *value)
{
	char path[160];
	if (!join(path, sizeof(path), x->node, key))
		return -XEN_EINVAL;
	return front_xs_write(tx, path, value);
}

int xbf_write_uint(const struct xenbus_front *x, uint32_t tx, const char *key, uint64_t value)
{
	char num[24];
	front_utoa(num, value);
	return xbf_write(x, tx, key, num);
}

int xbf_switch_state(struct xenbus_front *x, enum xenbus_state s)
{
	return xbf_write_uint(x, 0, "state", s);
}

enum xenbus_state xbf_backend_state(const struct xenbus_front *x)
{
	char value[24];
	uint64_t v;
	if (front_xs_read(0, x->backend_state, value, sizeof(value)) ||
	    !front_atou(value, XenbusStateReconfigured, &v))
		return XenbusStateUnknown;
	return (enum xenbus_state)v;
}

int xbf_wait_backend(struct xenbus_front *x, unsigned int want, uint32_t timeout_ms)
{
	if (!x->watching) {
		/* The token is our node: unique per device, and events of other devices' watches
		 * only cause one more read of our state. */
		int rc = front_xs_watch(x->backend_state, x->node);
		if (rc)
			return rc;
		x->watching = true;
	}
	uint64_t deadline = front_now_ms() + timeout_ms;
	front_xs_discard_events();	/* older than the read below */
	for (;;) {
		enum xenbus_state s = xbf_backend_state(x);
		if (want & XBF_STATE(s))
			return s;
		uint64_t now = front_now_ms();
		if (now >= deadline)
			return -XEN_ETIMEDOUT;
		char path[160];
		int rc = front_xs_wait_event(path, sizeof(path), (uint32_t)(deadline - now));
		if (rc && rc != -XEN_ETIMEDOUT)
			return rc;
	}
}

static void log_backend_error(const struct xenbus_front *x, int state)
{
	char error[128];
	if (xbf_read(x, true, "error", error, sizeof(error)))
		error[0] = '\0';
	front_log("%s: back-end %s went to state %d instead (error: \"%s\")\n", x->node, x->backend,
		  state, error);
}

int xbf_connect(struct xenbus_front *x, int (*publish)(void *arg, uint32_t tx), void *arg)
{
	const unsigned int gone = XBF_STATE(XenbusStateClosing) | XBF_STATE(XenbusStateClosed);
	int s = xbf_wait_backend(x, XBF_STATE(XenbusStateInitWait) | gone, XBF_TIMEOUT_MS);
	if (s < 0)
		return s;
	if (s != XenbusStateInitWait) {
		log_backend_error(x, s);
		return -XEN_EIO;
	}
	int rc;
	do {
		uint32_t tx;
		if ((rc = front_xs_transaction_start(&tx)))
			return rc;
		if ((rc = publish(arg, tx))) {
			front_xs_transaction_end(tx, false);
			return rc;
		}
		rc = front_xs_transaction_end(tx, true);
	} while (rc == -XEN_EAGAIN);
	if (rc || (rc = xbf_switch_state(x, XenbusStateInitialised)))
		return rc;
	s = xbf_wait_backend(x, XBF_STATE(XenbusStateConnected) | gone, XBF_TIMEOUT_MS);
	if (s < 0)
		return s;
	if (s != XenbusStateConnected) {
		log_backend_error(x, s);
		return -XEN_EIO;
	}
	return xbf_switch_state(x, XenbusStateConnected);
}

int xbf_close(struct xenbus_front *x)
{
	const unsigned int closed = XBF_STATE(XenbusStateClosed) | XBF_STATE(XenbusStateUnknown);
	int rc = 0, s = xbf_backend_state(x);
	if (!(closed & XBF_STATE(s))) {
		xbf_switch_state(x, XenbusStateClosing);
		s = xbf_wait_backend(x, closed | XBF_STATE(XenbusStateClosing), XBF_TIMEOUT_MS);
	}
	if (s >= 0 && !(closed & XBF_STATE(s))) {
		xbf_switch_state(x, XenbusStateClosed);
		s = xbf_wait_backend(x, closed, XBF_TIMEOUT_MS);
	} else {
		xbf_switch_state(x, XenbusStateClosed);
	}
	if (s < 0)
		rc = s;
	if (x->watching)
		front_xs_unwatch(x->backend_state, x->node);
	x->watching = false;
	return rc;
}
