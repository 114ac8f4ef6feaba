/* blkfront through pvd's blkback: sector patterns written at many sizes and offsets (one
 * sector, seven crossing a page, eleven segments, several requests in flight, indirect
 * requests when offered), read back and compared; flush, discard, the last sector, reads past
 * the end refused. Prints an IMAGE line per region it leaves on the disk so the integration
 * script checks the image file too. Command line: ring-order=N (wanted ring pages 2^N),
 * sectors=N (the disk size the script made). Run by tests/integration/blk.sh. */
#include "test.h"
#include "blkfront.h"
#include "front.h"
#include "pattern.h"

#define BUF_PAGES 33	/* 32 pages for an indirect request, one more for unaligned buffers */
static uint8_t wbuf[BUF_PAGES * 4096] __attribute__((aligned(4096)));
static uint8_t rbuf[BUF_PAGES * 4096] __attribute__((aligned(4096)));
static struct blkfront bf;

static unsigned int cmdline_uint(const char *key, unsigned int dflt)
{
	char v[16];
	unsigned int n;
	return cmdline_get(start_info_cmdline(), key, v, sizeof(v)) && str_to_u32(v, &n) ? n : dflt;
}

/* Writes nsect sectors of pattern `seed` at `sector` from wbuf+off, reads them back into
 * rbuf+off, compares. max_segs 0: blkfront_rw (indirect when useful), else direct requests of
 * at most that many segments. */
static bool write_read(const char *check, uint64_t sector, size_t nsect, size_t off, uint32_t seed,
		       unsigned int max_segs)
{
	size_t len = nsect * BLKFRONT_SECTOR;
	int16_t st;
	int rc;
	pattern_fill(wbuf + off, sector, nsect, seed);
	memset(rbuf + off, 0xee, len);
	rc = max_segs ? blkfront_rw_direct(&bf, BLKIF_OP_WRITE, sector, wbuf + off, len, max_segs, &st)
		      : blkfront_rw(&bf, BLKIF_OP_WRITE, sector, wbuf + off, len, &st);
	if (rc || st != BLKIF_RSP_OKAY) {
		report_fail(check, "write: rc %d status %d", rc, st);
		return false;
	}
	rc = max_segs ? blkfront_rw_direct(&bf, BLKIF_OP_READ, sector, rbuf + off, len, max_segs, &st)
		      : blkfront_rw(&bf, BLKIF_OP_READ, sector, rbuf + off, len, &st);
	if (rc || st != BLKIF_RSP_OKAY) {
		report_fail(check, "read: rc %d status %d", rc, st);
		return false;
	}
	long bad = pattern_check(rbuf + off, sector, nsect, seed);
	if (bad >= 0) {
		report_fail(check, "sector %lu read back wrong", (unsigned long)(sector + bad));
		return false;
	}
	xprintf("IMAGE %lu %lu %u\n", (unsigned long)sector, (unsigned long)nsect, seed);
	report_pass(check);
	return true;
}

static void expect_status(const char *check, int rc, int16_t st, int16_t want)
{
	if (rc == 0 && st == want)
		report_pass(check);
	else
		report_fail(check, "rc %d status %d, expected status %d", rc, st, want);
}

static void patterns(void)
{
	write_read("one sector", 1, 1, 0, 1, 0);
	write_read("seven sectors crossing a page", 100, 7, 3 * 512, 2, 0);
	write_read("eleven segments", 200, 88, 0, 3, 11);
	write_read("eleven partial segments", 400, 86, 512, 4, 11);
	write_read("one segment per request, eight in flight", 600, 64, 0, 5, 1);
	write_read("several requests of eleven segments", 1000, 256, 1024, 6, 11);
	if (bf.max_indirect) {
		uint64_t before = bf.indirect_requests;
		if (write_read("indirect request", 2000, 256, 0, 7, 0) && bf.indirect_requests == before)
			report_fail("indirect request used", "none was sent");
		write_read("indirect requests, unaligned", 2400, 258, 1536, 8, 0);
	} else {
		report_skip("indirect request", "the back-end offers no feature-max-indirect-segments");
	}

	/* A write over the middle of an earlier one: only those sectors change. */
	if (write_read("overwrite: first", 3000, 16, 0, 9, 0) &&
	    write_read("overwrite: middle", 3004, 4, 0, 10, 0)) {
		int16_t st;
		int rc = blkfront_rw(&bf, BLKIF_OP_READ, 3000, rbuf, 16 * 512, &st);
		if (rc || st || pattern_check(rbuf, 3000, 4, 9) >= 0 ||
		    pattern_check(rbuf + 4 * 512, 3004, 4, 10) >= 0 ||
		    pattern_check(rbuf + 8 * 512, 3008, 8, 9) >= 0)
			report_fail("overwrite: only the middle changed", "rc %d status %d", rc, st);
		else
			report_pass("overwrite: only the middle changed");
		xprintf("IMAGE 3000 4 9\nIMAGE 3004 4 10\nIMAGE 3008 8 9\n");
	}

	int16_t st;
	int rc = blkfront_rw(&bf, BLKIF_OP_READ, 5000, rbuf, 8 * 512, &st);
	if (rc == 0 && st == 0 && pattern_is_zero(rbuf, 8 * 512))
		report_pass("unwritten sectors read as zeros");
	else
		report_fail("unwritten sectors read as zeros", "rc %d status %d", rc, st);
	write_read("last sector", bf.sectors - 1, 1, 0, 11, 0);
}

