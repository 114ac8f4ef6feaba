/* An echo host on a bridge: answers ARP for ip=, ICMP echo requests, echoes UDP datagrams to
 * any port and TCP data (a minimal, one-connection-at-a-time echo server), until a UDP datagram
 * "quit" arrives. A peer in the test's network namespace checks it gets its bytes back
 * (tests/integration/net.sh). Prints NET_ECHO_READY once the device is connected. */
#include "test.h"
#include "front.h"
#include "netfront.h"

#define ETH_HDR 14
#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define OUR_ISN 0x10000000u
#define IDLE_MS 120000

static struct netfront nf;
static uint8_t our_ip[4];
static uint8_t in[2048] __attribute__((aligned(8)));
static uint8_t out[2048] __attribute__((aligned(8)));
static unsigned int arps, pings, udps, tcp_segments, tcp_bytes;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }

static bool parse_ip(const char *s, uint8_t ip[4])
{
	for (unsigned int i = 0; i < 4; i++) {
		unsigned int v = 0, digits = 0;
		for (; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
			v = v * 10 + (unsigned int)(*s - '0');
		if (!digits || v > 255 || *s != (i == 3 ? '\0' : '.'))
			return false;
		ip[i] = (uint8_t)v;
		s++;
	}
	return true;
}

/* The Internet checksum of len bytes plus `sum` (a pseudo-header's), 16-bit words read as
 * big-endian: summed as 32-bit little-endian words, which folds to the byte-swapped result. */
static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum_be)
{
	uint64_t s = 0;
	for (; len >= 4; p += 4, len -= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		s += w;
	}
	if (len >= 2) {
		s += (uint32_t)(p[0] | p[1] << 8);
		p += 2;
		len -= 2;
	}
	if (len)
		s += p[0];
	s += (uint64_t)__builtin_bswap32(sum_be);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	uint16_t le = (uint16_t)~s;
	return (uint16_t)(le >> 8 | le << 8);
}

static void send_frame(size_t len)
{
	if (len < 60) {
		memset(out + len, 0, 60 - len);
		len = 60;
	}
	int rc = netfront_send(&nf, out, len);
	if (rc)
		xprintf("echo: send failed: %d\n", rc);
}

/* Ethernet header back to the sender. */
static void reply_eth(uint16_t type)
{
	memcpy(out, in + 6, 6);
	memcpy(out + 6, nf.mac, 6);
	put16(out + 12, type);
}

static void arp(const uint8_t *a, size_t len)
{
	/* Ethernet/IPv4 request for our address. */
	if (len < 28 || get16(a) != 1 || get16(a + 2) != ETH_IP || a[4] != 6 || a[5] != 4 ||
	    get16(a + 6) != 1 || memcmp(a + 24, our_ip, 4))
		return;
	reply_eth(ETH_ARP);
	uint8_t *r = out + ETH_HDR;
	memcpy(r, a, 6);
	put16(r + 6, 2);
	memcpy(r + 8, nf.mac, 6);
	memcpy(r + 14, our_ip, 4);
	memcpy(r + 18, a + 8, 10);	/* the asker's MAC and IP */
	send_frame(ETH_HDR + 28);
	arps++;
}

/* Our reply's IPv4 header: the request's, addresses swapped, for `payload` bytes after it. */
static uint8_t *reply_ip(const uint8_t *ip, size_t payload)
{
	reply_eth(ETH_IP);
	uint8_t *r = out + ETH_HDR;
	memset(r, 0, 20);
	r[0] = 0x45;
	put16(r + 2, (uint16_t)(20 + payload));
	put16(r + 4, get16(ip + 4));
	r[8] = 64;
	r[9] = ip[9];
	memcpy(r + 12, our_ip, 4);
	memcpy(r + 16, ip + 12, 4);
	put16(r + 10, csum(r, 20, 0));
	return r + 20;
}

/* The TCP/UDP pseudo-header's sum (big-endian words added as numbers). */
static uint32_t pseudo(const uint8_t *ip_reply, uint8_t proto, size_t len)
{
	uint32_t s = 0;
	for (unsigned int i = 12; i < 20; i += 2)
		s += get16(ip_reply + i);
	return s + proto + (uint32_t)len;
}

static void icmp(const uint8_t *ip, const uint8_t *p, size_t len)
{
	if (len < 8 || p[0] != 8)
		return;
	uint8_t *r = reply_ip(ip, len);
	memcpy(r, p, len);
	r[0] = 0;
	put16(r + 2, 0);
	put16(r + 2, csum(r, len, 0));
	send_frame(ETH_HDR + 20 + len);
	pings++;
}

