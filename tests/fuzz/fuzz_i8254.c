/* libFuzzer target: the "i8254" PIT driven through ports 0x40-0x43, byte
 * by byte as a guest does, with GATE changes, the fake clock moved forward
 * and late timer runs (time jumps with no timer run on the way) in
 * between. The harness keeps its own model of each counter's access
 * protocol (access mode, BCD, flip-flops, latches) and checks:
 *   - a status byte shows the access mode, mode and BCD that were
 *     programmed when it was latched;
 *   - a count byte read in BCD mode has two digits of at most 9;
 *   - OUT read through the board API is a boolean and GATE changes on
 *     channel 3 (none) are ignored;
 *   - at most one timer is armed, never in the past (no spinning), and
 *     only once counter 0 was given a count since its last control word;
 *   - each time the timer fires it sends exactly one pulse on IRQ 0: no
 *     timer fires without an edge to send;
 *   - IRQ 0 only ever pulses (it is low between operations).
 * Unrealize leaves nothing mapped and no timer armed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "devices/device.h"
#include "devices/irq.h"
#include "devices/timer/i8254.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/fake_clock.h"

struct shadow {
	unsigned rw, mode;
	bool bcd;
	bool write_msb, read_msb;
	bool have_count;	/* a whole count since the control word */
	unsigned latched_left, latched_rw;
	bool latched_bcd;
	bool status_latched;
	unsigned st_rw, st_mode;
	bool st_bcd;
};

static struct fake_clock fc;
static struct memory_region io;
static struct address_space *io_as;
static struct irq_line isa[ISA_NUM_IRQS];
static struct device_env env;
static struct shadow sh[3];
static bool irq0;
static uint64_t pulses;

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	CHECK(n == I8254_IRQ);
	CHECK(level != irq0);
	if (level)
		pulses++;
	irq0 = level;
}

static void setup_once(void)
{
	if (io_as)
		return;
	memory_region_init_container(&io, "io", 0x10000);
	io_as = address_space_new("io", &io);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa[i] = (struct irq_line){ .handler = on_irq, .n = i };
	env = (struct device_env){ .io_space = &io, .clock = &fc.clock, .isa_irq = isa };
}

static void latch_count(struct shadow *c)
{
	if (c->latched_left)
		return;
	c->latched_left = c->rw == 3 ? 2 : 1;
	c->latched_rw = c->rw;
	c->latched_bcd = c->bcd;
}

static void latch_status(struct shadow *c)
{
	if (c->status_latched)
		return;
	c->status_latched = true;
	c->st_rw = c->rw;
	c->st_mode = c->mode;
	c->st_bcd = c->bcd;
}

static void control(uint8_t v)
{
	struct shadow *c = &sh[v >> 6 < 3 ? v >> 6 : 0];

	if (v >> 6 == 3) {
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & 2u << i))
				continue;
			if (!(v & 0x20))
				latch_count(&sh[i]);
			if (!(v & 0x10))
				latch_status(&sh[i]);
		}
	} else if (!(v >> 4 & 3)) {
		latch_count(c);
	} else {
		c->rw = v >> 4 & 3;
		c->mode = v >> 1 & 7;
		c->bcd = v & 1;
		c->write_msb = c->read_msb = false;
		c->have_count = false;
	}
}

static void count_written(struct shadow *c)
{
	if (c->rw == 3 && !c->write_msb) {
		c->write_msb = true;
		return;
	}
	c->write_msb = false;
	c->have_count = true;
}

static void check_bcd(uint8_t b)
{
	CHECK((b & 0xf) <= 9 && b >> 4 <= 9);
}

static void read_counter(unsigned ch)
{
	struct shadow *c = &sh[ch];
	uint8_t b = 0;

	CHECK(address_space_read(io_as, (uint16_t)(0x40 + ch), &b, 1) == MEMTX_OK);
	if (c->status_latched) {
		c->status_latched = false;
		CHECK((b >> 4 & 3) == c->st_rw && (b >> 1 & 7) == c->st_mode &&
		      (b & 1) == c->st_bcd);
	} else if (c->latched_left) {
		c->latched_left--;
		if (c->latched_bcd)
			check_bcd(b);
	} else {
		if (c->rw == 3)
			c->read_msb = !c->read_msb;
		if (c->bcd)
			check_bcd(b);
	}
}

static void write_port(unsigned port, uint8_t v)
{
	CHECK(address_space_write(io_as, (uint16_t)(0x40 + port), &v, 1) == MEMTX_OK);
	if (port == 3)
		control(v);
	else
		count_written(&sh[port]);
}

/* Time passes; every firing must send one pulse. */
static void run_timers(uint64_t jump, uint64_t advance)
{
	unsigned fired = fc.fired;
	uint64_t before = pulses;

	fc.now += jump;		/* the timer thread was late */
	fake_clock_advance(&fc, advance);
	CHECK(pulses - before == fc.fired - fired);
}

static void check_all(void)
{
	CHECK(!irq0);
	if (!fc.timers)
		return;
	CHECK(!fc.timers->next);
	CHECK(fc.timers->deadline_ns > fc.now);
	CHECK(sh[0].have_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct object *root;
	struct device *pit;

	setup_once();
	fake_clock_init(&fc, take(&in, 5) << 16, 0);	/* under 2^56 ns */
	irq0 = false;
	pulses = 0;
	for (unsigned i = 0; i < 3; i++)
		sh[i] = (struct shadow){ .rw = 3 };
	root = object_new(TYPE_CONTAINER);
	pit = (struct device *)object_new(TYPE_I8254);
	CHECK(pit && device_realize(pit, &env, NULL) == 0);
	object_add_child(root, "pit", &pit->parent_obj);
	check_all();

	for (unsigned ops = 0; in.left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(&in, 1), sel = op >> 3;

		switch (op & 7) {
		case 0:
		case 1:
			write_port(sel & 3, (uint8_t)take(&in, 1));
			break;
		case 2:
		case 3:
			read_counter(sel % 3);
			break;
		case 4:		/* up to ~2 s (10^4 timer runs), often a few ticks */
			run_timers(0, take(&in, sel & 1 ? 3 : 1) << (sel >> 1 & 7));
			break;
		case 5:		/* late by up to ~9 hours: one timer run */
			run_timers(take(&in, 3) << (sel & 15), 0);
			break;
		case 6:
			i8254_set_gate(pit, sel & 3, sel & 4);
			break;
		default:
			CHECK(i8254_get_out(pit, sel & 3) <= 1);
			if ((sel & 3) == 3)
				CHECK(!i8254_get_out(pit, 3));
			break;
		}
		check_all();
	}

	object_free(root);
	CHECK(!io.subregions && !fc.timers);
	return 0;
}
