/* The PV console (xencons_interface at HVM_PARAM_CONSOLE_PFN, kicks on HVM_PARAM_CONSOLE_EVTCHN)
 * and COM1's receiver, as a guest driver uses them. The command line picks the mode:
 *   mode=output   lines, a write that wraps the ring, one larger than the ring (waiting for
 *                 space); then the back-end must have consumed everything (the default)
 *   mode=echo     output, then "READY", a line read from the in ring, echoed uppercased
 *   mode=serial   no PV console: "READY" and a line read from COM1 (IRQ 4), echoed uppercased
 *   mode=hostile  impossible indexes on both rings (pvd must ignore them and log), a scribble
 *                 on dom0's out_cons, then normal output again
 * Waits are lib/events.h's `sti; hlt` until the upcall (event channel), COM1's IRQ or a LAPIC
 * timer tick (timeouts and sleeps): no busy loops. tests/integration/console.sh drives the modes. */
#include "test.h"
#include "events.h"
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>

#define SERIAL_VECTOR 0x22
#define IOAPIC 0xfec00000ul
#define COM1 0x3f8
#define TIMEOUT_TICKS (20000 / TICK_MS) /* 20 s of waiting for one thing */

#define BIG_LINES 40
#define BIG_LINE_LEN 72 /* "BIG nn " + 64 pattern bytes + "\n" */

static struct xencons_interface *intf;
static evtchn_port_t port;
static char big[BIG_LINES * BIG_LINE_LEN];

