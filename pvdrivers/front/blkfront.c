/* blkfront: the blkif ring, requests built from buffers (direct and indirect), responses. */
#include "blkfront.h"

#include <xen/io/protocols.h>

#include "decimal.h"
#include "grant.h"

#define TIMEOUT_MS 20000u

static unsigned int min_u(unsigned int a, unsigned int b) { return a < b ? a : b; }

/* The ring pages, granted to the back-end, and an unbound port for it. */
static int setup_ring(struct blkfront *bf, unsigned int order)
{
	unsigned int pages = 1u << order;
	blkif_sring_t *sring = front_alloc_pages(pages);
	if (!sring)
		return -XEN_ENOMEM;
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&bf->ring, sring, FRONT_PAGE_SIZE << order);
	bf->ring_order = order;
	for (unsigned int i = 0; i < pages; i++) {
		int rc = gnt_grant(bf->xb.backend_id, front_virt_to_gfn(sring) + i, false,
				   &bf->ring_refs[i]);
		if (rc)
			return rc;
	}
	return front_evtchn_alloc_unbound(bf->xb.backend_id, &bf->port);
}

static int publish(void *arg, uint32_t tx)
{
	struct blkfront *bf = arg;
	const struct xenbus_front *x = &bf->xb;
	int rc = 0;
	if (bf->ring_order == 0) {
		rc = xbf_write_uint(x, tx, "ring-ref", bf->ring_refs[0]);
	} else {
		rc = xbf_write_uint(x, tx, "ring-page-order", bf->ring_order);
		for (unsigned int i = 0; !rc && i < (1u << bf->ring_order); i++) {
			char key[16] = "ring-ref";
			front_utoa(key + 8, i);
			rc = xbf_write_uint(x, tx, key, bf->ring_refs[i]);
		}
	}
	if (!rc)
		rc = xbf_write_uint(x, tx, "event-channel", bf->port);
	if (!rc)
		rc = xbf_write(x, tx, "protocol", XEN_IO_PROTO_ABI_NATIVE);
	return rc;
}

/* What the back-end publishes by the time it is Connected. */
static int read_disk(struct blkfront *bf)
{
	const struct xenbus_front *x = &bf->xb;
	bf->sectors = xbf_read_uint(x, true, "sectors", 0);
	bf->sector_size = (uint32_t)xbf_read_uint(x, true, "sector-size", BLKFRONT_SECTOR);
	bf->info = (uint32_t)xbf_read_uint(x, true, "info", 0);
	bf->feature_flush = xbf_read_uint(x, true, "feature-flush-cache", 0) != 0;
	bf->feature_barrier = xbf_read_uint(x, true, "feature-barrier", 0) != 0;
	bf->feature_discard = xbf_read_uint(x, true, "feature-discard", 0) != 0;
	bf->discard_granularity = (uint32_t)xbf_read_uint(x, true, "discard-granularity", 0);
	bf->discard_alignment = (uint32_t)xbf_read_uint(x, true, "discard-alignment", 0);
	uint64_t indirect = xbf_read_uint(x, true, "feature-max-indirect-segments", 0);
	bf->max_indirect = indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST
				   ? min_u((unsigned int)min_u(indirect, 0xffff), BLKFRONT_MAX_INDIRECT_SEGS)
				   : 0;
	for (unsigned int i = 0; bf->max_indirect && i < BLKFRONT_INFLIGHT; i++)
		if (!(bf->indirect[i] = front_alloc_pages(1)))
			return -XEN_ENOMEM;
	if (!bf->sectors || bf->sector_size < BLKFRONT_SECTOR || bf->sector_size % BLKFRONT_SECTOR) {
		front_log("blkfront %s: unusable disk: sectors %lu sector-size %u\n", x->node,
			  (unsigned long)bf->sectors, bf->sector_size);
		return -XEN_EIO;
	}
	return 0;
}

int blkfront_open(struct blkfront *bf, unsigned int devid, unsigned int ring_order)
{
	memset(bf, 0, sizeof(*bf));
	int rc = xbf_find(&bf->xb, "vbd", devid);
	if (rc)
		return rc;
	/* max-ring-page-order is there once the back-end is in InitWait. */
	int s = xbf_wait_backend(&bf->xb, XBF_STATE(XenbusStateInitWait), TIMEOUT_MS);
	if (s < 0)
		return s;
	unsigned int max_order = (unsigned int)min_u(
		xbf_read_uint(&bf->xb, true, "max-ring-page-order", 0), BLKFRONT_MAX_RING_ORDER);
	if ((rc = setup_ring(bf, min_u(ring_order, max_order))))
		return rc;
	if ((rc = xbf_connect(&bf->xb, publish, bf)))
		return rc;
	return read_disk(bf);
}

static void kick(struct blkfront *bf)
{
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&bf->ring, notify);
	if (notify) {
		front_evtchn_send(bf->port);
		bf->kicks++;
	}
}

/* Also asks for an event when the next response comes (rsp_event). */
static bool has_responses(void *arg)
{
	struct blkfront *bf = arg;
	int more;
	RING_FINAL_CHECK_FOR_RESPONSES(&bf->ring, more);
	return more;
}

