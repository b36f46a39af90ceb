/* libFuzzer target: the "hpet" driven through its 1 KiB of MMIO with 4- and
 * 8-byte reads and writes (any offset, the registers favoured), the fake
 * clock moved forward, late timer runs (time jumps with no timer run on
 * the way) and the PIT's and RTC's inputs toggled in between. Checks:
 *   - GCAP_ID reads its constant; every timer's capability bits read
 *     their constants and FSB_EN / FSB_INT_DEL_CAP read 0; a 32-bit
 *     comparator's upper half reads 0; GINTR_STA has only timer bits;
 *   - accesses of other sizes or alignments fail, and change nothing;
 *   - at most one timer per comparator is armed, never in the past;
 *   - each timer run raises at most one line (no burst);
 *   - the lines: with the HPET halted nothing but the forwarded PIT and
 *     RTC inputs is high, and those only outside legacy mode; ISA IRQ 2
 *     high only while a GINTR_STA bit is set; lines other than 0, 2 and
 *     8 are never touched;
 *   - while it runs and is not written, the counter moves with the clock
 *     (wrapping at 2^64).
 * Unrealize leaves nothing mapped, no timer armed and every line low. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "devices/device.h"
#include "devices/irq.h"
#include "devices/timer/hpet.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/fake_clock.h"

#define GCAP_ID		(0x8086a201ull | 10000000ull << 32)
#define CONF		0x010
#define STATUS		0x020
#define COUNTER		0x0f0
#define ENABLE		1
#define LEG_RT		2

static struct fake_clock fc;
static struct memory_region sysmem;
static struct address_space *as;
static struct irq_line isa[ISA_NUM_IRQS];
static struct device_env env;
static bool level[ISA_NUM_IRQS];
static bool input[2];
static uint64_t raises;
static bool counter_known;	/* it read @counter_seen at @counter_seen_ns */
static uint64_t counter_seen, counter_seen_ns;

static void on_irq(void *opaque, unsigned n, bool l)
{
	(void)opaque;
	CHECK(n == 0 || n == 2 || n == 8);
	CHECK(l != level[n]);
	if (l)
		raises++;
	level[n] = l;
}

static void setup_once(void)
{
	if (as)
		return;
	memory_region_init_container(&sysmem, "system", UINT64_MAX);
	as = address_space_new("system", &sysmem);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa[i] = (struct irq_line){ .handler = on_irq, .n = i };
	env = (struct device_env){ .system_memory = &sysmem, .clock = &fc.clock,
				   .isa_irq = isa };
}

static uint64_t rd(unsigned off, unsigned size)
{
	uint64_t v = 0;

	CHECK(address_space_read(as, HPET_BASE + off, &v, size) == MEMTX_OK);
	return v;
}

static void wr(unsigned off, uint64_t v, unsigned size)
{
	CHECK(address_space_write(as, HPET_BASE + off, &v, size) == MEMTX_OK);
	if ((off & ~7u) == CONF || (off & ~7u) == COUNTER)
		counter_known = false;
}

/* What a read shows, wherever it lands. */
static void check_read(unsigned off, unsigned size, uint64_t v)
{
	unsigned reg = off & ~7u, shift = (off & 4) * 8;
	uint64_t full = size == 8 ? UINT64_MAX : UINT32_MAX;

	if (reg == 0)
		CHECK(v == ((GCAP_ID >> shift) & full));
	if (reg == STATUS)
		CHECK(!(v & ~7ull));
	if (reg >= 0x100 && reg < 0x160 && reg % 0x20 == 0) {	/* CONF_CAP */
		uint64_t caps = 0x30 | 4ull << 32, may = caps | 0x3f4e;
		uint64_t ones = (caps >> shift) & full;

		CHECK((v & ones) == ones);
		CHECK(!(v & (~may >> shift) & full));
	}
}

/* While it runs unwritten, the counter moves by the time passed (in 10 ns
 * ticks, give or take the tick under way), wrapping at 2^64. */
static void check_counter(void)
{
	uint64_t c = rd(COUNTER, 8), d = c - counter_seen;
	uint64_t ticks = (fc.now - counter_seen_ns) / 10;

	if (counter_known && (rd(CONF, 8) & ENABLE))
		CHECK(d <= ticks + 1 && d + 1 >= ticks);
	counter_seen = c;
	counter_seen_ns = fc.now;
	counter_known = rd(CONF, 8) & ENABLE;
}