static void mmio_write(unsigned long addr, uint32_t v) { *(volatile uint32_t *)addr = v; }
static void outb(uint16_t p, uint8_t v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static uint8_t inb(uint16_t p)
{
	uint8_t v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static bool wait_until(bool (*cond)(void)) { return evtchn_wait_for(port, cond, TIMEOUT_TICKS); }
static void kick(void) { evtchn_send(port); }

static uint32_t load(XENCONS_RING_IDX *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store(XENCONS_RING_IDX *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static bool out_has_space(void) { return intf->out_prod - load(&intf->out_cons) < sizeof(intf->out); }
static bool out_drained(void) { return load(&intf->out_cons) == intf->out_prod; }
static bool in_has_data(void) { return load(&intf->in_prod) != intf->in_cons; }

static bool failed_write;

/* hvc_xen's __write_console plus domU_write_console's wait for space: copy what fits, publish
 * out_prod, kick; wait for dom0's kick when the ring is full. */
static void cons_write(const char *s, size_t len)
{
	while (len && !failed_write) {
		uint32_t prod = intf->out_prod, cons = load(&intf->out_cons);
		if (prod - cons > sizeof(intf->out)) {
			report_fail("out_ring", "dom0 published out_cons %u with out_prod %u", cons, prod);
			failed_write = true;
			return;
		}
		size_t n = 0;
		while (n < len && prod - cons < sizeof(intf->out))
			intf->out[MASK_XENCONS_IDX(prod++, intf->out)] = s[n++];
		if (n) {
			store(&intf->out_prod, prod);
			kick();
			s += n;
			len -= n;
		} else if (!wait_until(out_has_space)) {
			report_fail("out_ring", "no space for 20 s: dom0 does not consume");
			failed_write = true;
		}
	}
}

static void cons_puts(const char *s) { cons_write(s, strlen(s)); }

static bool setup_pv_console(void)
{
	struct xen_hvm_param p = {.domid = DOMID_SELF, .index = HVM_PARAM_CONSOLE_PFN};
	long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
	uint64_t pfn = p.value;
	p = (struct xen_hvm_param){.domid = DOMID_SELF, .index = HVM_PARAM_CONSOLE_EVTCHN};
	long rc2 = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
	if (rc || rc2 || pfn != 0xfeff1 || p.value == 0 || p.value >= 4096) {
		report_fail("console_params", "rc %ld/%ld pfn %lx evtchn %lu", rc, rc2,
			    (unsigned long)pfn, (unsigned long)p.value);
		return false;
	}
	port = (evtchn_port_t)p.value;
	intf = (struct xencons_interface *)(uintptr_t)(pfn << 12);
	xprintf("console ring at pfn %lx, event channel %u\n", (unsigned long)pfn, port);
	report_pass("console_params");

	return true;
}

/* Output: short lines, a write larger than the ring, a line that straddles the ring's end. */
static void output_test(void)
{
	cons_puts("pv console: hello from the ring\n");
	cons_puts("pv console: second line\n");

	for (unsigned int l = 0; l < BIG_LINES; l++) {
		char *p = big + l * BIG_LINE_LEN;
		p[0] = 'B', p[1] = 'I', p[2] = 'G', p[3] = ' ';
		p[4] = (char)('0' + l / 10), p[5] = (char)('0' + l % 10), p[6] = ' ';
		for (unsigned int i = 0; i < 64; i++)
			p[7 + i] = (char)('!' + (l + i) % 94);
		p[71] = '\n';
	}
	uint32_t before = intf->out_prod;
	cons_write(big, sizeof(big)); /* > 2048: waits for dom0 to make room */
	if (!failed_write && intf->out_prod - before == sizeof(big))
		report_pass("write_larger_than_ring");

	/* Pad (lines of dots) to 8 bytes before the ring's end, then a line that straddles it. */
	static const char dots[] = "...............................................................\n";
	for (uint32_t room; (room = sizeof(intf->out) - MASK_XENCONS_IDX(intf->out_prod, intf->out)) > 8 &&
			    !failed_write;) {
		size_t n = room - 8 < sizeof(dots) - 1 ? room - 8 : sizeof(dots) - 1;
		cons_write(dots + (sizeof(dots) - 1 - n), n);
	}
	uint32_t at = MASK_XENCONS_IDX(intf->out_prod, intf->out);
	cons_puts("WRAP: this line straddles the end of the ring\n");
	if (!failed_write && at + 47 > sizeof(intf->out))
		report_pass("write_wraps");
	else
		report_fail("write_wraps", "line started at ring offset %u", at);

	if (!failed_write && wait_until(out_drained))
		report_pass("out_ring_drained");
	else
		report_fail("out_ring_drained", "out_cons %u out_prod %u", intf->out_cons, intf->out_prod);
}

static char line[120];
static size_t line_len;

/* Reads a line from the in ring (as hvc_xen's domU_read_console: copy, publish in_cons, kick). */
static bool read_ring_line(void)
{
	for (;;) {
		if (!wait_until(in_has_data))
			return false;
		uint32_t cons = intf->in_cons, prod = load(&intf->in_prod);
		if (prod - cons > sizeof(intf->in)) {
			report_fail("in_ring", "in_prod %u is more than a ring past in_cons %u", prod, cons);
			return false;
		}
		bool eol = false;
		while (cons != prod && !eol) {
			char c = intf->in[MASK_XENCONS_IDX(cons++, intf->in)];
			if (c == '\n' || c == '\r')
				eol = true;
			else if (line_len < sizeof(line) - 1)
				line[line_len++] = c;
		}
		store(&intf->in_cons, cons);
		kick();
		if (eol)
			return true;
	}
}

static bool serial_has_data(void) { return inb(COM1 + 5) & 1; }

static bool read_serial_line(void)
{
	for (;;) {
		if (!evtchn_wait_for(0, serial_has_data, TIMEOUT_TICKS))
			return false;
		while (inb(COM1 + 5) & 1) {
			char c = (char)inb(COM1);
			if (c == '\n' || c == '\r')
				return true;
			if (line_len < sizeof(line) - 1)
				line[line_len++] = c;
		}
	}
}

static void uppercase_line(void)
{
	for (size_t i = 0; i < line_len; i++)
		if (line[i] >= 'a' && line[i] <= 'z')
			line[i] = (char)(line[i] - 'a' + 'A');
	line[line_len] = '\0';
}

static void echo_test(void)
{
	cons_puts("READY: type a line\n");
	if (!read_ring_line()) {
		report_fail("input_echo", "no line on the in ring within 20 s");
		return;
	}
	uppercase_line();
	cons_puts("ECHO: ");
	cons_write(line, line_len);
	cons_puts("\n");
	if (line_len && wait_until(out_drained))
		report_pass("input_echo");
	else
		report_fail("input_echo", "line of %zu bytes", line_len);
}

static void serial_test(void)
{
	/* COM1's IRQ 4 to SERIAL_VECTOR through the IOAPIC (edge, fixed, APIC id 0), RX interrupt on. */
	idt_set_gate(SERIAL_VECTOR, eoi_only_entry);
	mmio_write(IOAPIC, 0x10 + 2 * 4);
	mmio_write(IOAPIC + 0x10, SERIAL_VECTOR);
	mmio_write(IOAPIC, 0x11 + 2 * 4);
	mmio_write(IOAPIC + 0x10, 0);
	outb(COM1 + 1, 0x01);
	xprintf("READY: type a line\n");
	if (!read_serial_line()) {
		report_fail("serial_echo", "no line on COM1 within 20 s");
		return;
	}
	uppercase_line();
	static const char prefix[] = "ECHO: ";
	for (const char *p = prefix; *p; p++)
		outb(COM1, (uint8_t)*p);
	for (size_t i = 0; i < line_len; i++)
		outb(COM1, (uint8_t)line[i]);
	outb(COM1, '\n');
	if (line_len)
		report_pass("serial_echo");
	else
		report_fail("serial_echo", "empty line");
}

/* Sets a guest-owned index to an impossible value and kicks 20 times; dom0's index on the same
 * ring must not move. Then puts the index back. */
static void hostile_index(XENCONS_RING_IDX *ours, uint32_t bad, XENCONS_RING_IDX *dom0s,
			  const char *check)
{
	uint32_t saved = *ours, before = load(dom0s);
	store(ours, bad);
	for (int i = 0; i < 20; i++)
		kick();
	sleep_ticks(10);
	if (load(dom0s) == before)
		report_pass(check);
	else
		report_fail(check, "dom0's index moved from %u to %u", before, load(dom0s));
	store(ours, saved);
}

static void hostile_test(void)
{
	cons_puts("hostile: start\n");
	if (!wait_until(out_drained)) {
		report_fail("hostile", "the first line was never consumed");
		return;
	}
	/* out_prod far past out_cons: dom0 must copy nothing and leave out_cons alone. */
	hostile_index(&intf->out_prod, load(&intf->out_cons) + 100000, &intf->out_cons,
		      "hostile_out_prod_ignored");
	/* in_cons past in_prod: dom0 must not write input over it. */
	hostile_index(&intf->in_cons, load(&intf->in_prod) + 5000, &intf->in_prod,
		      "hostile_in_cons_ignored");

	/* Repaired: the ring works again. */
	cons_puts("hostile: RECOVERED\n");
	if (!failed_write && wait_until(out_drained))
		report_pass("ring_recovers");
	else
		report_fail("ring_recovers", "out_cons %u out_prod %u", intf->out_cons, intf->out_prod);

	/* dom0's out_cons rewound: dom0 keeps its own index and never re-reads old bytes. */
	store(&intf->out_cons, intf->out_prod - 40);
	kick();
	sleep_ticks(5);
	cons_puts("hostile: AFTER-SCRIBBLE\n");
	if (!failed_write && wait_until(out_drained))
		report_pass("scribbled_out_cons_harmless");
	else
		report_fail("scribbled_out_cons_harmless", "out_cons %u out_prod %u", intf->out_cons,
			    intf->out_prod);
}

void test_main(void)
{
	char mode[16] = "output";
	cmdline_get(start_info_cmdline(), "mode", mode, sizeof(mode));
	if (!events_init())
		return;
	ticks_init();
	if (!strcmp(mode, "serial")) {
		serial_test();
		return;
	}
	if (!setup_pv_console())
		return;
	if (!strcmp(mode, "hostile")) {
		hostile_test();
		return;
	}
	output_test();
	if (!strcmp(mode, "echo"))
		echo_test();
}
