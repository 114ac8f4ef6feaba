/* A PV guest's shutdown handler, as Linux's xenbus has it: it announces control/feature-*,
 * watches control/shutdown, and on "poweroff" or "reboot" clears the node in a transaction
 * (the acknowledgement dom0 waits for) and shuts down with that reason. With ignore=1 on the
 * command line it watches but never acts (the timeout and -F cases). Driven by
 * tests/integration/shutdown-watch.sh through pvctl shutdown/reboot. */
#include "test.h"
#include "events.h"
#include "xenstore.h"

/* Reads and clears control/shutdown in one transaction; cmd gets what was there ("" if
 * nothing). Returns 0 or a negative errno. */
static int take_command(char *cmd, size_t size, bool clear)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		uint32_t tx;
		int rc = xs_transaction_start(&tx);
		if (rc)
			return rc;
		rc = xs_read(tx, "control/shutdown");
		if (rc) {
			xs_transaction_end(tx, false);
			return rc;
		}
		size_t n = strnlen(xs_reply, size - 1);
		memcpy(cmd, xs_reply, n);
		cmd[n] = 0;
		if (!n || !clear) {
			xs_transaction_end(tx, false);
			return 0;
		}
		if ((rc = xs_write(tx, "control/shutdown", "")))
			return rc;
		rc = xs_transaction_end(tx, true);
		if (rc != -XEN_EAGAIN)
			return rc;
	}
	return -XEN_EAGAIN;
}

void test_main(void)
{
	char opt[4];
	bool ignore = cmdline_get(start_info_cmdline(), "ignore", opt, sizeof(opt)) && opt[0] == '1';
	if (!events_init() || !xs_init())
		return;
	xs_expect_ok("feature_poweroff", xs_write(0, "control/feature-poweroff", "1"));
	xs_expect_ok("feature_reboot", xs_write(0, "control/feature-reboot", "1"));
	if (!xs_expect_ok("watch_control_shutdown", xs_watch("control/shutdown", "shutdown")))
		return;
	xprintf("waiting for control/shutdown%s\n", ignore ? " (and ignoring it)" : "");
	for (;;) {
		const char *path, *token;
		int rc = xs_wait_event(&path, &token);
		if (rc) {
			report_fail("wait_for_control_shutdown", "rc %d", rc);
			return;
		}
		char cmd[16];
		if ((rc = take_command(cmd, sizeof(cmd), !ignore))) {
			report_fail("read_control_shutdown", "rc %d (%s)", rc, xs_error);
			return;
		}
		if (!cmd[0])
			continue;	/* the initial event, or our own clearing */
		if (ignore) {
			xprintf("ignoring \"%s\"\n", cmd);
			continue;
		}
		xprintf("control/shutdown says \"%s\"; acknowledged\n", cmd);
		if (!strcmp(cmd, "poweroff")) {
			report_pass("poweroff_requested");
			test_finish_with(SHUTDOWN_poweroff);
		}
		if (!strcmp(cmd, "reboot")) {
			report_pass("reboot_requested");
			test_finish_with(SHUTDOWN_reboot);
		}
		report_fail("control_shutdown", "unknown command \"%s\"", cmd);
		return;
	}
}
