/* Two guests on one bridge exchange raw Ethernet frames (ethertype 0x88b5, local experimental)
 * through netfront, pvd's netback and the bridge. role=a sends rounds= pings of sizes from 60
 * to 1514 bytes, each answered by a pong carrying the same payload, resending after a timeout
 * (the first pings may go out before b is up); role=b answers every ping until a has been quiet
 * for a while after the last round. peer=MAC is the other guest's address. Run by
 * tests/integration/net.sh. */
#include "test.h"
#include "front.h"
#include "netfront.h"

#define ETHERTYPE 0x88b5
#define HDR 14
#define MAGIC_PING 0x474e495056485650ull	/* "PVHVPING" */
#define MAGIC_PONG 0x474e4f5056485650ull	/* "PVHVPONG" */
#define MAX_FRAME 1514

static struct netfront nf;
static uint8_t peer[6];
static uint8_t frame[2048] __attribute__((aligned(8)));
static uint8_t expect[2048] __attribute__((aligned(8)));
static uint8_t want[2048] __attribute__((aligned(8)));

static unsigned int size_of_round(uint32_t seq) { return 60 + (seq * 97) % (MAX_FRAME - 59); }

/* Header, magic, seq, then quadwords of a seq-dependent value (one rep stosq). */
static unsigned int build(uint8_t *f, const uint8_t *dst, uint64_t magic, uint32_t seq)
{
	unsigned int len = size_of_round(seq);
	memset(f, 0, len + 8);
	memcpy(f, dst, 6);
	memcpy(f + 6, nf.mac, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memcpy(f + HDR, &magic, 8);
	memcpy(f + HDR + 8, &seq, 4);
	void *d = f + 32;
	size_t n = (len - 32 + 7) / 8;
	uint64_t v = (seq + 1) * 0x9e3779b97f4a7c15ull;
	asm volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory");
	memset(f + len, 0, 8);	/* the stosq may have run past len */
	return len;
}

static bool is_ours(const uint8_t *f, int len, uint64_t magic, uint32_t *seq)
{
	uint64_t m;
	if (len < 32 || f[12] != ETHERTYPE >> 8 || f[13] != (ETHERTYPE & 0xff) ||
	    memcmp(f, nf.mac, 6))
		return false;
	memcpy(&m, f + HDR, 8);
	memcpy(seq, f + HDR + 8, 4);
	return m == magic;
}

static void role_a(unsigned int rounds)
{
	unsigned int resends = 0, bad = 0;
	for (uint32_t seq = 0; seq < rounds; seq++) {
		unsigned int len = build(frame, peer, MAGIC_PING, seq), tries = 0;
		for (;;) {
			int rc = netfront_send(&nf, frame, len);
			if (rc) {
				report_fail("ping", "round %u: send %d", seq, rc);
				return;
			}
			int n;
			uint32_t got = ~0u;
			/* Wait for this round's pong; older ones (answers to resends) are skipped. */
			while ((n = netfront_recv(&nf, expect, sizeof(expect), 1000)) >= 0 &&
			       !(is_ours(expect, n, MAGIC_PONG, &got) && got == seq))
				;
			if (n >= 0) {
				unsigned int elen = build(want, peer, MAGIC_PONG, seq);
				/* The pong as b built it: our own MAC as destination. */
				memcpy(want, nf.mac, 6);
				memcpy(want + 6, peer, 6);
				if ((unsigned int)n != elen || memcmp(expect, want, elen))
					bad++;
				break;
			}
			if (n != -XEN_ETIMEDOUT || ++tries == 20) {
				report_fail("ping", "round %u: no pong (%d) after %u tries", seq, n, tries);
				return;
			}
			resends++;
		}
	}
	xprintf("a: %u rounds, %u resends, %u pongs with wrong contents\n", rounds, resends, bad);
	if (bad)
		report_fail("pongs carry the ping's payload", "%u did not", bad);
	else
		report_pass("pongs carry the ping's payload");
	report_pass("ping_pong");
}

static void role_b(unsigned int rounds)
{
	unsigned int answered = 0, bad = 0;
	uint32_t last = ~0u;
	bool done = false;
	for (;;) {
		/* Long before the first ping (a may boot later), short once all were answered. */
		int n = netfront_recv(&nf, frame, sizeof(frame), done ? 3000 : 60000);
		if (n == -XEN_ETIMEDOUT && done)
			break;
		if (n < 0) {
			report_fail("pong", "receive: %d after %u answers", n, answered);
			return;
		}
		uint32_t seq;
		if (!is_ours(frame, n, MAGIC_PING, &seq))
			continue;
		unsigned int elen = build(expect, nf.mac, MAGIC_PING, seq);
		memcpy(expect + 6, peer, 6);
		if ((unsigned int)n != elen || memcmp(frame, expect, elen))
			bad++;
		memcpy(frame, peer, 6);
		memcpy(frame + 6, nf.mac, 6);
		uint64_t m = MAGIC_PONG;
		memcpy(frame + HDR, &m, 8);
		int rc = netfront_send(&nf, frame, (size_t)n);
		if (rc) {
			report_fail("pong", "send %d", rc);
			return;
		}
		answered++;
		if (seq != last && seq + 1 == rounds)
			done = true;
		last = seq;
	}
	xprintf("b: answered %u pings (rounds %u)\n", answered, rounds);
	if (bad)
		report_fail("pings arrive intact", "%u did not", bad);
	else
		report_pass("pings arrive intact");
	report_pass("ping_pong");
}

void test_main(void)
{
	char role[4], mac[24], n[12];
	unsigned int rounds = 100;
	const char *cmd = start_info_cmdline();
	if (!cmdline_get(cmd, "role", role, sizeof(role)) || (strcmp(role, "a") && strcmp(role, "b")) ||
	    !cmdline_get(cmd, "peer", mac, sizeof(mac)) || !str_to_mac(mac, peer)) {
		report_fail("command line", "needs role=a|b and peer=MAC");
		return;
	}
	if (cmdline_get(cmd, "rounds", n, sizeof(n)) && !str_to_u32(n, &rounds))
		rounds = 100;
	if (!front_init(1))
		return;
	int rc = netfront_open(&nf, XBF_FIRST_DEVICE);
	if (!expect_rc("netfront connects", rc, 0))
		return;
	xprintf("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, sg %u\n", role, nf.mac[0], nf.mac[1],
		nf.mac[2], nf.mac[3], nf.mac[4], nf.mac[5], nf.feature_sg);
	if (!strcmp(role, "a"))
		role_a(rounds);
	else
		role_b(rounds);
	xprintf("tx %lu rx %lu frames, tx errors %lu rx errors %lu, kicks %lu\n",
		(unsigned long)nf.tx_frames, (unsigned long)nf.rx_frames, (unsigned long)nf.tx_errors,
		(unsigned long)nf.rx_errors, (unsigned long)nf.kicks);
	expect_rc("close", netfront_close(&nf), 0);
}
