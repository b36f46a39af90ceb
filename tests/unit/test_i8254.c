/* The 8254 PIT through its ports, as a guest drives it, on a fake clock:
 * time is counted in CLK ticks from 0, and at(k) moves the clock to the
 * instant tick k happens (firing the timers due on the way). IRQ 0 goes to
 * a recorder that counts rising edges. */
#define _GNU_SOURCE	/* fmemopen */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "devices/timer/i8254.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/unit/fake_clock.h"

/* Control words: counter, access (LSB then MSB), mode, BCD. */
#define CW(ch, mode)		((ch) << 6 | 3 << 4 | (mode) << 1)
#define CW_RW(ch, rw, mode)	((ch) << 6 | (rw) << 4 | (mode) << 1)
#define LATCH(ch)		((ch) << 6)
#define READ_BACK		0xc0
#define RB_NO_COUNT		0x20
#define RB_NO_STATUS		0x10
#define RB_CH(ch)		(2u << (ch))
#define ST_OUT			0x80
#define ST_NULL			0x40

static struct fake_clock fake;
static struct memory_region io;
static struct address_space *io_as;
static struct object *root;
static struct device_env env;
static struct irq_line lines[ISA_NUM_IRQS];
static unsigned irq0_edges;
static bool irq0_level;
static struct device *pit;

static void record_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	cr_assert_eq(n, 0, "only IRQ 0 is the PIT's");
	if (level && !irq0_level)
		irq0_edges++;
	irq0_level = level;
}

static struct device *mk(const struct device_env *e, struct error *err)
{
	struct object *obj = object_new(TYPE_I8254);

	cr_assert_not_null(obj);
	if (device_realize((struct device *)obj, e, err)) {
		object_free(obj);
		return NULL;
	}
	object_add_child(root, TYPE_I8254, obj);
	return (struct device *)obj;
}

static void setup(void)
{
	struct error e = { "" };

	fake_clock_init(&fake, 0, 0);
	memory_region_init_container(&io, "io", 0x10000);
	io_as = address_space_new("io", &io);
	root = object_new(TYPE_CONTAINER);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		lines[i] = (struct irq_line){ .handler = record_irq, .n = i };
	env = (struct device_env){ .io_space = &io, .clock = &fake.clock,
				   .isa_irq = lines };
	irq0_edges = 0;
	irq0_level = false;
	pit = mk(&env, &e);
	cr_assert_not_null(pit, "%s", e.msg);
}

static void teardown(void)
{
	object_free(root);
	address_space_destroy(io_as);
}

TestSuite(i8254, .init = setup, .fini = teardown);

static void outb(uint16_t port, uint8_t v)
{
	cr_assert_eq(address_space_write(io_as, port, &v, 1), MEMTX_OK);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0xaa;

	cr_assert_eq(address_space_read(io_as, port, &v, 1), MEMTX_OK);
	return v;
}

static uint64_t tick_ns(uint64_t tick)
{
	return clock_ticks_to_ns(tick, I8254_HZ);
}

/* The clock to the instant of CLK tick @tick (never backwards). */
static void at(uint64_t tick)
{
	cr_assert_geq(tick_ns(tick), fake.now);
	fake_clock_advance(&fake, tick_ns(tick) - fake.now);
}

/* Mode @mode, LSB then MSB, count @count on counter @ch, now. */
static void program(unsigned ch, unsigned mode, uint16_t count)
{
	outb(0x43, (uint8_t)CW(ch, mode));
	outb((uint16_t)(0x40 + ch), count & 0xff);
	outb((uint16_t)(0x40 + ch), count >> 8);
}

/* The live count, LSB then MSB. */
static uint16_t count16(unsigned ch)
{
	uint8_t lo = inb((uint16_t)(0x40 + ch));

	return (uint16_t)(lo | inb((uint16_t)(0x40 + ch)) << 8);
}

static uint8_t status(unsigned ch)
{
	outb(0x43, (uint8_t)(READ_BACK | RB_NO_COUNT | RB_CH(ch)));
	return inb((uint16_t)(0x40 + ch));
}

static bool out(unsigned ch)
{
	return status(ch) & ST_OUT;
}

static void stats(uint64_t *edges, uint64_t *coalesced)
{
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	i8254_print_stats(pit, f);
	fclose(f);
	cr_assert_eq(sscanf(buf, "i8254: IRQ 0 edges %" SCNu64 ", ticks coalesced %" SCNu64,
			    edges, coalesced), 2, "%s", buf);
}

