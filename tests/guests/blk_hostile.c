/* A hostile blkfront on xvda: requests past the end, with 0 or 12 segments, last_sect before
 * first_sect, refs not granted, granted to another domain or read-only for a read, unknown and
 * malformed indirect operations; each must get an error response (and the device keep
 * working). A full ring rewritten while the back-end serves it: each request answered once. Then a producer index far past the consumer: the
 * back-end must give up on the device (Closing/Closed). On xvdc the ring-ref is a ref never
 * granted: the back-end must refuse to connect. xvdb, a second disk, must work throughout. Run by tests/integration/blk.sh, which checks pvd still answers afterwards. */
#include "test.h"
#include "blkfront.h"
#include "events.h"
#include "front.h"
#include "pattern.h"

#define XVDA 51712
#define XVDB 51728
#define XVDC 51744
#define TIMEOUT_MS 10000
static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t other[8 * 4096] __attribute__((aligned(4096)));
static struct blkfront a, b;

static domid_t not_dom0(void) { return self_domid() == 7 ? 8 : 7; }

/* A read of sector `sector` into `page` through `ref`, one segment of the whole page. */
static blkif_request_t read_req(uint64_t sector, grant_ref_t ref)
{
	blkif_request_t r = {.operation = BLKIF_OP_READ, .nr_segments = 1, .handle = XVDA,
			     .id = 0x1234, .sector_number = sector};
	r.seg[0] = (struct blkif_request_segment){.gref = ref, .first_sect = 0, .last_sect = 7};
	return r;
}

/* Sends `req` raw and expects one response with the request's id and an error status. */
static bool expect_error(const char *check, const blkif_request_t *req)
{
	blkif_response_t rsp;
	blkfront_push_raw(&a, req);
	int rc = blkfront_wait_raw(&a, &rsp, TIMEOUT_MS);
	if (rc) {
		report_fail(check, "no response (%d); back-end state %d", rc, xbf_backend_state(&a.xb));
		return false;
	}
	if (rsp.id != req->id || (rsp.status != BLKIF_RSP_ERROR && rsp.status != BLKIF_RSP_EOPNOTSUPP)) {
		report_fail(check, "response id %lx status %d", (unsigned long)rsp.id, rsp.status);
		return false;
	}
	report_pass(check);
	return true;
}

/* The device still serves a good request after a bad one. */
static void still_works(const char *check)
{
	int16_t st;
	int rc = blkfront_rw(&a, BLKIF_OP_READ, 0, page, 4096, &st);
	if (rc || st)
		report_fail(check, "rc %d status %d", rc, st);
}