static void refusals(void)
{
	int16_t st;
	int rc = blkfront_rw(&bf, BLKIF_OP_READ, bf.sectors, rbuf, 512, &st);
	expect_status("read past the end refused", rc, st, BLKIF_RSP_ERROR);
	rc = blkfront_rw(&bf, BLKIF_OP_READ, bf.sectors - 1, rbuf, 1024, &st);
	expect_status("read across the end refused", rc, st, BLKIF_RSP_ERROR);
	pattern_fill(wbuf, bf.sectors, 1, 12);
	rc = blkfront_rw(&bf, BLKIF_OP_WRITE, bf.sectors, wbuf, 512, &st);
	expect_status("write past the end refused", rc, st, BLKIF_RSP_ERROR);
	rc = blkfront_rw(&bf, BLKIF_OP_READ, ~0ull - 1, rbuf, 1024, &st);
	expect_status("read at a sector number that wraps refused", rc, st, BLKIF_RSP_ERROR);
}

static void flush_and_discard(void)
{
	int16_t st;
	int rc;
	if (bf.feature_flush) {
		rc = blkfront_flush(&bf, &st);
		expect_status("flush", rc, st, BLKIF_RSP_OKAY);
	} else {
		report_skip("flush", "the back-end offers no feature-flush-cache");
	}
	if (bf.feature_discard) {
		write_read("discard: written first", 6000, 64, 0, 13, 0);
		rc = blkfront_discard(&bf, 6000, 64, &st);
		expect_status("discard", rc, st, BLKIF_RSP_OKAY);
		rc = blkfront_discard(&bf, bf.sectors - 8, 16, &st);
		expect_status("discard past the end refused", rc, st, BLKIF_RSP_ERROR);
		/* Whatever discard left, the disk still reads and writes there. */
		write_read("write after discard", 6000, 64, 0, 14, 0);
	} else {
		report_skip("discard", "the back-end offers no feature-discard");
	}
}

void test_main(void)
{
	if (!front_init(1))
		return;
	int rc = blkfront_open(&bf, XBF_FIRST_DEVICE, cmdline_uint("ring-order", 0));
	if (!expect_rc("blkfront connects", rc, 0))
		return;
	xprintf("disk %s: %lu sectors of %u bytes, info %x, ring order %u, flush %u discard %u "
		"indirect %u\n", bf.xb.node, (unsigned long)bf.sectors, bf.sector_size, bf.info,
		bf.ring_order, bf.feature_flush, bf.feature_discard, bf.max_indirect);
	unsigned int want = cmdline_uint("sectors", 0);
	if (want && bf.sectors != want)
		report_fail("sectors", "%lu, the image has %u", (unsigned long)bf.sectors, want);
	else if (want)
		report_pass("sectors");
	if (bf.info & VDISK_READONLY)
		report_fail("info", "VDISK_READONLY on a disk configured rw");
	patterns();
	refusals();
	flush_and_discard();
	if (bf.leaked_grants == 0 && gnt_refs_in_use() == (1u << bf.ring_order))
		report_pass("every data grant ended");
	else
		report_fail("every data grant ended", "%lu held by the back-end, %u refs in use",
			    (unsigned long)bf.leaked_grants, gnt_refs_in_use());
	xprintf("requests %lu (indirect %lu), kicks %lu\n", (unsigned long)bf.requests,
		(unsigned long)bf.indirect_requests, (unsigned long)bf.kicks);
	rc = blkfront_close(&bf);
	if (rc == 0 && gnt_refs_in_use() == 0)
		report_pass("close");
	else
		report_fail("close", "rc %d, %u refs still in use", rc, gnt_refs_in_use());
}
