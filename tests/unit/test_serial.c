/* The 16550A UART at 0x3f8, driven through the ports as a guest does: a bare
 * I/O space, the fake clock, a recorded IRQ 4, and a pipe (or a pty) as the
 * input. Waits for the reader thread are bounded polls of what the device
 * shows (DR, the byte count of --stats), never sleeps that decide a result. */
#define _GNU_SOURCE	/* pipe2, posix_openpt */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devices/char/serial.h"
#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "fake_clock.h"
#include "proc_self.h"

#define BASE		0x3f8
#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define MS		1000000ull
/* @bits on the wire at divisor @div of 1.8432 MHz / 16, in ns rounded up:
 * when the timer's deadline falls. */
#define WIRE_NS(bits, div) \
	(((bits) * (div) * 16 * 1000000000ull + 1843200 - 1) / 1843200)
/* 4 characters of 10 bits at 9600 baud. */
#define TIMEOUT_8N1	WIRE_NS(4 * 10, 12)

static struct memory_region io_root;
static struct address_space *io_as;
static struct object *root;
static struct fake_clock fc;
static struct device_env env;
static struct irq_line isa_irq[ISA_NUM_IRQS];
static struct device *uart;
static bool irq4;
static unsigned raises;
static int pipefd[2] = { -1, -1 };

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	cr_assert_eq(n, 4, "only IRQ 4 may move, not %u", n);
	cr_assert_neq(level, irq4, "the line is set only when it changes");
	raises += level;
	irq4 = level;
}

static void setup(void)
{
	memory_region_init_container(&io_root, "io", 0x10000);
	io_as = address_space_new("io", &io_root);
	root = object_new(TYPE_CONTAINER);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa_irq[i] = (struct irq_line){ .handler = on_irq, .n = i };
	fake_clock_init(&fc, 1000 * MS, 0);
	env = (struct device_env){
		.io_space = &io_root, .clock = &fc.clock, .isa_irq = isa_irq,
	};
	uart = NULL;
	irq4 = false;
	raises = 0;
	pipefd[0] = pipefd[1] = -1;
}

static void teardown(void)
{
	object_free(root);
	cr_assert_null(fc.timers, "no timer outlives the UART");
	address_space_destroy(io_as);
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
}

TestSuite(serial, .init = setup, .fini = teardown);

/* A UART with no output and @input ("none", a path); NULL (and @e) if
 * realize failed. */
static struct device *try_mk(const char *input, const char *irq, struct error *e)
{
	struct object *obj = object_new(TYPE_ISA_SERIAL);

	cr_assert_not_null(obj);
	cr_assert_eq(object_property_set(obj, "path", "none", e), 0, "%s", e->msg);
	cr_assert_eq(object_property_set(obj, "input", input, e), 0, "%s", e->msg);
	cr_assert_eq(object_property_set(obj, "irq", irq, e), 0, "%s", e->msg);
	if (device_realize((struct device *)obj, &env, e)) {
		object_free(obj);
		return NULL;
	}
	object_add_child(root, "serial", obj);
	return (struct device *)obj;
}

static void mk(const char *input)
{
	struct error e = { "" };

	uart = try_mk(input, "4", &e);
	cr_assert_not_null(uart, "%s", e.msg);
}

/* A UART that reads a fresh pipe; write into pipefd[1]. */
static void mk_with_pipe(void)
{
	char path[64];

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pipefd[0]);
	mk(path);
}

static uint8_t rd(unsigned reg)
{
	uint8_t v = 0xee;

	cr_assert_eq(address_space_read(io_as, BASE + reg, &v, 1), MEMTX_OK);
	return v;
}

static void wr(unsigned reg, uint8_t v)
{
	cr_assert_eq(address_space_write(io_as, BASE + reg, &v, 1), MEMTX_OK);
}

/* Unrealize and free every UART made so far. */
static void free_all(void)
{
	object_free(root);
	root = object_new(TYPE_CONTAINER);
	irq4 = false;	/* a new UART's line starts low */
}

static void send(const char *bytes, size_t n)
{
	cr_assert_eq(write(pipefd[1], bytes, n), (ssize_t)n);
}

static void pause_1ms(void)
{
	nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
}

/* The counters of --stats. */
static void stats(unsigned long long *in, unsigned long long *out,
		  unsigned long long *irqs)
{
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	cr_assert_not_null(f);
	serial_print_stats(uart, f);
	fclose(f);
	cr_assert_eq(sscanf(buf, "serial 0x3f8: %llu bytes in, %llu bytes out, "
			    "%llu interrupts", in, out, irqs), 3, "%s", buf);
}

