/* A disk configured access=ro: `info` has VDISK_READONLY, reads return what the host wrote
 * (the script fills the image with pattern seed 77), writes get BLKIF_RSP_ERROR and change
 * nothing. Run by tests/integration/blk.sh, which also checks the image is unchanged. */
#include "test.h"
#include "blkfront.h"
#include "front.h"
#include "pattern.h"

#define HOST_SEED 77
static uint8_t buf[8 * 4096] __attribute__((aligned(4096)));
static struct blkfront bf;

static void read_expect_host_pattern(const char *check, uint64_t sector, size_t nsect)
{
	int16_t st;
	int rc = blkfront_rw(&bf, BLKIF_OP_READ, sector, buf, nsect * 512, &st);
	long bad = rc || st ? -2 : pattern_check(buf, sector, nsect, HOST_SEED);
	if (bad == -1)
		report_pass(check);
	else
		report_fail(check, "rc %d status %d, first bad sector %ld", rc, st, bad);
}

void test_main(void)
{
	if (!front_init(1))
		return;
	if (!expect_rc("blkfront connects", blkfront_open(&bf, XBF_FIRST_DEVICE, 0), 0))
		return;
	if (bf.info & VDISK_READONLY)
		report_pass("info has VDISK_READONLY");
	else
		report_fail("info has VDISK_READONLY", "info %x", bf.info);
	read_expect_host_pattern("read the host's data", 0, 64);
	read_expect_host_pattern("read the host's data at the end", bf.sectors - 16, 16);

	int16_t st;
	pattern_fill(buf, 8, 8, 1);
	int rc = blkfront_rw(&bf, BLKIF_OP_WRITE, 8, buf, 8 * 512, &st);
	if (rc == 0 && st == BLKIF_RSP_ERROR)
		report_pass("write refused");
	else
		report_fail("write refused", "rc %d status %d", rc, st);
	rc = blkfront_rw_direct(&bf, BLKIF_OP_WRITE, 0, buf, 4096, 1, &st);
	if (rc == 0 && st == BLKIF_RSP_ERROR)
		report_pass("single-segment write refused");
	else
		report_fail("single-segment write refused", "rc %d status %d", rc, st);
	read_expect_host_pattern("refused writes changed nothing", 0, 64);
	if (bf.leaked_grants == 0)
		report_pass("every data grant ended");
	else
		report_fail("every data grant ended", "%lu held", (unsigned long)bf.leaked_grants);
	expect_rc("close", blkfront_close(&bf), 0);
}