static bool timer_armed(void)
{
	return fake.timers != NULL;
}

Test(i8254, is_built_in_and_needs_a_clock)
{
	struct device_env no_clock = env;
	struct error e = { "" };
	char buf[8192] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	const char *builtin;

	cr_assert_null(device_create(TYPE_I8254, &env, root, &e));
	device_print_help(f);
	fclose(f);
	builtin = strstr(buf, "Built into the machine");
	cr_assert_not_null(builtin);
	cr_assert_not_null(strstr(builtin, "i8254"));
	no_clock.clock = NULL;
	cr_assert_null(mk(&no_clock, &e));
	cr_assert(strstr(e.msg, "needs a clock"), "%s", e.msg);
}

/* Mode 0: the count is loaded on the CLK after the write, which does not
 * count, so OUT rises N + 1 ticks after the write; it stays high, IRQ 0
 * sees one edge, and the counter wraps on. */
Test(i8254, mode0_interrupts_on_terminal_count)
{
	program(0, 0, 100);
	cr_assert_not(out(0), "mode 0 starts low");
	at(1);
	cr_assert_eq(count16(0), 100);
	at(51);
	cr_assert_eq(count16(0), 50);
	at(100);
	cr_assert_not(out(0));
	cr_assert_eq(irq0_edges, 0);
	at(101);
	cr_assert(out(0));
	cr_assert_eq(count16(0), 0);
	cr_assert_eq(irq0_edges, 1);
	at(103);
	cr_assert_eq(count16(0), 0xfffe, "counts on past 0");
	cr_assert(out(0), "and OUT stays high");
	cr_assert_not(timer_armed(), "nothing ahead");
	at(70000);
	cr_assert_eq(irq0_edges, 1);
}

/* Writing mode 0's LSB stops the count and drops OUT; the MSB restarts. */
Test(i8254, mode0_new_count_restarts)
{
	program(2, 0, 10);
	i8254_set_gate(pit, 2, true);
	at(20);
	cr_assert(i8254_get_out(pit, 2));
	outb(0x42, 5);
	cr_assert_not(i8254_get_out(pit, 2), "LSB: OUT low at once");
	at(30);
	cr_assert_eq(count16(2), (uint16_t)(10 - 19), "stopped where it was");
	outb(0x42, 0);
	at(30 + 5);
	cr_assert_not(i8254_get_out(pit, 2));
	at(30 + 6);
	cr_assert(i8254_get_out(pit, 2), "5 + 1 ticks after the MSB");
}

/* Mode 1: nothing until a GATE rising edge; then OUT low from the next
 * CLK for N ticks; a new trigger restarts the one-shot. */
Test(i8254, mode1_one_shot_on_gate_trigger)
{
	program(2, 1, 10);
	at(50);
	cr_assert(out(2), "mode 1 idles high");
	cr_assert(status(2) & ST_NULL, "no trigger: the count is not loaded");
	i8254_set_gate(pit, 2, true);
	cr_assert(i8254_get_out(pit, 2), "OUT drops on the next CLK");
	at(51);
	cr_assert_not(i8254_get_out(pit, 2));
	cr_assert_not(status(2) & ST_NULL);
	cr_assert_eq(count16(2), 10);
	at(60);
	cr_assert_eq(count16(2), 1);
	cr_assert_not(i8254_get_out(pit, 2));
	at(61);
	cr_assert(i8254_get_out(pit, 2));
	at(70);
	cr_assert(i8254_get_out(pit, 2), "GATE level alone does nothing");
	i8254_set_gate(pit, 2, false);
	at(75);
	i8254_set_gate(pit, 2, true);
	at(76);
	cr_assert_not(i8254_get_out(pit, 2), "retriggered");
	at(85);
	i8254_set_gate(pit, 2, false);
	i8254_set_gate(pit, 2, true);	/* retrigger mid-pulse: extends it */
	at(95);
	cr_assert_not(i8254_get_out(pit, 2));
	at(96);
	cr_assert(i8254_get_out(pit, 2));
}

/* Mode 2: N, N-1, ..., 1 and reload; OUT low for the tick at 1; IRQ 0
 * rises at each reload. */
