/* Line-buffered formatting and the PASS/FAIL/SKIP/RESULT protocol (tests/guests/README.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hypercall.h"
#include "report.h"
#include "string.h"

static char line[160];
static size_t line_len;
static unsigned int passes, fails, skips;

static void console_write(const char *buf, size_t len)
{
	if (xen_cpuid_base) {
		HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
		return;
	}
	/* No Xen (e.g. QEMU checking the boot path): Bochs/QEMU debug console. */
	asm volatile("rep outsb" : "+S"(buf), "+c"(len) : "d"(0xe9) : "memory");
}

static void flush(void)
{
	if (line_len)
		console_write(line, line_len);
	line_len = 0;
}

/* One console_io per line keeps exits at one per line (DESIGN §4). */
static void put(char c)
{
	line[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line))
		flush();
}

static void put_str(const char *s)
{
	while (*s)
		put(*s++);
}

static void put_num(uint64_t v, unsigned int base, bool neg, unsigned int width, char pad)
{
	char tmp[24];
	unsigned int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n) {
		put(pad);
		width--;
	}
	while (n)
		put(tmp[--n]);
}

void vxprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(*fmt);
			continue;
		}
		char pad = ' ';
		unsigned int width = 0;
		bool lng = false;
		if (*++fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned int)(*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng = true, fmt++;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			put_num(lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int), 10, false, width, pad);
			break;
		case 'x':
			put_num(lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int), 16, false, width, pad);
			break;
		case 'p':
			put_str("0x");
			put_num((uintptr_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			put_str(s ? s : "(null)");
			break;
		}
		case 'c':
			put((char)va_arg(ap, int));
			break;
		case '\0':
			return;
		default:
			put(*fmt);
		}
	}
}

void xprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vxprintf(fmt, ap);
	va_end(ap);
}

void report_pass(const char *name)
{
	passes++;
	xprintf("PASS: %s\n", name);
}

void report_fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	fails++;
	if (line_len)	/* a FAIL line must start a line even after a partial xprintf */
		put('\n');
	xprintf("FAIL: %s: ", name);
	va_start(ap, fmt);
	vxprintf(fmt, ap);
	va_end(ap);
	put('\n');
}

void report_skip(const char *name, const char *why)
{
	skips++;
	xprintf("SKIP: %s: %s\n", name, why);
}

bool expect_rc(const char *name, long rc, long expected)
{
	if (rc == expected) {
		report_pass(name);
		return true;
	}
	report_fail(name, "returned %ld, expected %ld", rc, expected);
	return false;
}

_Noreturn void halt_forever(void)
{
	/* Without Xen we are under QEMU checking the boot path: its isa-debug-exit device at
	 * 0xf4 (if configured) ends the run instead of leaving it halted. */
	if (!xen_cpuid_base)
		asm volatile("outb %%al, $0xf4" ::"a"(0));
	for (;;)
		asm volatile("cli; hlt");
}

_Noreturn void test_finish_with(unsigned int reason)
{
	if (line_len)
		put('\n');
	xprintf("RESULT: %s\n", fails ? "FAIL" : passes ? "PASS" : "SKIP");
	if (!xen_cpuid_base)
		halt_forever();
	struct sched_shutdown s = {.reason = fails ? SHUTDOWN_crash : reason};
	long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
	xprintf("SCHEDOP_shutdown returned %ld; halting\n", rc);
	halt_forever();
}

_Noreturn void test_finish(void)
{
	test_finish_with(SHUTDOWN_poweroff);
}