static void end_grants(struct blkfront *bf, struct blkfront_shadow *sh)
{
	for (unsigned int i = 0; i < sh->nr_grants; i++)
		if (gnt_end(sh->grants[i])) {
			front_log("blkfront %s: grant %u still held by the back-end after its "
				  "response\n", bf->xb.node, sh->grants[i]);
			bf->leaked_grants++;
		}
	sh->nr_grants = 0;
}

/* Waits for responses and retires them; *status keeps the first one that is not OKAY. */
static int reap(struct blkfront *bf, int16_t *status)
{
	if (!front_wait(bf->port, has_responses, bf, TIMEOUT_MS)) {
		front_log("blkfront %s: no response within %u ms\n", bf->xb.node, TIMEOUT_MS);
		return -XEN_ETIMEDOUT;
	}
	RING_IDX rp = __atomic_load_n(&bf->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);
	if (rp - bf->ring.rsp_cons > RING_SIZE(&bf->ring)) {
		front_log("blkfront %s: back-end's rsp_prod %u is past our requests\n", bf->xb.node, rp);
		return -XEN_EIO;
	}
	for (; bf->ring.rsp_cons != rp; bf->ring.rsp_cons++) {
		blkif_response_t r;
		RING_COPY_RESPONSE(&bf->ring, bf->ring.rsp_cons, &r);
		if (r.id >= BLKFRONT_INFLIGHT || !bf->shadow[r.id].in_use) {
			front_log("blkfront %s: response for unknown id %lu\n", bf->xb.node,
				  (unsigned long)r.id);
			continue;
		}
		struct blkfront_shadow *sh = &bf->shadow[r.id];
		end_grants(bf, sh);
		sh->in_use = false;
		bf->inflight--;
		if (r.status != BLKIF_RSP_OKAY && *status == BLKIF_RSP_OKAY)
			*status = r.status;
	}
	return 0;
}

static unsigned int free_id(const struct blkfront *bf)
{
	unsigned int id = 0;
	while (bf->shadow[id].in_use)
		id++;
	return id;	/* the callers keep inflight below BLKFRONT_INFLIGHT */
}

static void queue(struct blkfront *bf, unsigned int id, const void *req)
{
	memcpy(RING_GET_REQUEST(&bf->ring, bf->ring.req_prod_pvt), req, sizeof(blkif_request_t));
	bf->ring.req_prod_pvt++;
	bf->shadow[id].in_use = true;
	bf->inflight++;
	bf->requests++;
}

static bool can_queue(const struct blkfront *bf)
{
	return bf->inflight < BLKFRONT_INFLIGHT && !RING_FULL(&bf->ring);
}

/* One read/write request for up to max_segs segments from *p (advancing *p, *left, *sector):
 * each touched page granted to the back-end (read-only for writes), direct or through the
 * request's indirect page. */
static int queue_rw(struct blkfront *bf, uint8_t op, uint64_t *sector, uint8_t **p, size_t *left,
		    unsigned int max_segs, bool indirect)
{
	unsigned int id = free_id(bf);
	struct blkfront_shadow *sh = &bf->shadow[id];
	blkif_request_t req = {0};
	struct blkif_request_segment *seg = indirect ? bf->indirect[id] : req.seg;
	uint64_t start = *sector;
	unsigned int n = 0;
	while (*left && n < max_segs) {
		unsigned int off = (uintptr_t)*p % FRONT_PAGE_SIZE;
		size_t chunk = FRONT_PAGE_SIZE - off < *left ? FRONT_PAGE_SIZE - off : *left;
		grant_ref_t ref;
		int rc = gnt_grant(bf->xb.backend_id, front_virt_to_gfn(*p), op == BLKIF_OP_WRITE, &ref);
		if (rc) {
			end_grants(bf, sh);
			return rc;
		}
		sh->grants[sh->nr_grants++] = ref;
		seg[n++] = (struct blkif_request_segment){
			.gref = ref,
			.first_sect = (uint8_t)(off / BLKFRONT_SECTOR),
			.last_sect = (uint8_t)((off + chunk) / BLKFRONT_SECTOR - 1),
		};
		*p += chunk;
		*left -= chunk;
		*sector += chunk / BLKFRONT_SECTOR;
	}
	if (indirect) {
		grant_ref_t ref;
		int rc = gnt_grant(bf->xb.backend_id, front_virt_to_gfn(seg), true, &ref);
		if (rc) {
			end_grants(bf, sh);
			return rc;
		}
		sh->grants[sh->nr_grants++] = ref;
		blkif_request_indirect_t *ir = (blkif_request_indirect_t *)&req;
		ir->operation = BLKIF_OP_INDIRECT;
		ir->indirect_op = op;
		ir->nr_segments = (uint16_t)n;
		ir->id = id;
		ir->sector_number = start;
		ir->handle = (blkif_vdev_t)bf->xb.devid;
		ir->indirect_grefs[0] = ref;
		bf->indirect_requests++;
	} else {
		req.operation = op;
		req.nr_segments = (uint8_t)n;
		req.handle = (blkif_vdev_t)bf->xb.devid;
		req.id = id;
		req.sector_number = start;
	}
	queue(bf, id, &req);
	return 0;
}