Test(i8254, mode2_rate_generator)
{
	static const uint16_t counts[] = { 5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5 };
	uint64_t edges, coalesced;

	program(0, 2, 5);
	cr_assert(out(0), "mode 2 starts high");
	for (unsigned i = 0; i < 11; i++) {
		at(1 + i);
		cr_assert_eq(count16(0), counts[i], "tick %u", 1 + i);
		cr_assert_eq(out(0), counts[i] != 1, "tick %u", 1 + i);
	}
	cr_assert_eq(irq0_edges, 2, "rises at ticks 6 and 11");
	at(1 + 5 * 100);
	outb(0x43, LATCH(0));	/* an access sends the edges due */
	stats(&edges, &coalesced);
	cr_assert_eq(edges + coalesced, 100, "a 4 us period: mostly coalesced");
	cr_assert(timer_armed(), "periodic: always one edge ahead");
}

/* Mode 3 (and 7, its alias): even N is high for N/2 ticks and low for N/2,
 * counting down by two; odd N high for (N+1)/2, low for (N-1)/2. */
Test(i8254, mode3_square_wave_even_and_odd)
{
	static const uint16_t even[] = { 6, 4, 2, 6, 4, 2, 6 };
	static const bool even_out[] = { 1, 1, 1, 0, 0, 0, 1 };
	static const uint16_t odd[] = { 5, 3, 1, 4, 2, 5, 3 };
	static const bool odd_out[] = { 1, 1, 1, 0, 0, 1, 1 };

	program(2, 3, 6);
	i8254_set_gate(pit, 2, true);
	for (unsigned i = 0; i < 7; i++) {
		at(1 + i);
		cr_assert_eq(count16(2), even[i], "even, tick %u", i);
		cr_assert_eq(i8254_get_out(pit, 2), even_out[i], "even, tick %u", i);
	}
	program(2, 7, 5);
	cr_assert_eq(status(2) & 0x0e, 7 << 1, "status shows the mode as written");
	for (unsigned i = 0; i < 7; i++) {
		at(8 + i);
		cr_assert_eq(count16(2), odd[i], "odd, tick %u", i);
		cr_assert_eq(i8254_get_out(pit, 2), odd_out[i], "odd, tick %u", i);
	}
}

/* Mode 4: OUT strobes low for one tick N + 1 ticks after the write;
 * IRQ 0 rises once, at the strobe's end. */
Test(i8254, mode4_software_strobe)
{
	program(0, 4, 3);
	cr_assert(out(0));
	at(3);
	cr_assert(out(0));
	at(4);
	cr_assert_not(out(0), "the strobe");
	cr_assert_eq(irq0_edges, 0);
	at(5);
	cr_assert(out(0));
	cr_assert_eq(irq0_edges, 1);
	at(100000);
	cr_assert_eq(irq0_edges, 1, "one-shot");
	cr_assert_not(timer_armed());
}

/* Mode 5: the strobe comes N + 1 ticks after a GATE trigger. */
Test(i8254, mode5_hardware_strobe)
{
	program(2, 5, 3);
	at(10);
	cr_assert(i8254_get_out(pit, 2), "no trigger, no strobe");
	i8254_set_gate(pit, 2, true);
	at(13);
	cr_assert(i8254_get_out(pit, 2));
	at(14);
	cr_assert_not(i8254_get_out(pit, 2));
	at(15);
	cr_assert(i8254_get_out(pit, 2));
}

/* BCD: four decimal digits; 0 is 10000; below 0 comes 9999. */
Test(i8254, bcd_counts_and_wraps)
{
	outb(0x43, CW(2, 0) | 1);
	outb(0x42, 0x12);
	outb(0x42, 0x00);
	i8254_set_gate(pit, 2, true);
	at(1);
	cr_assert_eq(count16(2), 0x0012);
	at(1 + 3);
	cr_assert_eq(count16(2), 0x0009, "12 - 3 in BCD");
	at(1 + 12);
	cr_assert_eq(count16(2), 0x0000);
	cr_assert(i8254_get_out(pit, 2));
	at(1 + 13);
	cr_assert_eq(count16(2), 0x9999);

	outb(0x43, CW(2, 2) | 1);
	outb(0x42, 0);
	outb(0x42, 0);			/* 10000 */
	at(15);
	cr_assert_eq(count16(2), 0x0000);
	at(16);
	cr_assert_eq(count16(2), 0x9999);
	at(15 + 10000);
	cr_assert_eq(count16(2), 0x0000, "period 10000");
	cr_assert_eq(status(2) & 0x01, 1, "BCD in the status");
}

