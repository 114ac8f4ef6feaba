/* SCHEDOP_yield, then SCHEDOP_shutdown with the reason named by "reason=" on the command line. */
#include "test.h"

static const struct {
	const char *name;
	unsigned int reason;
} reasons[] = {
	{"poweroff", SHUTDOWN_poweroff}, {"reboot", SHUTDOWN_reboot},
	{"suspend", SHUTDOWN_suspend},	 {"crash", SHUTDOWN_crash},
	{"watchdog", SHUTDOWN_watchdog}, {"soft_reset", SHUTDOWN_soft_reset},
};

void test_main(void)
{
	char want[16];

	expect_rc("sched_op_yield", HYPERVISOR_sched_op(SCHEDOP_yield, 0), 0);

	if (!cmdline_get(start_info_cmdline(), "reason", want, sizeof(want))) {
		report_fail("sched_shutdown", "no reason=<name> on the command line");
		return;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(reasons); i++) {
		if (!strcmp(want, reasons[i].name)) {
			xprintf("shutting down with reason %s (%u)\n", want, reasons[i].reason);
			test_finish_with(reasons[i].reason);
		}
	}
	report_fail("sched_shutdown", "unknown reason \"%s\"", want);
}
