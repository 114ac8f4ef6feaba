/* Xenstore over the ring as a guest sees it: its own entries, node operations, permissions,
 * a watch, transactions with a conflict, and Xen's error strings. */
#include "test.h"
#include "events.h"
#include "xenstore.h"

static char buf[160];

/* buf = a + b (+ c), for absolute paths. */
static const char *cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	if (la + lb + lc + 1 > sizeof(buf))
		return "";
	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	memcpy(buf + la + lb, c, lc + 1);
	return buf;
}

static void own_entries(domid_t id, char *dompath, size_t size)
{
	char want[64];
	if (cmdline_get(start_info_cmdline(), "expect_name", want, sizeof(want)))
		xs_expect_value("read_own_name", xs_read(0, "name"), want);
	else
		report_fail("read_own_name", "no expect_name= on the command line");

	char num[12];
	u32_to_str(num, id);
	xs_expect_value("read_own_domid", xs_read(0, "domid"), num);

	int rc = xs_get_domain_path(id);
	xs_expect_value("get_domain_path", rc, cat3("/local/domain/", num, ""));
	size_t n = strnlen(xs_reply, size - 1);
	memcpy(dompath, xs_reply, n);
	dompath[n] = 0;
	xs_expect_value("read_absolute_path", xs_read(0, cat3(dompath, "/name", "")), want);
	xs_expect_value("read_memory_target", xs_read(0, "memory/target"), "32768");
	if (xs_directory(0, "control") == 0 && xs_reply_has("shutdown") &&
	    xs_reply_has("feature-poweroff") && xs_reply_has("feature-reboot"))
		report_pass("control_nodes");
	else
		report_fail("control_nodes", "directory control: \"%s\" (%s)", xs_reply, xs_error);
}

static void node_operations(void)
{
	xs_expect_ok("write", xs_write(0, "data/test/a", "hello"));
	xs_expect_value("read_back", xs_read(0, "data/test/a"), "hello");
	xs_expect_ok("mkdir", xs_mkdir(0, "data/test/dir"));
	int rc = xs_directory(0, "data/test");
	if (rc == 0 && xs_reply_count() == 2 && xs_reply_has("a") && xs_reply_has("dir"))
		report_pass("directory");
	else
		report_fail("directory", "rc %d, %u entries", rc, xs_reply_count());
	xs_expect_ok("rm", xs_rm(0, "data/test/a"));
	xs_expect_err("read_removed", xs_read(0, "data/test/a"), "ENOENT");
	rc = xs_directory(0, "data/test");
	if (rc == 0 && xs_reply_count() == 1 && xs_reply_has("dir"))
		report_pass("directory_after_rm");
	else
		report_fail("directory_after_rm", "rc %d, %u entries", rc, xs_reply_count());
	xs_expect_err("read_missing", xs_read(0, "data/no/such/node"), "ENOENT");
}

static void errors(const char *dompath)
{
	xs_expect_err("read_dom0_private", xs_read(0, "/local/domain/0/name"), "EACCES");
	xs_expect_err("write_dom0_private", xs_write(0, "/local/domain/0/data-x", "1"), "EACCES");
	xs_expect_err("write_readonly_own_node", xs_write(0, "name", "renamed"), "EACCES");
	xs_expect_err("path_double_slash", xs_read(0, "data//x"), "EINVAL");
	xs_expect_err("path_bad_char", xs_read(0, "data/bad path"), "EINVAL");
	xs_expect_err("path_trailing_slash", xs_read(0, cat3(dompath, "/data/", "")), "EINVAL");
	xs_expect_err("unwatch_unknown", xs_unwatch("data/never", "tok"), "ENOENT");
	xs_expect_err("transaction_end_unknown", xs_transaction_end(4242, true), "ENOENT");
}