Test(i8254, count_0_is_65536)
{
	program(0, 2, 0);
	at(1);
	cr_assert_eq(count16(0), 0);
	at(2);
	cr_assert_eq(count16(0), 0xffff);
	at(65536);
	cr_assert_eq(count16(0), 1);
	cr_assert_eq(irq0_edges, 0);
	at(65537);
	cr_assert_eq(count16(0), 0);
	cr_assert_eq(irq0_edges, 1);
}

Test(i8254, access_modes_lsb_msb_and_word)
{
	outb(0x43, CW_RW(2, 1, 0));		/* LSB only */
	outb(0x42, 0x34);
	i8254_set_gate(pit, 2, true);
	at(1);
	cr_assert_eq(inb(0x42), 0x34);
	cr_assert_eq(inb(0x42), 0x34, "LSB only: no flip-flop");
	cr_assert_eq(status(2) & 0x30, 1 << 4);

	outb(0x43, CW_RW(2, 2, 0));		/* MSB only */
	outb(0x42, 0x12);
	at(2);
	cr_assert_eq(inb(0x42), 0x12);
	at(3);
	cr_assert_eq(inb(0x42), 0x11, "0x1200 - 1: MSB 0x11");

	outb(0x43, CW(2, 0));			/* LSB then MSB */
	outb(0x42, 0x78);
	outb(0x42, 0x56);
	at(4);
	cr_assert_eq(inb(0x42), 0x78);
	cr_assert_eq(inb(0x42), 0x56);
	cr_assert_eq(inb(0x42), 0x78, "the flip-flop turned back to LSB");
	outb(0x42, 0x01);
	outb(0x43, CW(2, 0));
	cr_assert_eq(inb(0x42), 0x78, "a control word resets the flip-flops");
	cr_assert_eq(inb(0x42), 0x56);
	outb(0x42, 0x02);
	outb(0x42, 0x00);
	at(5);
	cr_assert_eq(count16(2), 2, "the write flip-flop restarted at LSB");
}

/* A latch freezes the count until it is read; a second latch before that
 * is ignored; afterwards the live count shows again. */
Test(i8254, counter_latch_freezes_the_value)
{
	program(0, 2, 1000);
	at(11);
	outb(0x43, LATCH(0));
	at(500);
	outb(0x43, LATCH(0));
	cr_assert_eq(count16(0), 990, "the value at the first latch");
	cr_assert_eq(count16(0), 1000 - 499, "live again");
	cr_assert_eq(status(0) & 0x3e, 3 << 4 | 2 << 1, "a latch is no mode set");
}

/* The latched count has its own LSB/MSB sequence (as QEMU): the live
 * count's flip-flop, left at MSB, is where it was after the latch. */
Test(i8254, flip_flop_across_a_latch)
{
	program(2, 0, 0x1234);
	i8254_set_gate(pit, 2, true);
	at(1);
	cr_assert_eq(inb(0x42), 0x34, "live LSB");
	at(0x20);
	outb(0x43, LATCH(2));
	at(0x30);
	cr_assert_eq(inb(0x42), 0x15, "latched LSB: 0x1234 - 0x1f");
	cr_assert_eq(inb(0x42), 0x12, "latched MSB");
	cr_assert_eq(inb(0x42), 0x12, "live MSB: 0x1234 - 0x2f");
	cr_assert_eq(inb(0x42), 0x05, "live LSB");
}

/* NULL COUNT: from a control word or count write until the CE takes the
 * count on the next CLK. */
Test(i8254, read_back_status_out_and_null_count)
{
	outb(0x43, CW(0, 0));
	cr_assert_eq(status(0), 0x40 | 3 << 4 | 0, "OUT low, null count");
	outb(0x40, 10);
	outb(0x40, 0);
	cr_assert(status(0) & ST_NULL, "written, not yet loaded");
	at(1);
	cr_assert_eq(status(0), 3 << 4, "loaded: null count 0, OUT low");
	at(11);
	cr_assert_eq(status(0), ST_OUT | 3 << 4);
	outb(0x43, READ_BACK | RB_NO_COUNT | RB_CH(0));
	at(20);
	outb(0x43, CW(0, 2));
	cr_assert_eq(inb(0x40), ST_OUT | 3 << 4, "latched status held, the latest not taken");
	cr_assert_eq(status(0), ST_OUT | ST_NULL | 3 << 4 | 2 << 1, "mode 2 starts high");
}