static unsigned long long bytes_in(void)
{
	unsigned long long in, out, irqs;

	stats(&in, &out, &irqs);
	return in;
}

/* Bounded: the reader thread needs microseconds; 10 s means it is stuck. */
static void wait_bytes_in(unsigned long long n)
{
	for (int i = 0; i < 10000 && bytes_in() < n; i++)
		pause_1ms();
	cr_assert_eq(bytes_in(), n, "the reader delivered %llu bytes, not %llu",
		     bytes_in(), n);
}

static uint8_t read_when_ready(void)
{
	for (int i = 0; i < 10000 && !(rd(LSR) & 0x01); i++)
		pause_1ms();
	cr_assert(rd(LSR) & 0x01, "no byte arrived");
	return rd(RBR);
}

static int pipe_unread(void)
{
	int n = -1;

	cr_assert_eq(ioctl(pipefd[0], FIONREAD, &n), 0);
	return n;
}

/* Loopback with the FIFOs on at @trigger_bits and IER @ier. */
static void loopback_fifo(uint8_t trigger_bits, uint8_t ier)
{
	wr(FCR, 0x01 | trigger_bits);
	wr(MCR, 0x10);
	rd(MSR);			/* the deltas of entering loopback */
	wr(IER, ier);
}

Test(serial, reset_state_as_qemu_shows_it)
{
	mk("none");
	cr_assert_eq(rd(IIR), 0x01, "no interrupt, FIFOs off");
	cr_assert_eq(rd(LSR), 0x60, "THRE and TEMT");
	cr_assert_eq(rd(MSR), 0xb0, "DCD, DSR, CTS: a terminal");
	cr_assert_eq(rd(IER), 0);
	cr_assert_eq(rd(LCR), 0);
	cr_assert_eq(rd(MCR), 0);
	wr(LCR, 0x83);
	cr_assert_eq(rd(RBR), 12, "divisor 12: 9600 baud");
	cr_assert_eq(rd(IER), 0);
	wr(RBR, 0x01);
	wr(IER, 0x02);
	wr(LCR, 0x03);
	cr_assert_eq(rd(IER), 0, "the divisor latch is not IER");
	wr(LCR, 0x83);
	cr_assert_eq(rd(RBR), 1);
	cr_assert_eq(rd(IER), 2);
	wr(SCR, 0x5a);
	cr_assert_eq(rd(SCR), 0x5a);
	cr_assert_eq(rd(LCR), 0x83);
	wr(LSR, 0);
	wr(MSR, 0);
	cr_assert_eq(rd(LSR), 0x60, "read-only");
	cr_assert_not(irq4);
}

Test(serial, a_wide_access_is_bytes_in_port_order)
{
	uint8_t w[2] = { 0x34, 0x12 }, r[4] = { 0 };

	mk("none");
	wr(LCR, 0x80);
	cr_assert_eq(address_space_write(io_as, BASE, w, 2), MEMTX_OK);
	cr_assert_eq(rd(RBR), 0x34, "DLL");
	cr_assert_eq(rd(IER), 0x12, "DLM");
	wr(SCR, 0x77);
	cr_assert_eq(address_space_read(io_as, BASE + 4, r, 4), MEMTX_OK);
	cr_assert_eq(r[0], 0x00, "MCR");
	cr_assert_eq(r[1], 0x60, "LSR");
	cr_assert_eq(r[2], 0xb0, "MSR");
	cr_assert_eq(r[3], 0x77, "SCR");
}

Test(serial, iir_reports_sources_in_priority_order)
{
	mk("none");
	loopback_fifo(0x00, 0x00);
	for (int i = 0; i < 17; i++)
		wr(THR, (uint8_t)i);	/* 16 fit, the 17th overruns */
	wr(MCR, 0x11);			/* DTR → DSR: a delta */
	cr_assert_not(irq4, "nothing enabled");
	wr(IER, 0x0f);
	cr_assert(irq4);
	cr_assert_eq(rd(IIR), 0xc6, "line status first");
	cr_assert_eq(rd(LSR), 0x63, "DR, OE, THRE, TEMT");
	cr_assert_eq(rd(LSR), 0x61, "OE cleared by the read");
	cr_assert_eq(rd(IIR), 0xc4, "then received data");
	for (int i = 0; i < 16; i++)
		cr_assert_eq(rd(RBR), i);
	cr_assert_eq(rd(IIR), 0xc2, "then THR empty");
	cr_assert(irq4);
	cr_assert_eq(rd(IIR), 0xc0, "THRE cleared by that read: modem status");
	cr_assert_eq(rd(MSR), 0x22, "DSR and its delta");
	cr_assert_eq(rd(IIR), 0xc1);
	cr_assert_not(irq4);
}