static void permissions(domid_t id)
{
	char n_self[12], r_self[12];
	n_self[0] = 'n';
	u32_to_str(n_self + 1, id);
	r_self[0] = 'r';
	u32_to_str(r_self + 1, id);

	int rc = xs_get_perms(0, "name");
	if (rc == 0 && xs_reply_count() == 2 && !strcmp(xs_reply, "n0") && xs_reply_has(r_self))
		report_pass("get_perms_readonly_node");
	else
		report_fail("get_perms_readonly_node", "rc %d \"%s\" (%u entries)", rc, xs_reply,
			    xs_reply_count());
	/* Created by us below data/ (ours): we own it, others get nothing. */
	rc = xs_get_perms(0, "data/test/dir");
	if (rc == 0 && xs_reply_count() == 1 && !strcmp(xs_reply, n_self))
		report_pass("get_perms_own_node");
	else
		report_fail("get_perms_own_node", "rc %d \"%s\"", rc, xs_reply);
	xs_expect_ok("set_perms", xs_set_perms(0, "data/test/dir", cat3(r_self, ",n0", "")));
	rc = xs_get_perms(0, "data/test/dir");
	if (rc == 0 && xs_reply_count() == 2 && !strcmp(xs_reply, r_self) && xs_reply_has("n0"))
		report_pass("get_perms_after_set");
	else
		report_fail("get_perms_after_set", "rc %d \"%s\"", rc, xs_reply);
	xs_expect_err("set_perms_not_owner", xs_set_perms(0, "name", r_self), "EACCES");
	xs_expect_err("set_perms_give_away", xs_set_perms(0, "data/test/dir", "n0"), "EPERM");
}

static bool expect_event(const char *check, const char *path, const char *token)
{
	const char *p, *t;
	int rc = xs_wait_event(&p, &t);
	if (rc == 0 && !strcmp(p, path) && !strcmp(t, token)) {
		report_pass(check);
		return true;
	}
	report_fail(check, "rc %d, event \"%s\" \"%s\", expected \"%s\" \"%s\"", rc, rc ? "" : p,
		    rc ? "" : t, path, token);
	return false;
}

static void watches(void)
{
	xs_expect_ok("watch", xs_watch("data/test/w", "tok1"));
	expect_event("watch_initial_event", "data/test/w", "tok1");
	xs_expect_ok("write_watched_child", xs_write(0, "data/test/w/x", "1"));
	expect_event("watch_fires_on_child", "data/test/w/x", "tok1");
	xs_expect_ok("write_watched_node", xs_write(0, "data/test/w", "2"));
	expect_event("watch_fires_on_node", "data/test/w", "tok1");
	xs_expect_ok("unwatch", xs_unwatch("data/test/w", "tok1"));
	/* Our own write's events come before its reply: none means none. */
	xs_expect_ok("write_after_unwatch", xs_write(0, "data/test/w/y", "3"));
	if (!xs_event_queued())
		report_pass("no_event_after_unwatch");
	else
		report_fail("no_event_after_unwatch", "an event arrived");
}

static void transactions(void)
{
	uint32_t tx;
	xs_expect_ok("tx_setup", xs_write(0, "data/test/t", "before"));
	if (!xs_expect_ok("tx_start", xs_transaction_start(&tx)))
		return;
	xs_expect_value("tx_read", xs_read(tx, "data/test/t"), "before");
	xs_expect_ok("tx_write", xs_write(tx, "data/test/t", "inside"));
	xs_expect_value("tx_write_is_private", xs_read(0, "data/test/t"), "before");
	xs_expect_ok("write_outside_tx", xs_write(0, "data/test/t", "outside"));
	xs_expect_err("tx_commit_conflict", xs_transaction_end(tx, true), "EAGAIN");
	xs_expect_value("tx_conflict_applied_nothing", xs_read(0, "data/test/t"), "outside");

	if (xs_expect_ok("tx2_start", xs_transaction_start(&tx))) {
		xs_expect_ok("tx2_write", xs_write(tx, "data/test/t2", "committed"));
		xs_expect_ok("tx2_commit", xs_transaction_end(tx, true));
		xs_expect_value("tx2_visible", xs_read(0, "data/test/t2"), "committed");
	}
	if (xs_expect_ok("tx3_start", xs_transaction_start(&tx))) {
		xs_expect_ok("tx3_write", xs_write(tx, "data/test/t3", "aborted"));
		xs_expect_ok("tx3_abort", xs_transaction_end(tx, false));
		xs_expect_err("tx3_not_applied", xs_read(0, "data/test/t3"), "ENOENT");
	}
}

void test_main(void)
{
	if (!events_init() || !xs_init())
		return;
	domid_t id = self_domid();
	if (id == 0) {
		report_fail("self_domid", "the HVM CPUID leaf gives no domid");
		return;
	}
	char dompath[64];
	own_entries(id, dompath, sizeof(dompath));
	node_operations();
	errors(dompath);
	permissions(id);
	watches();
	transactions();
	xs_expect_ok("rm_subtree", xs_rm(0, "data/test"));
	xs_expect_err("subtree_gone", xs_read(0, "data/test/dir"), "ENOENT");
}
