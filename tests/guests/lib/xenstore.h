/* A xenstore client for test guests: one request at a time over the ring page, waiting on the
 * store event channel. Needs events_init() first. */
#ifndef GUEST_XENSTORE_H
#define GUEST_XENSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/io/xs_wire.h>

extern struct xenstore_domain_interface *xs_intf;	/* HVM_PARAM_STORE_PFN, identity-mapped */
extern evtchn_port_t xs_port;				/* HVM_PARAM_STORE_EVTCHN */

/* The last reply's payload (NUL-terminated for convenience), its length, and for XS_ERROR the
 * error string ("ENOENT"); xs_error is "" after a success. */
extern char xs_reply[XENSTORE_PAYLOAD_MAX + 1];
extern uint32_t xs_reply_len;
extern char xs_error[16];

/* Reads the params; reports a FAIL line and returns false when they are missing. */
bool xs_init(void);

/* Each returns 0, or a negative Xen errno: the one named by an XS_ERROR reply (xs_error holds
 * its string), or -XEN_EIO when the connection is gone (the page's error field is set) or the
 * server answered out of turn. Watch events that arrive meanwhile are queued. */
int xs_read(uint32_t tx, const char *path);
int xs_write(uint32_t tx, const char *path, const char *value);
int xs_mkdir(uint32_t tx, const char *path);
int xs_rm(uint32_t tx, const char *path);
int xs_directory(uint32_t tx, const char *path);
int xs_get_perms(uint32_t tx, const char *path);
int xs_set_perms(uint32_t tx, const char *path, const char *perms);	/* "r5,n0": one per comma */
int xs_get_domain_path(unsigned int domid);
int xs_watch(const char *path, const char *token);
int xs_unwatch(const char *path, const char *token);
int xs_transaction_start(uint32_t *tx);
int xs_transaction_end(uint32_t tx, bool commit);

/* Waits for the next watch event (a queued one first). path/token point into a buffer that
 * the next call reuses. */
int xs_wait_event(const char **path, const char **token);
/* The same, giving up with -XEN_ETIMEDOUT after `timeout` ticks without a message (needs
 * ticks_init); 0 waits for ever, like xs_wait_event. */
int xs_wait_event_for(const char **path, const char **token, uint64_t timeout);
/* Whether an event is queued (arrived before the last reply). */
bool xs_event_queued(void);
/* Drops the queued events. */
void xs_discard_events(void);

/* Whether xs_reply, read as a NUL-separated list (DIRECTORY, GET_PERMS), holds `item`; and
 * how many items it holds. */
bool xs_reply_has(const char *item);
unsigned int xs_reply_count(void);

/* For hostile tests: raw bytes into the request ring (then a kick), and the next message
 * (reply or event) with its header; the payload lands in xs_reply. */
int xs_send_raw(const void *bytes, uint32_t len);
int xs_recv(struct xsd_sockmsg *hdr);

/* Report helpers: PASS when the call succeeded (and, for _value, xs_reply equals `value`);
 * when it failed with exactly the error string `err`. */
bool xs_expect_ok(const char *check, int rc);
bool xs_expect_value(const char *check, int rc, const char *value);
bool xs_expect_err(const char *check, int rc, const char *err);

#endif