Test(serial, iir_read_clears_thre_only_when_it_is_reported)
{
	mk("none");
	loopback_fifo(0x00, 0x00);
	wr(THR, 'x');
	wr(IER, 0x03);
	cr_assert_eq(rd(IIR), 0xc4, "data hides THRE");
	cr_assert_eq(rd(IIR), 0xc4);
	rd(RBR);
	cr_assert_eq(rd(IIR), 0xc2, "THRE was not cleared by the reads above");
	cr_assert_eq(rd(IIR), 0xc1);
}

Test(serial, thre_interrupt_rules)
{
	mk("none");
	wr(IER, 0x02);
	cr_assert(irq4, "ETBEI set while THRE is 1");
	cr_assert_eq(rd(IIR), 0x02);
	cr_assert_not(irq4);
	cr_assert_eq(rd(IIR), 0x01, "cleared by reading IIR");
	wr(IER, 0x02);
	cr_assert_eq(rd(IIR), 0x01, "ETBEI already set: no new interrupt");
	wr(IER, 0x00);
	wr(IER, 0x02);
	cr_assert_eq(rd(IIR), 0x02, "ETBEI from 0 to 1 again");
	wr(THR, 'a');
	cr_assert(irq4, "sent at once: THR is empty again");
	cr_assert_eq(rd(IIR), 0x02);
	cr_assert_eq(rd(IIR), 0x01);
	wr(IER, 0x00);
	wr(THR, 'b');
	cr_assert_not(irq4, "ETBEI off");
	cr_assert_eq(rd(IIR), 0x01);
	wr(IER, 0x02);
	cr_assert_eq(rd(IIR), 0x02);
	cr_assert_eq(raises, 4);
}

Test(serial, receives_from_a_pipe_one_byte_at_a_time_without_fifo)
{
	mk_with_pipe();
	wr(IER, 0x01);
	send("hi!", 3);
	cr_assert_eq(read_when_ready(), 'h');
	cr_assert_eq(read_when_ready(), 'i');
	cr_assert_eq(read_when_ready(), '!');
	cr_assert_eq(rd(LSR), 0x60, "empty: DR clear, no overrun");
	cr_assert_eq(rd(IIR), 0x01);
	cr_assert_not(irq4);
	cr_assert_eq(raises, 3, "one RDA interrupt per byte");
	cr_assert_eq(bytes_in(), 3);
}

Test(serial, flow_control_keeps_what_the_fifo_cannot_hold_in_the_pipe)
{
	char msg[40];

	mk_with_pipe();
	wr(FCR, 0x01);
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('A' + i);
	send(msg, sizeof(msg));
	wait_bytes_in(SERIAL_FIFO_SIZE);
	cr_assert_eq(pipe_unread(), sizeof(msg) - SERIAL_FIFO_SIZE,
		     "the reader takes no more than the FIFO holds");
	for (unsigned i = 0; i < sizeof(msg); i++)
		cr_assert_eq(read_when_ready(), msg[i], "byte %u", i);
	cr_assert_eq(rd(LSR), 0x60, "none lost: no overrun");
	cr_assert_eq(bytes_in(), sizeof(msg));
}

Test(serial, nothing_is_received_from_the_input_in_loopback)
{
	mk_with_pipe();
	wr(MCR, 0x10);
	send("io", 2);
	wr(THR, 'L');
	cr_assert_eq(read_when_ready(), 'L');
	cr_assert_eq(pipe_unread(), 2, "the receiver is off the wire");
	wr(MCR, 0x00);
	cr_assert_eq(read_when_ready(), 'i');
	cr_assert_eq(read_when_ready(), 'o');
}

