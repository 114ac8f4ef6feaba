/* Grants to dom0: the guest grants pages and a dom0 harness (tests/integration/
 * dom0_grant_harness.cpp, with the same grant API as pvd's back-ends) maps and copies them.
 * Covers read/write and read-only grants, a grant to another domain, a frame that is not RAM,
 * and revocation while dom0 holds a mapping. The two sides take turns over an event channel:
 * the guest announces its refs and port on the console, waits for dom0's kick, checks what
 * dom0 did to its pages and entries, kicks back. */
#include "test.h"
#include "events.h"
#include "grant.h"

#define NOT_RAM_GPFN 0xf0010ul	/* granted but not RAM: dom0 must refuse to map it */

enum { REF_RW = 8, REF_RO = 9, REF_OTHER = 10, REF_NOT_RAM = 11 };

static uint8_t page_rw[4096] __attribute__((aligned(4096)));
static uint8_t page_ro[4096] __attribute__((aligned(4096)));

static bool map_grant_frame(void)
{
	return expect_rc("map grant frame 0", gnt_init(start_info_hole(4096), 1), 0);
}

static void grant(unsigned int ref, domid_t to, unsigned long gfn, uint16_t flags)
{
	long rc = gnt_grant_ref(ref, to, gfn, flags);
	if (rc)
		report_fail("grant", "ref %u: %ld", ref, rc);
}

static uint16_t flags_of(unsigned int ref) { return gnt_flags(ref); }

/* Blocks until dom0 kicks `port`, and consumes the kick. */
static void wait_for_dom0(evtchn_port_t port)
{
	evtchn_wait(port);
	evtchn_clear(port);
}

static bool starts_with(const uint8_t *page, const char *text)
{
	return memcmp(page, text, strlen(text)) == 0;
}

void test_main(void)
{
	if (!events_init() || !map_grant_frame())
		return;
	memcpy(page_rw, "guest page rw", 14);
	memcpy(page_ro, "guest page ro", 14);
	grant(REF_RW, 0, (uintptr_t)page_rw >> 12, GTF_permit_access);
	grant(REF_RO, 0, (uintptr_t)page_ro >> 12, GTF_permit_access | GTF_readonly);
	grant(REF_OTHER, 7, (uintptr_t)page_rw >> 12, GTF_permit_access);
	grant(REF_NOT_RAM, 0, NOT_RAM_GPFN, GTF_permit_access);

	evtchn_port_t port;
	if (!expect_rc("alloc_unbound for dom0", evtchn_alloc_unbound(0, &port), 0))
		return;
	/* The harness reads this line; everything after it is a conversation. */
	xprintf("DOM0TEST port=%u rw=%u ro=%u other=%u notram=%u\n", port, REF_RW, REF_RO,
		REF_OTHER, REF_NOT_RAM);

	/* Round 1: dom0 mapped REF_RW writable, wrote into it, and still holds the mapping. */
	wait_for_dom0(port);
	uint16_t f = flags_of(REF_RW);
	if ((f & (GTF_reading | GTF_writing)) == (GTF_reading | GTF_writing))
		report_pass("mapped grant shows GTF_reading|GTF_writing");
	else
		report_fail("mapped grant shows GTF_reading|GTF_writing", "flags %x", f);
	if (starts_with(page_rw, "dom0 was here"))
		report_pass("dom0 wrote through its mapping");
	else
		report_fail("dom0 wrote through its mapping", "page starts '%c%c%c'", page_rw[0], page_rw[1], page_rw[2]);
	if (starts_with(page_ro, "guest page ro"))
		report_pass("read-only page untouched");
	else
		report_fail("read-only page untouched", "page changed");
	f = flags_of(REF_RO);
	if (!(f & (GTF_reading | GTF_writing)))
		report_pass("copy left no pin on the read-only grant");
	else
		report_fail("copy left no pin on the read-only grant", "flags %x", f);

	/* Revoke while mapped: Linux would refuse (gnttab_end_foreign_access checks the flags);
	 * a hostile guest just clears the entry. dom0 must survive it. */
	gnt_revoke(REF_RW);
	expect_rc("kick dom0 after revoking", evtchn_send(port), 0);

	/* Round 2: dom0 wrote once more through the stale mapping, unmapped, and was refused a
	 * new mapping of the revoked ref. */
	wait_for_dom0(port);
	f = flags_of(REF_RW);
	if (f == 0)
		report_pass("unmap cleared the status bits");
	else
		report_fail("unmap cleared the status bits", "flags %x", f);
	if (starts_with(page_rw, "after revoke"))
		report_pass("stale mapping still pointed at the guest page");
	else
		report_fail("stale mapping still pointed at the guest page", "page starts '%c%c%c'",
			    page_rw[0], page_rw[1], page_rw[2]);
}
