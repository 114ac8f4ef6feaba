/* Flush durability: writes pattern seed 21 over the first 256 sectors, flushes, prints
 * "BLK_FLUSH_ACKED" once the flush is answered, then stays (halted) so that
 * tests/integration/blk.sh can kill -9 pvd and find the data in the image file. */
#include "test.h"
#include "blkfront.h"
#include "front.h"
#include "pattern.h"

#define SEED 21
#define NSECT 256
static uint8_t buf[NSECT * 512] __attribute__((aligned(4096)));
static struct blkfront bf;

void test_main(void)
{
	if (!front_init(1))
		return;
	if (!expect_rc("blkfront connects", blkfront_open(&bf, XBF_FIRST_DEVICE, 0), 0))
		return;
	if (!bf.feature_flush) {
		report_fail("flush", "the back-end offers no feature-flush-cache");
		return;
	}
	int16_t st;
	pattern_fill(buf, 0, NSECT, SEED);
	int rc = blkfront_rw(&bf, BLKIF_OP_WRITE, 0, buf, sizeof(buf), &st);
	if (rc || st) {
		report_fail("write", "rc %d status %d", rc, st);
		return;
	}
	report_pass("write");
	rc = blkfront_flush(&bf, &st);
	if (rc || st) {
		report_fail("flush", "rc %d status %d", rc, st);
		return;
	}
	report_pass("flush");
	xprintf("BLK_FLUSH_ACKED sectors 0-%u seed %u\n", NSECT - 1, SEED);
	halt_forever();
}