Test(serial, fifo_trigger_levels)
{
	static const struct { uint8_t bits; unsigned level; } t[] = {
		{ 0x00, 1 }, { 0x40, 4 }, { 0x80, 8 }, { 0xc0, 14 },
	};

	mk("none");
	for (unsigned k = 0; k < 4; k++) {
		wr(FCR, 0x00);			/* clears the FIFOs */
		loopback_fifo(t[k].bits, 0x01);
		for (unsigned i = 0; i + 1 < t[k].level; i++)
			wr(THR, 'a');
		cr_assert_eq(rd(IIR), 0xc1, "level %u: below it", t[k].level);
		cr_assert_not(irq4);
		cr_assert_eq(rd(LSR) & 0x01, t[k].level > 1, "DR: any byte");
		wr(THR, 'b');
		cr_assert_eq(rd(IIR), 0xc4, "level %u reached", t[k].level);
		cr_assert(irq4);
		rd(RBR);
		cr_assert_eq(rd(IIR), 0xc1, "level %u: below it again", t[k].level);
		cr_assert_not(irq4);
	}
}

Test(serial, overrun_keeps_the_fifo_and_overwrites_the_holding_register)
{
	mk("none");
	wr(MCR, 0x10);
	wr(IER, 0x04);
	wr(THR, 'a');
	cr_assert_not(irq4);
	wr(THR, 'b');
	cr_assert(irq4, "ELSI: overrun");
	cr_assert_eq(rd(IIR), 0x06);
	cr_assert_eq(rd(LSR), 0x63);
	cr_assert_not(irq4);
	cr_assert_eq(rd(RBR), 'b', "without FIFO the new byte replaces the old");
	cr_assert_eq(rd(LSR), 0x60);

	wr(FCR, 0x01);
	for (int i = 0; i < 20; i++)
		wr(THR, (uint8_t)('A' + i));
	cr_assert_eq(rd(LSR), 0x63);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(rd(RBR), 'A' + i, "the FIFO keeps the first 16");
	cr_assert_eq(rd(LSR), 0x60);
}

Test(serial, character_timeout_after_four_character_times)
{
	mk("none");
	wr(LCR, 0x03);				/* 8N1 */
	loopback_fifo(0xc0, 0x01);		/* trigger 14 */
	wr(THR, '1');
	fake_clock_advance(&fc, 3 * MS);
	wr(THR, '2');				/* restarts the timeout */
	fake_clock_advance(&fc, TIMEOUT_8N1 - 1);
	cr_assert_eq(rd(IIR), 0xc1, "not yet: 4 characters since the last");
	cr_assert_not(irq4);
	fake_clock_advance(&fc, 1);
	cr_assert(irq4);
	cr_assert_eq(rd(IIR), 0xcc);
	wr(THR, '3');
	cr_assert_eq(rd(IIR), 0xcc, "a byte does not clear a timeout");
	cr_assert_eq(rd(RBR), '1');
	cr_assert_not(irq4, "reading RBR clears it");
	fake_clock_advance(&fc, TIMEOUT_8N1 - 1);
	cr_assert_eq(rd(IIR), 0xc1);
	fake_clock_advance(&fc, 1);
	cr_assert_eq(rd(IIR), 0xcc, "and restarts it");
	cr_assert_eq(rd(RBR), '2');
	cr_assert_eq(rd(RBR), '3');
	fake_clock_advance(&fc, 10 * TIMEOUT_8N1);
	cr_assert_eq(rd(IIR), 0xc1, "empty: no timeout");
	cr_assert_null(fc.timers);
}

Test(serial, character_time_follows_baud_rate_and_frame)
{
	/* 115200 baud, 7 data bits, parity, 2 stop bits: 11 bits. */
	uint64_t t = WIRE_NS(4 * 11, 1);

	mk("none");
	wr(LCR, 0x80);
	wr(RBR, 1);
	wr(IER, 0);
	wr(LCR, 0x0e);
	loopback_fifo(0x40, 0x01);
	wr(THR, 'x');
	fake_clock_advance(&fc, t - 1);
	cr_assert_eq(rd(IIR), 0xc1);
	fake_clock_advance(&fc, 1);
	cr_assert_eq(rd(IIR), 0xcc);
}

Test(serial, no_timeout_without_fifo_or_without_a_clock)
{
	mk("none");
	wr(MCR, 0x10);
	wr(IER, 0x01);
	wr(THR, 'x');
	cr_assert_eq(rd(IIR), 0x04, "FIFOs off: data at once");
	fake_clock_advance(&fc, 100 * MS);
	cr_assert_eq(rd(IIR), 0x04, "never a timeout");
	cr_assert_null(fc.timers);
	free_all();

	env.clock = NULL;
	mk("none");
	loopback_fifo(0xc0, 0x01);
	wr(THR, 'y');
	cr_assert_eq(rd(IIR), 0xcc, "no clock: the timeout is at once");
}