/* Returns true for the datagram "quit". */
static bool udp(const uint8_t *ip, const uint8_t *p, size_t len)
{
	if (len < 8 || get16(p + 4) < 8 || get16(p + 4) > len)
		return false;
	len = get16(p + 4);
	uint8_t *r = reply_ip(ip, len);
	put16(r, get16(p + 2));
	put16(r + 2, get16(p));
	put16(r + 4, (uint16_t)len);
	put16(r + 6, 0);	/* no checksum: allowed for UDP over IPv4 */
	memcpy(r + 8, p + 8, len - 8);
	send_frame(ETH_HDR + 20 + len);
	udps++;
	return len - 8 >= 4 && !memcmp(p + 8, "quit", 4);
}

/* Stateless echo for one peer doing request/response: our sequence number is whatever the
 * peer acknowledged (it has all we sent), SYN and FIN are answered in kind. */
static void tcp(const uint8_t *ip, const uint8_t *p, size_t len)
{
	if (len < 20 || (p[12] >> 4) < 5 || (size_t)(p[12] >> 4) * 4 > len)
		return;
	size_t hl = (size_t)(p[12] >> 4) * 4, data = len - hl;
	uint8_t flags = p[13];
	uint32_t seq = get32(p + 4), ack = get32(p + 8);
	uint8_t rflags;
	uint32_t rseq, rack;
	if (flags & TCP_RST)
		return;
	if ((flags & TCP_SYN) && !(flags & TCP_ACK)) {
		rflags = TCP_SYN | TCP_ACK, rseq = OUR_ISN, rack = seq + 1, data = 0;
	} else if (flags & TCP_FIN) {
		rflags = TCP_FIN | TCP_ACK, rseq = ack, rack = seq + (uint32_t)data + 1, data = 0;
	} else if (data) {
		rflags = TCP_PSH | TCP_ACK, rseq = ack, rack = seq + (uint32_t)data;
	} else {
		return;	/* a bare ACK */
	}
	uint8_t *r = reply_ip(ip, 20 + data);
	memset(r, 0, 20);
	put16(r, get16(p + 2));
	put16(r + 2, get16(p));
	put32(r + 4, rseq);
	put32(r + 8, rack);
	r[12] = 5 << 4;
	r[13] = rflags;
	put16(r + 14, 8192);
	memcpy(r + 20, p + hl, data);
	put16(r + 16, csum(r, 20 + data, pseudo(out + ETH_HDR, PROTO_TCP, 20 + data)));
	send_frame(ETH_HDR + 20 + 20 + data);
	tcp_segments++;
	tcp_bytes += (unsigned int)data;
}

/* Returns true when the peer said quit. */
static bool handle(size_t len)
{
	if (len < ETH_HDR)
		return false;
	uint16_t type = get16(in + 12);
	const uint8_t *ip = in + ETH_HDR;
	if (type == ETH_ARP)
		arp(ip, len - ETH_HDR);
	if (type != ETH_IP || len < ETH_HDR + 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5 ||
	    memcmp(ip + 16, our_ip, 4) || (get16(ip + 6) & 0x3fff))	/* fragments: not ours */
		return false;
	size_t ihl = (size_t)(ip[0] & 15) * 4, total = get16(ip + 2);
	if (total < ihl || total > len - ETH_HDR)
		return false;
	const uint8_t *p = ip + ihl;
	size_t plen = total - ihl;
	switch (ip[9]) {
	case PROTO_ICMP:
		icmp(ip, p, plen);
		break;
	case PROTO_UDP:
		return udp(ip, p, plen);
	case PROTO_TCP:
		tcp(ip, p, plen);
		break;
	}
	return false;
}

void test_main(void)
{
	char ip[20];
	if (!cmdline_get(start_info_cmdline(), "ip", ip, sizeof(ip)) || !parse_ip(ip, our_ip)) {
		report_fail("command line", "needs ip=A.B.C.D");
		return;
	}
	if (!front_init(1))
		return;
	if (!expect_rc("netfront connects", netfront_open(&nf, XBF_FIRST_DEVICE), 0))
		return;
	xprintf("NET_ECHO_READY mac %02x:%02x:%02x:%02x:%02x:%02x ip %s\n", nf.mac[0], nf.mac[1],
		nf.mac[2], nf.mac[3], nf.mac[4], nf.mac[5], ip);
	for (;;) {
		int n = netfront_recv(&nf, in, sizeof(in), IDLE_MS);
		if (n < 0) {
			report_fail("echo", "receive: %d", n);
			break;
		}
		if (handle((size_t)n < sizeof(in) ? (size_t)n : sizeof(in)))
			break;
	}
	xprintf("answered %u ARP requests, %u pings, %u UDP datagrams, %u TCP segments (%u bytes)\n",
		arps, pings, udps, tcp_segments, tcp_bytes);
	if (arps)
		report_pass("arp");
	else
		report_fail("arp", "no request for our address");
	if (udps)
		report_pass("udp echo");
	else
		report_fail("udp echo", "no datagram");
	if (pings)
		report_pass("icmp echo");
	if (tcp_bytes)
		report_pass("tcp echo");
	expect_rc("close", netfront_close(&nf), 0);
}