/* Time passes; each timer run raises at most one line. */
static void run_timers(uint64_t jump, uint64_t advance)
{
	unsigned fired = fc.fired;
	uint64_t before = raises;

	fc.now += jump;		/* the timer thread was late */
	fake_clock_advance(&fc, advance);
	CHECK(raises - before <= fc.fired - fired);
}

static void check_all(void)
{
	uint64_t conf = rd(CONF, 8), status = rd(STATUS, 8);
	unsigned armed = 0;

	for (struct clock_timer *t = fc.timers; t; t = t->next, armed++)
		CHECK(t->deadline_ns > fc.now);
	CHECK(armed <= 3);
	if (!(conf & ENABLE)) {
		CHECK(!status && !level[2]);
		CHECK(level[0] == (input[0] && !(conf & LEG_RT)));
		CHECK(level[8] == (input[1] && !(conf & LEG_RT)));
	}
	if (level[2])
		CHECK(status);
	for (unsigned n = 0; n < 3; n++)
		if (rd(0x100 + 0x20 * n, 8) & 0x100)
			CHECK(rd(0x10c + 0x20 * n, 4) == 0);
}

/* Where writes and reads go: mostly the registers that exist. */
static unsigned pick_offset(struct input *in, unsigned sel, unsigned size)
{
	static const unsigned regs[] = {
		0x000, 0x010, 0x020, 0x0f0, 0x100, 0x108, 0x110,
		0x120, 0x128, 0x140, 0x148, 0x160,
	};
	unsigned off;

	if (sel & 1)
		off = (unsigned)take(in, 2) & 0x3ff;
	else
		off = regs[(unsigned)take(in, 1) % (sizeof(regs) / sizeof(regs[0]))] |
		      (sel & 2 ? 4 : 0);
	return off & ~(size - 1);
}

static void bad_access(struct input *in)
{
	unsigned off = (unsigned)take(in, 2) & 0x3ff;
	unsigned size = 1u << (take(in, 1) & 3);
	uint64_t v = 0, conf = rd(CONF, 8);

	if ((size == 4 || size == 8) && !(off & (size - 1)))
		return;		/* a valid one */
	CHECK(address_space_write(as, HPET_BASE + off, &v, size) != MEMTX_OK);
	CHECK(address_space_read(as, HPET_BASE + off, &v, size) != MEMTX_OK);
	CHECK(rd(CONF, 8) == conf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct object *root;
	struct device *hpet;

	setup_once();
	fake_clock_init(&fc, take(&in, 5) << 16, 0);	/* under 2^56 ns */
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		level[i] = false;
	input[0] = input[1] = false;
	raises = 0;
	counter_known = false;
	root = object_new(TYPE_CONTAINER);
	hpet = (struct device *)object_new(TYPE_HPET);
	CHECK(hpet && device_realize(hpet, &env, NULL) == 0);
	object_add_child(root, "hpet", &hpet->parent_obj);
	check_all();

	for (unsigned ops = 0; in.left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(&in, 1), sel = op >> 3;
		unsigned sz = sel & 4 ? 8 : 4, off;

		switch (op & 7) {
		case 0:
		case 1:
			off = pick_offset(&in, sel, sz);
			wr(off, take(&in, sz), sz);
			break;
		case 2:
			off = pick_offset(&in, sel, sz);
			check_read(off, sz, rd(off, sz));
			break;
		case 3:		/* up to ~2 s, often a few ticks */
			run_timers(0, take(&in, sel & 1 ? 3 : 1) << (sel >> 1 & 7));
			break;
		case 4:		/* late by up to ~9 hours: one timer run */
			run_timers(take(&in, 3) << (sel & 15), 0);
			break;
		case 5:
			input[sel & 1] = sel & 2;
			irq_set_level(&hpet_legacy_inputs(hpet)[sel & 1], sel & 2);
			break;
		case 6:
			check_counter();
			break;
		default:
			bad_access(&in);
			break;
		}
		check_all();
	}

	object_free(root);
	CHECK(!sysmem.subregions && !fc.timers);
	CHECK(!level[0] && !level[2] && !level[8]);
	return 0;
}