Test(serial, loopback_maps_modem_lines_and_records_deltas)
{
	mk("none");
	wr(MCR, 0x10);
	cr_assert_eq(rd(MSR), 0x0b, "CTS, DSR, DCD fell on entering loopback");
	cr_assert_eq(rd(MSR), 0x00);
	wr(MCR, 0x1f);
	cr_assert_eq(rd(MSR), 0xfb, "all four up; RI's rise is no delta");
	wr(MCR, 0x1b);
	cr_assert_eq(rd(MSR), 0xb4, "RI's trailing edge: TERI");
	wr(MCR, 0x12);
	cr_assert_eq(rd(MSR), 0x1a, "CTS = RTS stays; DSR, DCD fell");
	wr(IER, 0x08);
	cr_assert_not(irq4);
	wr(MCR, 0x10);
	cr_assert(irq4, "EDSSI: a delta");
	cr_assert_eq(rd(IIR), 0x00);
	cr_assert_eq(rd(MSR), 0x01);
	cr_assert_not(irq4);
	wr(MCR, 0x00);
	cr_assert_eq(rd(MSR), 0xbb, "out of loopback: the terminal's lines");
	cr_assert_eq(rd(MCR), 0x00);
	wr(MCR, 0xff);
	cr_assert_eq(rd(MCR), 0x1f, "bits 5-7 read 0");
}

Test(serial, line_follows_iir)
{
	static const struct { unsigned reg; int val; } ops[] = {
		{ IER, 0x0f }, { MCR, 0x10 }, { FCR, 0x41 }, { THR, 1 },
		{ THR, 2 }, { LSR, -1 }, { THR, 3 }, { THR, 4 }, { RBR, -1 },
		{ MSR, -1 }, { MCR, 0x1c }, { IER, 0x04 }, { MSR, -1 },
		{ IER, 0x0f }, { FCR, 0x47 }, { IER, 0x00 }, { IER, 0x0b },
	};

	mk("none");
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		bool level;

		if (ops[i].val < 0)
			rd(ops[i].reg);
		else
			wr(ops[i].reg, (uint8_t)ops[i].val);
		level = irq4;
		cr_assert_eq(level, !(rd(IIR) & 1), "after op %u", i);
	}
	cr_assert_gt(raises, 3);
}

Test(serial, fcr_clears_and_only_programs_with_the_enable_bit)
{
	mk("none");
	loopback_fifo(0x00, 0x01);
	for (int i = 0; i < 5; i++)
		wr(THR, 'z');
	cr_assert(irq4);
	wr(FCR, 0x03);			/* clear RX, FIFOs stay on */
	cr_assert_eq(rd(LSR), 0x60, "RX FIFO empty");
	cr_assert_eq(rd(IIR), 0xc1);
	cr_assert_not(irq4);
	wr(THR, 'q');
	wr(FCR, 0xc0);			/* no enable bit: FIFOs off, cleared */
	cr_assert_eq(rd(IIR) & 0xc0, 0, "FIFOs off");
	cr_assert_eq(rd(LSR), 0x60, "turning the FIFOs off clears them");
	wr(FCR, 0x01);
	for (int i = 0; i < 2; i++)
		wr(THR, 'z');
	cr_assert_eq(rd(IIR), 0xc4, "trigger 1");
	wr(FCR, 0x00);
	cr_assert_eq(rd(LSR), 0x60);
}

Test(serial, fifo_enable_makes_thre_due)
{
	mk("none");
	wr(IER, 0x02);
	cr_assert_eq(rd(IIR), 0x02);
	cr_assert_eq(rd(IIR), 0x01);
	wr(FCR, 0x01);
	cr_assert_eq(rd(IIR), 0xc2, "the first THRE after enabling is immediate");
	wr(FCR, 0x07);
	cr_assert_eq(rd(IIR), 0xc1, "no change of the enable bit: none");
}

