/* Network benchmark guests (bench/pv-io.sh): two guests on one bridge, raw Ethernet frames
 * (ethertype 0x88b6, local experimental) through netfront, pvd's netback and the bridge.
 * role=a drives one phase and prints
 *   BENCH name=net-pingpong-<size> ops=N ns=T          (round trips, timed at a)
 *   BENCH name=net-stream-<size> ops=N ns=T sent=S     (N frames b received, T from its
 *                                                      first to its last: N-1 intervals)
 * role=b answers. Command line: role=a|b peer=MAC mode=pingpong|stream size=60..1514 ops=N
 * (0: only the handshake, the script's baseline for pvd's counters). Both first agree through
 * a SYNC exchange (a resends until b is up), and a ends the phase with END, which b answers
 * with what it counted (END is resent until that answer comes; b stays 2 s for resends). */
#include "test.h"
#include "front.h"
#include "netfront.h"
#include "pvclock.h"

#define ETHERTYPE 0x88b6
#define HDR 14
#define MAX_FRAME 1514
#define MIN_FRAME 60

enum kind { SYNC = 1, SYNC_ACK, PING, PONG, DATA, END, END_ACK };

/* After the Ethernet header: kind, then seq; END_ACK carries b's count and time. */
struct payload {
	uint32_t kind;
	uint32_t seq;
	uint32_t count;
	uint32_t pad;
	uint64_t ns;
};

static struct netfront nf;
static uint8_t peer[6];
static uint8_t tx[2048] __attribute__((aligned(8)));
static uint8_t rx[2048] __attribute__((aligned(8)));

/* The header and payload into tx; the rest of the frame is whatever tx held (zeros). */
static int send_frame(unsigned int len, enum kind k, uint32_t seq, uint32_t count, uint64_t ns)
{
	struct payload p = {.kind = k, .seq = seq, .count = count, .ns = ns};
	memcpy(tx, peer, 6);
	memcpy(tx + 6, nf.mac, 6);
	tx[12] = ETHERTYPE >> 8;
	tx[13] = ETHERTYPE & 0xff;
	memcpy(tx + HDR, &p, sizeof(p));
	return netfront_send(&nf, tx, len);
}

/* The next frame of ours within timeout_ms: its payload, or a negative Xen errno. */
static int recv_frame(struct payload *p, uint32_t timeout_ms)
{
	for (;;) {
		int n = netfront_recv(&nf, rx, sizeof(rx), timeout_ms);
		if (n < 0)
			return n;
		if (n >= HDR + (int)sizeof(*p) && rx[12] == ETHERTYPE >> 8 &&
		    rx[13] == (ETHERTYPE & 0xff) && !memcmp(rx, nf.mac, 6)) {
			memcpy(p, rx + HDR, sizeof(*p));
			return n;
		}
	}
}

/* Sends `k` until the answer `want` comes (tries of timeout_ms each). */
static bool exchange(enum kind k, uint32_t seq, enum kind want, struct payload *answer,
		     uint32_t timeout_ms, unsigned int tries)
{
	for (unsigned int t = 0; t < tries; t++) {
		if (send_frame(MIN_FRAME, k, seq, 0, 0))
			return false;
		int n;
		while ((n = recv_frame(answer, timeout_ms)) >= 0)
			if (answer->kind == want && answer->seq == seq)
				return true;
		if (n != -XEN_ETIMEDOUT)
			return false;
	}
	return false;
}