static unsigned int segments_for(const uint8_t *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;
	return (unsigned int)((a + len + FRONT_PAGE_SIZE - 1) / FRONT_PAGE_SIZE - a / FRONT_PAGE_SIZE);
}

/* Requests of up to max_direct segments, or indirect ones of up to max_indirect (0: never) for
 * the parts that need more than max_direct. */
static int do_rw(struct blkfront *bf, uint8_t op, uint64_t sector, void *buf, size_t len,
		 unsigned int max_direct, unsigned int max_indirect, int16_t *status)
{
	*status = BLKIF_RSP_OKAY;
	if ((op != BLKIF_OP_READ && op != BLKIF_OP_WRITE) || !len || len % BLKFRONT_SECTOR ||
	    (uintptr_t)buf % BLKFRONT_SECTOR || !max_direct ||
	    max_direct > BLKIF_MAX_SEGMENTS_PER_REQUEST || bf->inflight)
		return -XEN_EINVAL;
	uint8_t *p = buf;
	size_t left = len;
	int err = 0;
	while (left || bf->inflight) {
		while (left && can_queue(bf)) {
			bool ind = max_indirect && segments_for(p, left) > max_direct;
			err = queue_rw(bf, op, &sector, &p, &left, ind ? max_indirect : max_direct, ind);
			if (err)
				left = 0;	/* stop queuing; what is in flight still completes */
		}
		kick(bf);
		int rc = reap(bf, status);
		if (rc)
			return rc;
	}
	return err;
}

int blkfront_rw(struct blkfront *bf, uint8_t op, uint64_t sector, void *buf, size_t len,
		int16_t *status)
{
	return do_rw(bf, op, sector, buf, len, BLKIF_MAX_SEGMENTS_PER_REQUEST, bf->max_indirect,
		     status);
}

int blkfront_rw_segments(struct blkfront *bf, uint8_t op, uint64_t sector, void *buf, size_t len,
			 unsigned int segs, int16_t *status)
{
	if (segs <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return do_rw(bf, op, sector, buf, len, segs, 0, status);
	if (segs > bf->max_indirect)
		return -XEN_EINVAL;
	return do_rw(bf, op, sector, buf, len, BLKIF_MAX_SEGMENTS_PER_REQUEST, segs, status);
}

int blkfront_rw_direct(struct blkfront *bf, uint8_t op, uint64_t sector, void *buf, size_t len,
		       unsigned int max_segs, int16_t *status)
{
	return do_rw(bf, op, sector, buf, len, max_segs, 0, status);
}

/* A request without data pages, and its response. */
static int one_request(struct blkfront *bf, blkif_request_t *req, int16_t *status)
{
	*status = BLKIF_RSP_OKAY;
	if (bf->inflight)
		return -XEN_EINVAL;
	unsigned int id = free_id(bf);
	req->id = id;
	queue(bf, id, req);
	kick(bf);
	while (bf->inflight) {
		int rc = reap(bf, status);
		if (rc)
			return rc;
	}
	return 0;
}

int blkfront_flush(struct blkfront *bf, int16_t *status)
{
	blkif_request_t req = {
		.operation = BLKIF_OP_FLUSH_DISKCACHE, .handle = (blkif_vdev_t)bf->xb.devid};
	return one_request(bf, &req, status);
}

int blkfront_discard(struct blkfront *bf, uint64_t sector, uint64_t nr_sectors, int16_t *status)
{
	blkif_request_t req = {0};
	blkif_request_discard_t *d = (blkif_request_discard_t *)&req;
	d->operation = BLKIF_OP_DISCARD;
	d->handle = (blkif_vdev_t)bf->xb.devid;
	d->sector_number = sector;
	d->nr_sectors = nr_sectors;
	return one_request(bf, &req, status);
}

void blkfront_push_raw(struct blkfront *bf, const void *req)
{
	memcpy(RING_GET_REQUEST(&bf->ring, bf->ring.req_prod_pvt), req, sizeof(blkif_request_t));
	bf->ring.req_prod_pvt++;
	kick(bf);
}

int blkfront_wait_raw(struct blkfront *bf, blkif_response_t *rsp, uint32_t timeout_ms)
{
	if (!front_wait(bf->port, has_responses, bf, timeout_ms))
		return -XEN_ETIMEDOUT;
	RING_COPY_RESPONSE(&bf->ring, bf->ring.rsp_cons, rsp);
	bf->ring.rsp_cons++;
	return 0;
}

int blkfront_close(struct blkfront *bf)
{
	int rc = xbf_close(&bf->xb);
	for (unsigned int i = 0; i < (1u << bf->ring_order); i++)
		if (gnt_end(bf->ring_refs[i])) {
			front_log("blkfront %s: ring grant %u still held after close\n", bf->xb.node,
				  bf->ring_refs[i]);
			bf->leaked_grants++;
		}
	front_evtchn_close(bf->port);
	return rc;
}