Test(serial, reader_thread_stops_on_unrealize)
{
	unsigned fds = count_dir("/proc/self/fd"), tasks = count_dir("/proc/self/task");

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	fds += 2;
	for (int round = 0; round < 2; round++) {
		char path[64];
		struct error e = { "" };

		snprintf(path, sizeof(path), "/proc/self/fd/%d", pipefd[0]);
		uart = try_mk(path, "4", &e);
		cr_assert_not_null(uart, "%s", e.msg);
		cr_assert_gt(count_dir("/proc/self/task"), tasks, "a reader runs");
		if (round) {			/* blocked on a full FIFO */
			send("0123456789", 10);
			wait_bytes_in(1);
		}
		free_all();		/* round 0: blocked in poll(), woken */
		cr_assert_eq(count_dir("/proc/self/fd"), fds, "no fd left open");
		cr_assert_eq(count_dir("/proc/self/task"), tasks, "no thread left");
	}
}

Test(serial, eof_ends_input_and_keeps_what_came_before)
{
	mk_with_pipe();
	send("ab", 2);
	close(pipefd[1]);
	pipefd[1] = -1;
	cr_assert_eq(read_when_ready(), 'a');
	cr_assert_eq(read_when_ready(), 'b');
	cr_assert_eq(rd(LSR), 0x60);
}

Test(serial, bad_properties_and_inputs_fail_realize)
{
	struct error e = { "" };
	unsigned fds = count_dir("/proc/self/fd");

	cr_assert_null(try_mk("none", "16", &e));
	cr_assert(strstr(e.msg, "irq 16"), "%s", e.msg);
	cr_assert_null(try_mk("/nonexistent/tty", "4", &e));
	cr_assert(strstr(e.msg, "/nonexistent/tty"), "%s", e.msg);
	cr_assert_eq(count_dir("/proc/self/fd"), fds);
	cr_assert_null(io_root.subregions, "nothing mapped");
}

Test(serial, output_and_stats)
{
	char path[] = "/tmp/test_serial_XXXXXX", buf[16] = "";
	struct object *obj = object_new(TYPE_ISA_SERIAL);
	struct error e = { "" };
	unsigned long long in, out, irqs;
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(object_property_set(obj, "path", path, &e), 0, "%s", e.msg);
	cr_assert_eq(device_realize((struct device *)obj, &env, &e), 0, "%s", e.msg);
	object_add_child(root, "serial", obj);
	uart = (struct device *)obj;
	wr(IER, 0x02);
	wr(THR, 'o');
	wr(THR, 'k');
	wr(MCR, 0x10);
	wr(THR, '!');			/* loopback: not on the wire */
	stats(&in, &out, &irqs);
	cr_assert_eq(in, 0);
	cr_assert_eq(out, 2);
	cr_assert_eq(irqs, 1, "the line rose once and stayed up");
	free_all();
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fread(buf, 1, sizeof(buf), f), 2);
	fclose(f);
	unlink(path);
	cr_assert_str_eq(buf, "ok");
}

Test(serial, a_terminal_is_raw_while_in_use_and_restored)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
	struct termios t;
	struct sigaction sa;
	char *name;

	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	name = ptsname(master);
	cr_assert_not_null(name);
	slave = open(name, O_RDWR | O_NOCTTY);
	cr_assert_geq(slave, 0);
	cr_assert_eq(tcgetattr(slave, &t), 0);
	cr_assert(t.c_lflag & ICANON, "a pty starts cooked");

	cr_assert_eq(sigaction(SIGHUP, NULL, &sa), 0);
	cr_assert_eq(sa.sa_handler, SIG_DFL);
	mk(name);
	cr_assert_eq(sigaction(SIGHUP, NULL, &sa), 0);
	cr_assert_neq(sa.sa_handler, SIG_DFL, "a hangup restores the terminal");
	cr_assert_eq(tcgetattr(slave, &t), 0);
	cr_assert_not(t.c_lflag & (ICANON | ECHO), "raw while the UART reads it");
	cr_assert_not(t.c_iflag & ICRNL, "Enter reaches the guest as CR");
	cr_assert(t.c_lflag & ISIG, "Ctrl-C still ends the VMM");
	cr_assert_eq(write(master, "\r", 1), 1);
	cr_assert_eq(read_when_ready(), '\r');

	free_all();
	cr_assert_eq(tcgetattr(slave, &t), 0);
	cr_assert(t.c_lflag & ICANON, "restored on unrealize");
	cr_assert_eq(sigaction(SIGHUP, NULL, &sa), 0);
	cr_assert_eq(sa.sa_handler, SIG_DFL, "and the signal is left as it was");
	close(slave);
	close(master);
}
