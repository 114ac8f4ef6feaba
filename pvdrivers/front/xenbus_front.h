/* The front-end half of a xenbus device: its xenstore directories and the state handshake. */
#ifndef PVFRONT_XENBUS_FRONT_H
#define PVFRONT_XENBUS_FRONT_H

#include "front_env.h"
#include <xen/io/xenbus.h>

/* xbf_find's devid for "the first device of this type". */
#define XBF_FIRST_DEVICE 0xffffffffu
/* How long a front-end waits for each move of its back-end. */
#define XBF_TIMEOUT_MS 20000u

struct xenbus_front {
	char node[48];		/* "device/vbd/51712", relative to the guest's domain path */
	char backend[112];	/* the back-end's directory, as `backend` says */
	char backend_state[120];	/* backend + "/state": the node we watch */
	domid_t backend_id;
	unsigned int devid;
	bool watching;
};

/* Finds device/<type>/<devid> (or the first one) and reads its `backend` and `backend-id`;
 * -XEN_ENOENT when there is no such device. Does not watch yet. */
int xbf_find(struct xenbus_front *x, const char *type, unsigned int devid);

/* Reads `key` in the front-end's (backend = false) or back-end's directory. */
int xbf_read(const struct xenbus_front *x, bool backend, const char *key, char *value, size_t size);
/* The key as an unsigned decimal number; `dflt` when it is absent or not a number. */
uint64_t xbf_read_uint(const struct xenbus_front *x, bool backend, const char *key, uint64_t dflt);
/* Writes `key` in the front-end's directory, within transaction tx (0: none). */
int xbf_write(const struct xenbus_front *x, uint32_t tx, const char *key, const char *value);
int xbf_write_uint(const struct xenbus_front *x, uint32_t tx, const char *key, uint64_t value);

int xbf_switch_state(struct xenbus_front *x, enum xenbus_state s);
/* The back-end's state now (XenbusStateUnknown when its node is missing or unreadable). */
enum xenbus_state xbf_backend_state(const struct xenbus_front *x);
/* Watches the back-end's state until it is one of `want` (a mask of 1 << XenbusState*):
 * returns that state, or -XEN_ETIMEDOUT. */
int xbf_wait_backend(struct xenbus_front *x, unsigned int want, uint32_t timeout_ms);
#define XBF_STATE(s) (1u << (s))

/* The connection handshake. Waits for the back-end's InitWait; runs publish() in a
 * transaction (again if the commit races) to write ring-ref(s), event-channel, protocol...;
 * switches to Initialised; waits for the back-end's Connected; switches to Connected. A
 * back-end that goes to Closing/Closed instead ends it with -XEN_EIO (its `error` key is
 * logged). */
int xbf_connect(struct xenbus_front *x, int (*publish)(void *arg, uint32_t tx), void *arg);

/* The orderly close (Linux's xennet_bus_close): Closing, wait for the back-end's
 * Closing/Closed, Closed, wait for its Closed; then stops watching. After it the back-end has
 * let go of the rings, so their grants can end. -XEN_ETIMEDOUT if the back-end did not follow. */
int xbf_close(struct xenbus_front *x);

#endif
