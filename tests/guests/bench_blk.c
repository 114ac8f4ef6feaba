/* Block benchmark guest (bench/pv-io.sh): one phase of sequential or random I/O on the first
 * disk through blkfront and pvd's blkback, timed with the pvclock, reported as one line
 *   BENCH name=blk-<mode>-<size>k-qd<qd> ops=N bytes=B ns=T requests=R kicks=K
 * Command line: mode=seqwrite|seqread|randread, size=KiB per operation (4..64, a multiple of
 * 4: one request, indirect above 11 segments), qd=1|8 (requests in flight: one, or blkfront's
 * BLKFRONT_INFLIGHT; random reads always go one at a time), ops=N (0: only
 * open and close the disk, the script's baseline for pvd's counters). The data is whatever
 * the buffer holds: touching it would cost more than the I/O on an emulating KVM (DESIGN §4). */
#include "test.h"
#include "front.h"
#include "blkfront.h"
#include "pvclock.h"

#define MAX_KIB 64
/* Operations handed to blkfront at once at QD>1: it keeps up to qd of them in flight and
 * refills as responses come, so a longer buffer means fewer drains to zero. */
#define BATCH_OPS 16

static struct blkfront bf;
static uint8_t buf[BATCH_OPS * MAX_KIB * 1024] __attribute__((aligned(4096)));

/* xorshift64: random offsets without a division per step beyond the modulo. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool parse(const char *mode, unsigned int *op, bool *random)
{
	if (!strcmp(mode, "seqwrite"))
		*op = BLKIF_OP_WRITE, *random = false;
	else if (!strcmp(mode, "seqread"))
		*op = BLKIF_OP_READ, *random = false;
	else if (!strcmp(mode, "randread"))
		*op = BLKIF_OP_READ, *random = true;
	else
		return false;
	return true;
}

void test_main(void)
{
	char mode[12] = "seqwrite";
	unsigned int kib = 64, qd = 1, ops = 100, op;
	bool random;
	cmdline_get(start_info_cmdline(), "mode", mode, sizeof(mode));
	if (!parse(mode, &op, &random) || !start_info_cmdline_uint("size", &kib) ||
	    !start_info_cmdline_uint("qd", &qd) || !start_info_cmdline_uint("ops", &ops) ||
	    !kib || kib > MAX_KIB || kib % 4 || (qd != 1 && qd != BLKFRONT_INFLIGHT)) {
		report_fail("command line", "mode=seqwrite|seqread|randread size=4..64 (KiB, x4) "
			    "qd=1|%u ops=N", BLKFRONT_INFLIGHT);
		return;
	}
	if (!front_init(1))
		return;
	if (!expect_rc("blkfront connects", blkfront_open(&bf, XBF_FIRST_DEVICE, 0), 0))
		return;
	const unsigned int segs = kib / 4;
	const uint64_t op_sectors = kib * 1024 / BLKFRONT_SECTOR;
	const uint64_t slots = bf.sectors / op_sectors;	/* op-sized places on the disk */
	if (slots < BATCH_OPS || (segs > BLKIF_MAX_SEGMENTS_PER_REQUEST && bf.max_indirect < segs)) {
		report_fail("disk", "%lu sectors, indirect segments %u: too small for %u KiB ops",
			    (unsigned long)bf.sectors, bf.max_indirect, kib);
		blkfront_close(&bf);
		return;
	}

	uint64_t slot = 0, seed = 0x9e3779b97f4a7c15ull, first_requests = bf.requests,
		 first_kicks = bf.kicks;
	unsigned int done = 0, batch = qd == 1 || random ? 1 : BATCH_OPS;
	int rc = 0;
	int16_t status = BLKIF_RSP_OKAY;
	const uint64_t t0 = pvclock_now(0);
	while (done < ops && !rc && status == BLKIF_RSP_OKAY) {
		unsigned int n = ops - done < batch ? ops - done : batch;
		if (random)
			slot = next_random(&seed) % slots;
		else if (slot + n > slots)
			slot = 0;
		rc = blkfront_rw_segments(&bf, (uint8_t)op, slot * op_sectors, buf,
					  (size_t)n * kib * 1024, segs, &status);
		if (!random)
			slot += n;
		done += n;
	}
	const uint64_t ns = pvclock_now(0) - t0;
	if (rc || status != BLKIF_RSP_OKAY) {
		report_fail("I/O", "after %u operations: rc %d status %d", done, rc, status);
	} else {
		xprintf("BENCH name=blk-%s-%uk-qd%u ops=%u bytes=%lu ns=%lu requests=%lu kicks=%lu\n",
			mode, kib, random ? 1 : qd, ops, (unsigned long)ops * kib * 1024,
			(unsigned long)ns, (unsigned long)(bf.requests - first_requests),
			(unsigned long)(bf.kicks - first_kicks));
		report_pass("benchmark phase");
	}
	expect_rc("close", blkfront_close(&bf), 0);
}