/* One read-back latches several counters; status comes before count. */
Test(i8254, read_back_latches_several_counters)
{
	program(0, 2, 300);
	program(2, 0, 200);
	i8254_set_gate(pit, 2, true);
	at(101);
	outb(0x43, READ_BACK | RB_CH(0) | RB_CH(2));	/* count and status */
	at(150);
	cr_assert_eq(inb(0x40), 3 << 4 | 2 << 1 | ST_OUT, "counter 0's status first");
	cr_assert_eq(count16(0), 200);
	cr_assert_eq(inb(0x42), 3 << 4);
	cr_assert_eq(count16(2), 100);
	cr_assert_eq(count16(0), 300 - 149, "latches read: live");
	outb(0x43, READ_BACK | RB_NO_STATUS | RB_CH(1));
	cr_assert_eq(count16(2), 200 - 149, "counter 2 was not selected");
}

/* How Linux calibrates the TSC on counter 2: GATE low, mode 0, a count,
 * GATE high, poll port 0x61 bit 5 (OUT 2) until it rises: count + 1
 * ticks after the write. */
Test(i8254, channel2_tsc_calibration)
{
	const uint16_t latch = 11932;	/* 10 ms */

	at(7);
	i8254_set_gate(pit, 2, false);
	program(2, 0, latch);
	i8254_set_gate(pit, 2, true);
	at(7 + latch);
	cr_assert_not(i8254_get_out(pit, 2));
	at(7 + latch + 1);
	cr_assert(i8254_get_out(pit, 2));
}

/* Mode 0 pauses while GATE is low; a count written then is loaded all
 * the same and runs N ticks after GATE rises. */
Test(i8254, gate_low_pauses_mode0)
{
	program(2, 0, 10);
	at(5);
	cr_assert_eq(count16(2), 10, "GATE 2 is low at reset: loaded, not counting");
	i8254_set_gate(pit, 2, true);
	at(9);
	cr_assert_eq(count16(2), 6);
	i8254_set_gate(pit, 2, false);
	at(100);
	cr_assert_eq(count16(2), 6);
	cr_assert_not(i8254_get_out(pit, 2));
	i8254_set_gate(pit, 2, true);
	at(105);
	cr_assert_not(i8254_get_out(pit, 2));
	at(106);
	cr_assert(i8254_get_out(pit, 2));
}

/* Modes 2/3: GATE low forces OUT high and stops; a rising edge reloads
 * on the next CLK. */
Test(i8254, gate_controls_modes_2_and_3)
{
	program(2, 2, 5);
	i8254_set_gate(pit, 2, true);
	at(4);					/* loaded at 1 by the write... */
	i8254_set_gate(pit, 2, false);
	at(10);
	cr_assert(i8254_get_out(pit, 2));
	i8254_set_gate(pit, 2, true);
	at(11);
	cr_assert_eq(count16(2), 5, "reloaded");
	at(15);
	cr_assert_not(i8254_get_out(pit, 2));
	i8254_set_gate(pit, 2, false);
	cr_assert(i8254_get_out(pit, 2), "low → forced high at once");
}

/* Modes 2 and 3 take a new count at the end of the period. */
Test(i8254, mode2_new_count_at_period_end)
{
	program(2, 2, 10);
	i8254_set_gate(pit, 2, true);
	at(4);
	outb(0x42, 4);
	outb(0x42, 0);
	cr_assert(status(2) & ST_NULL);
	at(10);
	cr_assert_eq(count16(2), 1, "this period is not affected");
	cr_assert(status(2) & ST_NULL);
	at(11);
	cr_assert_eq(count16(2), 4, "the next one is");
	cr_assert_not(status(2) & ST_NULL);
	at(15);
	cr_assert_eq(count16(2), 4);
}

/* Counter 0 at 1 kHz for 100 ms of fake time: exactly 100 edges. */
Test(i8254, channel0_periodic_irq0_edges)
{
	uint64_t edges, coalesced;

	program(0, 2, 1193);
	fake_clock_advance(&fake, tick_ns(1 + 1193 * 100));
	cr_assert_eq(irq0_edges, 100);
	cr_assert_eq(fake.fired, 100, "one timer per edge");
	stats(&edges, &coalesced);
	cr_assert_eq(edges, 100);
	cr_assert_eq(coalesced, 0);
	cr_assert_not(irq0_level, "pulses: the line is low between edges");
	outb(0x43, CW(0, 0));
	cr_assert_not(timer_armed(), "reprogrammed, no count: nothing ahead");
}

