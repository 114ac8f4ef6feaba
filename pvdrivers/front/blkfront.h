/* blkfront for test guests: one blkif ring (multi-page if the back-end offers it), reads and
 * writes of sector ranges (direct or indirect requests), flush, discard, and raw requests. */
#ifndef PVFRONT_BLKFRONT_H
#define PVFRONT_BLKFRONT_H

#include "front_ring.h"
#include "xenbus_front.h"
#include <xen/io/blkif.h>

#define BLKFRONT_SECTOR 512u	/* blkif's unit for sector numbers and first/last_sect */
#define BLKFRONT_MAX_RING_ORDER 2
/* Requests in flight at once: a small fixed number keeps the per-request bookkeeping (and one
 * indirect page each) in the structure. */
#define BLKFRONT_INFLIGHT 8
/* Segments per indirect request we use at most (one indirect page holds 512). */
#define BLKFRONT_MAX_INDIRECT_SEGS 32

struct blkfront_shadow {
	bool in_use;
	uint8_t nr_grants;
	grant_ref_t grants[BLKFRONT_MAX_INDIRECT_SEGS + 1];	/* data pages, then the indirect page */
};

struct blkfront {
	struct xenbus_front xb;
	blkif_front_ring_t ring;
	unsigned int ring_order;
	grant_ref_t ring_refs[1u << BLKFRONT_MAX_RING_ORDER];
	evtchn_port_t port;
	/* What the back-end said when it connected. */
	uint64_t sectors;		/* disk size in 512-byte sectors */
	uint32_t sector_size;		/* logical sector size */
	uint32_t info;			/* VDISK_* */
	bool feature_flush, feature_barrier, feature_discard;
	uint32_t max_indirect;		/* segments per indirect request we use; 0: none */
	uint32_t discard_granularity, discard_alignment;
	/* Requests in flight, indexed by request id. */
	struct blkfront_shadow shadow[BLKFRONT_INFLIGHT];
	struct blkif_request_segment *indirect[BLKFRONT_INFLIGHT];
	unsigned int inflight;
	/* Counters: requests sent (and how many indirect), kicks, grants the back-end still held
	 * when their response came (left granted, as Linux does). */
	uint64_t requests, indirect_requests, kicks, leaked_grants;
};

/* Connects to device/vbd/<devid> (XBF_FIRST_DEVICE: the first): ring of 2^ring_order pages
 * (at most what the back-end's max-ring-page-order allows), event channel, protocol, the
 * handshake, then the disk's geometry and features. */
int blkfront_open(struct blkfront *bf, unsigned int devid, unsigned int ring_order);

/* Reads or writes (BLKIF_OP_READ/WRITE) `len` bytes at `sector` from/to `buf`; buf and len
 * must be multiples of 512 bytes. Split into requests of up to 11 segments, or indirect ones
 * when the back-end offers them and more are needed; up to BLKFRONT_INFLIGHT in flight.
 * Returns 0 once every request was answered, *status being BLKIF_RSP_OKAY or the first other
 * status; a negative Xen errno for a local failure (bad arguments, the back-end not answering
 * within the timeout). */
int blkfront_rw(struct blkfront *bf, uint8_t op, uint64_t sector, void *buf, size_t len,
		int16_t *status);
/* The same but never indirect: every request carries at most `max_segs` (<= 11) segments. */
int blkfront_rw_direct(struct blkfront *bf, uint8_t op, uint64_t sector, void *buf, size_t len,
		       unsigned int max_segs, int16_t *status);
/* The same with requests of `segs` segments (the last one may have fewer): direct ones when
 * segs <= 11, else indirect ones (-XEN_EINVAL when the back-end's limit, max_indirect, is
 * lower), a rest of 11 pages or fewer going direct as in blkfront_rw. For benchmarks that
 * need a fixed request size, e.g. 64 KiB as one indirect request of 16 segments. */
int blkfront_rw_segments(struct blkfront *bf, uint8_t op, uint64_t sector, void *buf, size_t len,
			 unsigned int segs, int16_t *status);
/* BLKIF_OP_FLUSH_DISKCACHE without data; answered once written data is durable. */
int blkfront_flush(struct blkfront *bf, int16_t *status);
int blkfront_discard(struct blkfront *bf, uint64_t sector, uint64_t nr_sectors, int16_t *status);

/* For hostile tests: puts a request (any bytes, sizeof(blkif_request_t)) in the next ring
 * slot, publishes it and kicks; then the next response, or -XEN_ETIMEDOUT. Not to be mixed
 * with requests of the calls above still in flight. */
void blkfront_push_raw(struct blkfront *bf, const void *req);
int blkfront_wait_raw(struct blkfront *bf, blkif_response_t *rsp, uint32_t timeout_ms);

/* Closes the device (xbf_close), then ends the ring grants and closes the port. */
int blkfront_close(struct blkfront *bf);

#endif
