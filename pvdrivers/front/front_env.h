/* What the freestanding front-ends need from the environment they run in (a test guest's runtime
 * implements it: tests/guests/lib/front_env.c). Errors are negative Xen errno values. */
#ifndef PVFRONT_FRONT_ENV_H
#define PVFRONT_FRONT_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/event_channel.h>

#define FRONT_PAGE_SIZE 4096u

/* Memory. Pages for rings and buffers: zeroed, page-aligned, physically contiguous, never
 * freed; NULL when the environment has no more. */
void *front_alloc_pages(unsigned int n);
/* The guest frame number behind a virtual address the environment handed out or that lies in
 * the guest's image. */
xen_pfn_t front_virt_to_gfn(const void *p);
/* HYPERVISOR_memory_op (XENMEM_add_to_physmap for grant frames). */
long front_memory_op(unsigned int cmd, void *arg);

/* Event channels. */
int front_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
int front_evtchn_send(evtchn_port_t port);
int front_evtchn_close(evtchn_port_t port);
/* Milliseconds since some fixed point, for deadlines (a coarse clock is fine). */
uint64_t front_now_ms(void);
/* Blocks until cond(arg) holds (true) or `timeout_ms` pass (false). cond is re-checked after
 * every event on `port` (cleared before each check, so one that arrives after a check ends the
 * wait) and after any other wake-up. */
bool front_wait(evtchn_port_t port, bool (*cond)(void *), void *arg, uint32_t timeout_ms);

/* xenstore: relative paths are below the guest's /local/domain/<domid>; tx 0 is none. */
int front_xs_read(uint32_t tx, const char *path, char *value, size_t size);
int front_xs_write(uint32_t tx, const char *path, const char *value);
/* The entries below `path`, NUL-separated, `*len` bytes in all. */
int front_xs_directory(const char *path, char *list, size_t size, uint32_t *len);
int front_xs_watch(const char *path, const char *token);
int front_xs_unwatch(const char *path, const char *token);
/* The path of the next watch event (of any watch), or -XEN_ETIMEDOUT. */
int front_xs_wait_event(char *path, size_t size, uint32_t timeout_ms);
/* Forgets the watch events received so far (a waiter that reads the state next needs none of
 * them; without this they pile up, one per state change it did not wait for). */
void front_xs_discard_events(void);
int front_xs_transaction_start(uint32_t *tx);
/* -XEN_EAGAIN when a commit lost a race: start again. */
int front_xs_transaction_end(uint32_t tx, bool commit);

/* Informational lines (the guest's console). */
void front_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The C library subset the front-ends use (the compiler may emit calls to mem* too); a
 * freestanding environment defines them, a hosted one (unit tests) has them. */
#if __STDC_HOSTED__
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#endif

#endif