static void bad_requests(void)
{
	grant_ref_t ref;
	if (gnt_grant(a.xb.backend_id, front_virt_to_gfn(page), false, &ref)) {
		report_fail("grant", "no free ref");
		return;
	}
	blkif_request_t r = read_req(a.sectors, ref);
	expect_error("sector past the end", &r);
	r = read_req(a.sectors - 7, ref);	/* 8 sectors from 7 before the end */
	expect_error("range across the end", &r);
	r = read_req(0, ref);
	r.nr_segments = 0;
	expect_error("nr_segments 0", &r);
	r = read_req(0, ref);
	r.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
	for (unsigned int i = 1; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r.seg[i] = r.seg[0];
	expect_error("nr_segments 12 without indirect", &r);
	r = read_req(0, ref);
	r.seg[0].first_sect = 5;
	r.seg[0].last_sect = 2;
	expect_error("last_sect < first_sect", &r);
	r = read_req(0, ref);
	r.seg[0].last_sect = 8;
	expect_error("last_sect past the page", &r);
	r = read_req(0, ref);
	r.operation = 0x77;
	expect_error("unknown operation", &r);
	still_works("device works after malformed requests");

	/* Grants the back-end may not use. */
	r = read_req(0, 400);	/* never granted: flags 0 */
	expect_error("ref not granted", &r);
	r = read_req(0, 100000);	/* beyond the table */
	expect_error("ref beyond the grant table", &r);
	grant_ref_t foreign, ro;
	gnt_grant(not_dom0(), front_virt_to_gfn(page), false, &foreign);
	r = read_req(0, foreign);
	expect_error("ref granted to another domain", &r);
	gnt_end(foreign);
	gnt_grant(a.xb.backend_id, front_virt_to_gfn(page), true, &ro);
	r = read_req(0, ro);
	expect_error("read into a read-only grant", &r);
	if (gnt_end(ro))
		report_fail("read-only grant released", "flags %x", gnt_flags(ro));

	/* Indirect: refused when not offered; with 0 segments or more than offered when it is. */
	blkif_request_indirect_t ir = {.operation = BLKIF_OP_INDIRECT, .indirect_op = BLKIF_OP_READ,
				       .nr_segments = 1, .id = 0x4321, .handle = XVDA};
	memset(page, 0, sizeof(page));	/* as an indirect page: segments with gref 0 */
	ir.indirect_grefs[0] = ref;
	if (!a.max_indirect) {
		expect_error("indirect request when none is offered", (const blkif_request_t *)&ir);
	} else {
		ir.nr_segments = 0;
		expect_error("indirect request with 0 segments", (const blkif_request_t *)&ir);
		ir.nr_segments = 0xffff;
		expect_error("indirect request with 65535 segments", (const blkif_request_t *)&ir);
		ir.nr_segments = 1;
		expect_error("indirect segment with ref 0", (const blkif_request_t *)&ir);
	}
	gnt_end(ref);
	still_works("device works after bad grants");
}

/* A ring page that changes under the back-end: a full ring of good reads is published with one
 * kick, then every slot's sector and grant ref flip between good and bad values while the
 * back-end works through them. Whatever it copied, each request must be answered exactly once,
 * OKAY or with an error. Only fields past the first 12 bytes change: a slot's response (id,
 * operation, status) is written over those, and the guest must not garble its own answers. */
static void rewritten_slots(void)
{
	grant_ref_t ref;
	gnt_grant(a.xb.backend_id, front_virt_to_gfn(page), false, &ref);
	const unsigned int n = RING_SIZE(&a.ring) < 32 ? RING_SIZE(&a.ring) : 32;	/* bits of `seen` */
	RING_IDX first = a.ring.req_prod_pvt;
	for (unsigned int i = 0; i < n; i++) {
		blkif_request_t r = read_req(i, ref);
		r.id = i;
		if (i + 1 < n)
			*RING_GET_REQUEST(&a.ring, a.ring.req_prod_pvt++) = r;
		else
			blkfront_push_raw(&a, &r);	/* publishes all n, one kick */
	}
	for (unsigned int k = 0; k < 8; k++)
		for (unsigned int i = 0; i < n; i++) {
			volatile blkif_request_t *q = RING_GET_REQUEST(&a.ring, first + i);
			q->sector_number = k & 1 ? i : ~0ull;
			q->seg[0].gref = k & 1 ? ref : 0x7fffffff;
		}
	uint32_t seen = 0;
	unsigned int ok = 0, errors = 0, bad = 0;
	for (unsigned int i = 0; i < n; i++) {
		blkif_response_t rsp;
		if (blkfront_wait_raw(&a, &rsp, TIMEOUT_MS)) {
			report_fail("ring rewritten under the back-end", "%u of %u answered", i, n);
			return;
		}
		if (rsp.id >= n || (seen & (1u << rsp.id)))
			bad++;
		else if (rsp.status == BLKIF_RSP_OKAY)
			ok++;
		else
			errors++;
		if (rsp.id < n)
			seen |= 1u << rsp.id;
	}
	gnt_end(ref);
	if (bad)
		report_fail("ring rewritten under the back-end", "%u responses with a wrong or repeated id", bad);
	else
		report_pass("ring rewritten under the back-end");
	xprintf("rewritten ring: %u requests answered OKAY, %u with an error\n", ok, errors);
	still_works("device works after the rewritten ring");
}

/* req_prod far past rsp_prod: the back-end cannot make sense of the ring and must stop. */
static void runaway_producer(void)
{
	a.ring.sring->req_prod = a.ring.rsp_cons + 1000;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	front_evtchn_send(a.port);
	int s = xbf_wait_backend(&a.xb, XBF_STATE(XenbusStateClosing) | XBF_STATE(XenbusStateClosed),
				 TIMEOUT_MS);
	if (s < 0) {
		report_fail("producer index far past the consumer: device closed", "back-end state %d",
			    xbf_backend_state(&a.xb));
		return;
	}
	report_pass("producer index far past the consumer: device closed");
	blkfront_close(&a);
	if (a.leaked_grants == 0)
		report_pass("ring grant released after the disconnect");
	else
		report_fail("ring grant released after the disconnect", "flags %x",
			    gnt_flags(a.ring_refs[0]));
}

static int publish_bogus_ring(void *arg, uint32_t tx)
{
	struct xenbus_front *x = arg;
	evtchn_port_t port;
	int rc = front_evtchn_alloc_unbound(x->backend_id, &port);
	if (!rc)
		rc = xbf_write_uint(x, tx, "ring-ref", 400);	/* never granted */
	if (!rc)
		rc = xbf_write_uint(x, tx, "event-channel", port);
	if (!rc)
		rc = xbf_write(x, tx, "protocol", "x86_64-abi");
	return rc;
}

/* A ring the back-end cannot map: the connect fails, the device goes Closing with `error`. */
static void bogus_ring_ref(void)
{
	struct xenbus_front x;
	if (!expect_rc("xvdc found", xbf_find(&x, "vbd", XVDC), 0))
		return;
	int rc = xbf_connect(&x, publish_bogus_ring, &x);
	if (rc == -XEN_EIO)
		report_pass("ring-ref not granted: connect refused");
	else
		report_fail("ring-ref not granted: connect refused", "xbf_connect %d, back-end state %d",
			    rc, xbf_backend_state(&x));
	xbf_close(&x);
}

/* The well-behaved disk: a pattern written and read back. */
static void second_disk(const char *check, uint32_t seed)
{
	int16_t st;
	pattern_fill(other, 0, 64, seed);
	int rc = blkfront_rw(&b, BLKIF_OP_WRITE, 0, other, sizeof(other), &st);
	if (!rc && !st) {
		memset(other, 0, sizeof(other));
		rc = blkfront_rw(&b, BLKIF_OP_READ, 0, other, sizeof(other), &st);
	}
	if (rc || st || pattern_check(other, 0, 64, seed) >= 0)
		report_fail(check, "rc %d status %d", rc, st);
	else
		report_pass(check);
}

void test_main(void)
{
	if (!front_init(1))
		return;
	if (!expect_rc("xvda connects", blkfront_open(&a, XVDA, 0), 0) ||
	    !expect_rc("xvdb connects", blkfront_open(&b, XVDB, 0), 0))
		return;
	second_disk("xvdb works before", 31);
	bad_requests();
	rewritten_slots();
	second_disk("xvdb works after bad requests on xvda", 32);
	runaway_producer();
	bogus_ring_ref();
	second_disk("xvdb works after xvda was closed", 33);
	expect_rc("xvdb closes", blkfront_close(&b), 0);
}