static void role_a(const char *mode, unsigned int size, unsigned int ops)
{
	struct payload p;
	/* b may boot seconds later: 60 s of SYNCs. */
	if (!exchange(SYNC, 0, SYNC_ACK, &p, 200, 300)) {
		report_fail("sync", "no answer from the peer");
		return;
	}
	const bool pingpong = !strcmp(mode, "pingpong");
	unsigned int resends = 0;
	const uint64_t t0 = pvclock_now(0);
	for (uint32_t seq = 0; seq < ops; seq++) {
		if (!pingpong) {
			if (send_frame(size, DATA, seq, 0, 0)) {
				report_fail("stream", "send of frame %u failed", seq);
				return;
			}
			continue;
		}
		for (unsigned int tries = 0;; tries++) {
			int n;
			if (send_frame(size, PING, seq, 0, 0)) {
				report_fail("ping", "send of round %u failed", seq);
				return;
			}
			while ((n = recv_frame(&p, 1000)) >= 0 && !(p.kind == PONG && p.seq == seq))
				;
			if (n >= 0)
				break;
			if (tries == 10) {
				report_fail("ping", "round %u: no pong (%d)", seq, n);
				return;
			}
			resends++;
		}
	}
	const uint64_t ns = pvclock_now(0) - t0;
	if (!exchange(END, ops, END_ACK, &p, 500, 20)) {
		report_fail("end", "b did not answer END");
		return;
	}
	if (pingpong)
		xprintf("BENCH name=net-pingpong-%u ops=%u ns=%lu resends=%u\n", size, ops,
			(unsigned long)ns, resends);
	else	/* b's view: frames that arrived, and the time from its first to its last */
		xprintf("BENCH name=net-stream-%u ops=%u ns=%lu sent=%u send_ns=%lu\n", size,
			p.count, (unsigned long)p.ns, ops, (unsigned long)ns);
	report_pass("benchmark phase");
}

static void role_b(void)
{
	struct payload p;
	uint32_t count = 0;
	uint64_t first = 0, last = 0;
	bool ended = false;
	for (;;) {
		/* Long before a's first frame; once a ended, only as long as END may be resent. */
		int n = recv_frame(&p, ended ? 2000 : 120000);
		if (n == -XEN_ETIMEDOUT && ended)
			break;
		if (n < 0) {
			report_fail("peer", "receive: %d after %u frames", n, count);
			return;
		}
		int rc = 0;
		switch (p.kind) {
		case SYNC:
			rc = send_frame(MIN_FRAME, SYNC_ACK, p.seq, 0, 0);
			break;
		case PING:	/* the same frame back, addresses swapped */
			memcpy(rx, peer, 6);
			memcpy(rx + 6, nf.mac, 6);
			p.kind = PONG;
			memcpy(rx + HDR, &p, sizeof(p));
			rc = netfront_send(&nf, rx, (size_t)n);
			break;
		case DATA:
			last = pvclock_now(0);
			if (!count++)
				first = last;
			break;
		case END:
			ended = true;
			rc = send_frame(MIN_FRAME, END_ACK, p.seq, count, last - first);
			break;
		default:
			break;
		}
		if (rc) {
			report_fail("peer", "send: %d", rc);
			return;
		}
	}
	xprintf("b: %u stream frames\n", count);
	report_pass("benchmark peer");
}

void test_main(void)
{
	char role[4], mac[24], mode[12] = "pingpong";
	unsigned int size = MIN_FRAME, ops = 100;
	const char *cmd = start_info_cmdline();
	cmdline_get(cmd, "mode", mode, sizeof(mode));
	if (!cmdline_get(cmd, "role", role, sizeof(role)) || (strcmp(role, "a") && strcmp(role, "b")) ||
	    !cmdline_get(cmd, "peer", mac, sizeof(mac)) || !str_to_mac(mac, peer) ||
	    (strcmp(mode, "pingpong") && strcmp(mode, "stream")) ||
	    !start_info_cmdline_uint("size", &size) || !start_info_cmdline_uint("ops", &ops) ||
	    size < MIN_FRAME || size > MAX_FRAME) {
		report_fail("command line", "role=a|b peer=MAC mode=pingpong|stream size=60..1514 ops=N");
		return;
	}
	if (!front_init(1))
		return;
	if (!expect_rc("netfront connects", netfront_open(&nf, XBF_FIRST_DEVICE), 0))
		return;
	if (!strcmp(role, "a"))
		role_a(mode, size, ops);
	else
		role_b();
	xprintf("tx %lu rx %lu frames, tx errors %lu rx errors %lu, kicks %lu\n",
		(unsigned long)nf.tx_frames, (unsigned long)nf.rx_frames, (unsigned long)nf.tx_errors,
		(unsigned long)nf.rx_errors, (unsigned long)nf.kicks);
	expect_rc("close", netfront_close(&nf), 0);
}