/* The timer thread wakes 10 periods late: one edge, 9 coalesced. */
Test(i8254, late_timer_coalesces_ticks)
{
	uint64_t edges, coalesced;

	program(0, 3, 1193);
	at(1 + 1193);
	cr_assert_eq(irq0_edges, 1);
	fake.now = tick_ns(1 + 1193 * 11);	/* time passed, no timer ran */
	fake_clock_advance(&fake, 0);
	cr_assert_eq(irq0_edges, 2);
	stats(&edges, &coalesced);
	cr_assert_eq(edges, 2);
	cr_assert_eq(coalesced, 9);
	at(1 + 1193 * 12);
	cr_assert_eq(irq0_edges, 3, "and on at the normal rate");
	cr_assert_eq(count16(0), 1193, "the count never lost time");
}

/* A tiny period cannot flood: at most one pulse per 200 us. */
Test(i8254, tiny_period_is_rate_limited)
{
	uint64_t edges, coalesced, ticks = clock_ns_to_ticks(1000000, I8254_HZ);

	program(0, 2, 2);
	fake_clock_advance(&fake, 1000000);
	cr_assert_eq(fake.fired, 1000000 / I8254_MIN_IRQ_PERIOD_NS);
	stats(&edges, &coalesced);
	cr_assert_eq(edges, fake.fired);
	cr_assert_eq(irq0_edges, edges);
	cr_assert_eq(edges + coalesced, (ticks - 1) / 2, "every edge accounted for");
}

Test(i8254, no_timer_without_a_reason)
{
	cr_assert_not(timer_armed(), "reset: idle");
	program(0, 1, 100);
	at(500);
	cr_assert_not(timer_armed(), "mode 1 on counter 0: GATE 0 never rises");
	cr_assert(out(0));
	program(2, 2, 100);
	i8254_set_gate(pit, 2, true);
	at(1000);
	cr_assert_not(timer_armed(), "counter 2 interrupts nothing");
	program(0, 0, 10);
	cr_assert(timer_armed());
	at(1100);
	cr_assert_not(timer_armed(), "the one-shot is over");
	cr_assert_eq(irq0_edges, 1);
	program(0, 2, 10);
	i8254_set_gate(pit, 0, false);
	at(1200);
	cr_assert_not(timer_armed(), "GATE low stops mode 2");
	cr_assert_eq(irq0_edges, 1);
}

Test(i8254, no_irq_lines_no_timer)
{
	static struct device_env bare;	/* the device keeps it */
	struct error e = { "" };
	struct device *other;

	object_free((struct object *)pit);
	bare = env;
	bare.isa_irq = NULL;
	other = mk(&bare, &e);
	cr_assert_not_null(other, "%s", e.msg);
	program(0, 2, 100);
	cr_assert_not(timer_armed());
	at(1000);
	cr_assert_eq(count16(0), 100 - 999 % 100);
}

Test(i8254, unrealize_disarms)
{
	uint8_t v = 0;

	program(0, 2, 100);
	cr_assert(timer_armed());
	object_free((struct object *)pit);
	cr_assert_not(timer_armed());
	cr_assert_neq(address_space_read(io_as, 0x40, &v, 1), MEMTX_OK, "unmapped");
}

Test(i8254, control_port_reads_0_and_wide_accesses_split)
{
	uint16_t w = 0x0312;

	cr_assert_eq(inb(0x43), 0);
	outb(0x43, CW_RW(0, 1, 0));
	outb(0x43, CW_RW(1, 1, 2));
	cr_assert_eq(address_space_write(io_as, 0x40, &w, 2), MEMTX_OK);
	at(1);
	cr_assert_eq(inb(0x40), 0x12, "the word's LSB went to 0x40...");
	cr_assert_eq(inb(0x41), 0x03, "... its MSB to 0x41");
	cr_assert_eq(status(1), ST_OUT | 1 << 4 | 2 << 1);
}

/* Found by fuzz_i8254: a write to counter 1 or 2 re-arms IRQ 0's timer, and
 * did so from counter 0's state as of its last look, so when the timer
 * thread was late the new deadline lay in the past and the edges due were
 * not pulsed. Counter 0 is brought up to date first now. */
Test(i8254, other_counters_writes_bring_counter_0_up_to_date)
{
	unsigned before;

	program(0, 2, 10);
	at(25);
	before = irq0_edges;
	fake.now = tick_ns(60);		/* the timer thread is late: nothing fired */
	program(1, 0, 5);
	cr_assert_eq(irq0_edges, before + 1, "the due edges, one pulse");
	cr_assert(timer_armed());
	cr_assert_gt(fake.timers->deadline_ns, fake.now, "armed in the past");
}
