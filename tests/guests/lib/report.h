/* Result reporting over console_io: PASS/FAIL/SKIP lines, a RESULT line, then SCHEDOP_shutdown. */
#ifndef GUEST_REPORT_H
#define GUEST_REPORT_H

#include <stdarg.h>
#include <stdbool.h>

/* printf subset: %s %c %d %i %u %x %p, 'l'/'z' size, '0' flag and width. Output goes out a
 * line at a time (console_io, or port 0xe9 when there is no Xen). */
void xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vxprintf(const char *fmt, va_list ap);

void report_pass(const char *name);
void report_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_skip(const char *name, const char *why);

/* PASS when rc == expected, else FAIL naming both; returns whether it passed. */
bool expect_rc(const char *name, long rc, long expected);

/* Prints "RESULT: PASS|FAIL|SKIP" and shuts down: poweroff, or crash if anything failed. */
_Noreturn void test_finish(void);

/* Same RESULT line, then shuts down with the given SHUTDOWN_* reason (crash if anything
 * failed). Used by guests whose shutdown reason is what is being tested. */
_Noreturn void test_finish_with(unsigned int reason);

_Noreturn void halt_forever(void);

#endif
