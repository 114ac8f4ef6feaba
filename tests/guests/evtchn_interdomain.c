/* Two guests find each other through xenstore and ping-pong events over an interdomain channel.
 * role=a: publishes data/evtchn-peer = "a", finds the guest that published "b", allocates an
 * unbound port for it and publishes "a:<port>"; then answers every ping with a pong.
 * role=b: publishes "b", finds "a:<port>", binds it, and sends rounds= pings, each waiting for
 * its pong. The nodes are made readable to every domain (SET_PERMS r<self>: owner us, others
 * read); a watch on /local/domain tells each guest when the other's node appears (guests see
 * events only for nodes they may read). Run by tests/integration/evtchn-interdomain.sh. */
#include "test.h"
#include "events.h"
#include "xenstore.h"

#define MAX_DOMID 32

static domid_t self;

/* Looks for another domain whose data/evtchn-peer starts with `want`; returns its domid (0:
 * none yet) and copies the value. */
static domid_t scan(const char *want, char *value, size_t size)
{
	char path[48], num[12];
	for (unsigned int d = 1; d <= MAX_DOMID; d++) {
		if (d == self)
			continue;
		u32_to_str(num, d);
		size_t n = strlen(num);
		memcpy(path, "/local/domain/", 14);
		memcpy(path + 14, num, n);
		memcpy(path + 14 + n, "/data/evtchn-peer", 18);
		if (xs_read(0, path))
			continue;	/* EACCES or ENOENT: not a peer (yet) */
		size_t w = strlen(want);
		if (!memcmp(xs_reply, want, w) && strlen(xs_reply) < size) {
			memcpy(value, xs_reply, strlen(xs_reply) + 1);
			return (domid_t)d;
		}
	}
	return 0;
}

/* Scans now and after every change we may see below /local/domain. */
static domid_t find_peer(const char *want, char *value, size_t size)
{
	for (;;) {
		domid_t d = scan(want, value, size);
		if (d)
			return d;
		const char *path, *token;
		if (xs_wait_event(&path, &token)) {
			report_fail("find_peer", "xenstore connection lost");
			return 0;
		}
	}
}

static bool publish(const char *value)
{
	char perms[12];
	perms[0] = 'r';
	u32_to_str(perms + 1, self);
	return xs_write(0, "data/evtchn-peer", value) == 0 &&
	       xs_set_perms(0, "data/evtchn-peer", perms) == 0;
}

static void role_a(unsigned int rounds)
{
	char value[32];
	domid_t b = find_peer("b", value, sizeof(value));
	if (!b)
		return;
	xprintf("a: peer b is domain %u\n", b);
	evtchn_port_t port;
	long rc = evtchn_alloc_unbound(b, &port);
	if (rc) {
		report_fail("alloc_unbound_for_peer", "rc %ld", rc);
		return;
	}
	report_pass("alloc_unbound_for_peer");
	char mine[16] = "a:";
	u32_to_str(mine + 2, port);
	if (!publish(mine)) {
		report_fail("publish_port", "%s", xs_error);
		return;
	}
	xprintf("a: published port %u\n", port);
	for (unsigned int i = 0; i < rounds; i++) {
		evtchn_wait(port);
		evtchn_clear(port);
		if ((rc = evtchn_send(port))) {
			report_fail("pong", "round %u: send rc %ld", i, rc);
			return;
		}
	}
	xprintf("a: answered %u pings\n", rounds);
	report_pass("ping_pong");
}

static void role_b(unsigned int rounds)
{
	char value[32];
	domid_t a = find_peer("a:", value, sizeof(value));
	if (!a)
		return;
	unsigned int remote;
	if (!str_to_u32(value + 2, &remote)) {
		report_fail("peer_port", "bad value \"%s\"", value);
		return;
	}
	evtchn_port_t port;
	long rc = evtchn_bind_interdomain(a, remote, &port);
	if (rc) {
		report_fail("bind_interdomain_to_peer", "domain %u port %u: rc %ld", a, remote, rc);
		return;
	}
	xprintf("b: bound domain %u port %u as port %u\n", a, remote, port);
	report_pass("bind_interdomain_to_peer");
	for (unsigned int i = 0; i < rounds; i++) {
		evtchn_clear(port);
		if ((rc = evtchn_send(port))) {
			report_fail("ping", "round %u: send rc %ld", i, rc);
			return;
		}
		evtchn_wait(port);
	}
	evtchn_clear(port);
	xprintf("b: %u pings answered\n", rounds);
	report_pass("ping_pong");
}

void test_main(void)
{
	char role[4], n[12];
	unsigned int rounds = 100;
	if (!cmdline_get(start_info_cmdline(), "role", role, sizeof(role)) ||
	    (strcmp(role, "a") && strcmp(role, "b"))) {
		report_fail("role", "no role=a|b on the command line");
		return;
	}
	if (cmdline_get(start_info_cmdline(), "rounds", n, sizeof(n)) && !str_to_u32(n, &rounds))
		rounds = 100;
	if (!events_init() || !xs_init())
		return;
	self = self_domid();
	xs_expect_ok("watch_domains", xs_watch("/local/domain", "peer"));
	if (!strcmp(role, "b") && !publish("b")) {
		report_fail("publish", "%s", xs_error);
		return;
	}
	if (!strcmp(role, "a"))
		role_a(rounds);
	else
		role_b(rounds);
}
