/* The HPET through its MMIO registers, as a guest drives it, on a fake
 * clock: time is counted in 100 MHz ticks from 0 (10 ns each), and at(k)
 * moves the clock to tick k, firing the timers due on the way. Each ISA
 * line goes to a recorder that keeps its level and counts rising edges. */
#define _GNU_SOURCE	/* fmemopen */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "devices/timer/hpet.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/unit/fake_clock.h"

#define GCAP		0x000
#define GCAP_PERIOD	0x004
#define CONF		0x010
#define STATUS		0x020
#define COUNTER		0x0f0
#define TCFG(n)		(0x100 + 0x20 * (n))
#define TCMP(n)		(0x108 + 0x20 * (n))
#define TFSB(n)		(0x110 + 0x20 * (n))

#define ENABLE		0x1
#define LEG_RT		0x2
#define LEVEL		(1u << 1)
#define INT_ENB		(1u << 2)
#define PERIODIC	(1u << 3)
#define VAL_SET		(1u << 6)
#define MODE32		(1u << 8)
#define ROUTE(r)	((uint64_t)(r) << 9)
#define RO_CAPS		(0x30 | 4ull << 32)	/* PER_INT_CAP, SIZE_CAP, route 2 */

static struct fake_clock fake;
static struct memory_region sysmem;
static struct address_space *as;
static struct object *root;
static struct device_env env;
static struct irq_line lines[ISA_NUM_IRQS];
static unsigned edges[ISA_NUM_IRQS];
static bool level[ISA_NUM_IRQS];
static struct device *hpet;

static void record_irq(void *opaque, unsigned n, bool l)
{
	(void)opaque;
	if (l && !level[n])
		edges[n]++;
	level[n] = l;
}

static struct device *mk(const struct device_env *e, struct error *err)
{
	struct object *obj = object_new(TYPE_HPET);

	cr_assert_not_null(obj);
	if (device_realize((struct device *)obj, e, err)) {
		object_free(obj);
		return NULL;
	}
	object_add_child(root, TYPE_HPET, obj);
	return (struct device *)obj;
}

static void setup(void)
{
	struct error e = { "" };

	fake_clock_init(&fake, 0, 0);
	memory_region_init_container(&sysmem, "system", UINT64_MAX);
	as = address_space_new("system", &sysmem);
	root = object_new(TYPE_CONTAINER);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++) {
		lines[i] = (struct irq_line){ .handler = record_irq, .n = i };
		edges[i] = 0;
		level[i] = false;
	}
	env = (struct device_env){ .system_memory = &sysmem, .clock = &fake.clock,
				   .isa_irq = lines };
	hpet = mk(&env, &e);
	cr_assert_not_null(hpet, "%s", e.msg);
}

static void teardown(void)
{
	object_free(root);
	address_space_destroy(as);
}

TestSuite(hpet, .init = setup, .fini = teardown);

static uint64_t rd64(unsigned off)
{
	uint64_t v = 0xaa;

	cr_assert_eq(address_space_read(as, HPET_BASE + off, &v, 8), MEMTX_OK);
	return v;
}

static uint32_t rd32(unsigned off)
{
	uint32_t v = 0xaa;

	cr_assert_eq(address_space_read(as, HPET_BASE + off, &v, 4), MEMTX_OK);
	return v;
}

static void wr64(unsigned off, uint64_t v)
{
	cr_assert_eq(address_space_write(as, HPET_BASE + off, &v, 8), MEMTX_OK);
}

static void wr32(unsigned off, uint32_t v)
{
	cr_assert_eq(address_space_write(as, HPET_BASE + off, &v, 4), MEMTX_OK);
}

/* The clock to the instant of tick @tick (never backwards). */
static void at(uint64_t tick)
{
	cr_assert_geq(tick * 10, fake.now);
	fake_clock_advance(&fake, tick * 10 - fake.now);
}

static void stats(uint64_t *sent, uint64_t *coalesced)
{
	char buf[256] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	hpet_print_stats(hpet, f);
	fclose(f);
	cr_assert_eq(sscanf(buf, "hpet: interrupts %" SCNu64 ", matches coalesced %" SCNu64,
			    sent, coalesced), 2, "%s", buf);
}

static unsigned all_edges(void)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		sum += edges[i];
	return sum;
}

Test(hpet, is_built_in_and_needs_a_clock)
{
	struct device_env no_clock = env;
	struct error e = { "" };

	cr_assert_null(device_create(TYPE_HPET, &env, root, &e));
	no_clock.clock = NULL;
	cr_assert_null(mk(&no_clock, &e));
	cr_assert(strstr(e.msg, "needs a clock"), "%s", e.msg);
}

Test(hpet, capabilities_and_read_only_bits)
{
	cr_assert_eq(rd64(GCAP), 0x8086a201ull | 10000000ull << 32);
	cr_assert_eq(rd32(GCAP_PERIOD), 10000000u, "10^7 fs: 100 MHz");
	wr64(GCAP, 0);
	cr_assert_eq(rd64(GCAP), 0x8086a201ull | 10000000ull << 32, "read-only");
	wr64(CONF, ~0ull);
	cr_assert_eq(rd64(CONF), ENABLE | LEG_RT, "other bits read 0");
	wr64(CONF, 0);
	for (unsigned n = 0; n < 3; n++) {
		cr_assert_eq(rd64(TCFG(n)), RO_CAPS, "timer %u at reset", n);
		cr_assert_eq(rd64(TCMP(n)), ~0ull, "comparator at reset");
		wr64(TCFG(n), ~0ull);
		/* INT_TYPE, INT_ENB, TYPE, VAL_SET, 32MODE, INT_ROUTE stick;
		 * FSB_EN, FSB_INT_DEL_CAP and the caps do not move. */
		cr_assert_eq(rd64(TCFG(n)), RO_CAPS | 0x3f4e, "timer %u", n);
		wr64(TFSB(n), ~0ull);
		cr_assert_eq(rd64(TFSB(n)), 0, "no FSB");
	}
	wr64(TCFG(3), ~0ull);
	cr_assert_eq(rd64(TCFG(3)), 0, "there is no timer 3");
	cr_assert_eq(rd64(0x3f8), 0);
}

Test(hpet, counter_runs_at_100mhz_only_while_enabled)
{
	at(500);
	cr_assert_eq(rd64(COUNTER), 0, "halted at reset");
	wr64(CONF, ENABLE);
	at(1500);
	cr_assert_eq(rd64(COUNTER), 1000);
	fake_clock_advance(&fake, 9);
	cr_assert_eq(rd64(COUNTER), 1000, "a tick is 10 ns");
	fake_clock_advance(&fake, 1);
	cr_assert_eq(rd64(COUNTER), 1001);
	wr64(CONF, 0);
	at(5000);
	cr_assert_eq(rd64(COUNTER), 1001, "halted: holds");
	wr64(COUNTER, 0x123456789ull);
	cr_assert_eq(rd64(COUNTER), 0x123456789ull, "written while halted");
	wr64(CONF, ENABLE);
	at(5100);
	cr_assert_eq(rd64(COUNTER), 0x123456789ull + 100, "counts on from it");
	wr64(COUNTER, 7);
	cr_assert_eq(rd64(COUNTER), 7, "written while running: taken at once");
	at(5110);
	cr_assert_eq(rd64(COUNTER), 17);
}

Test(hpet, one_shot_edge_at_the_match_once)
{
	wr64(TCFG(0), INT_ENB | ROUTE(2));
	wr64(TCMP(0), 1000);
	cr_assert_null(fake.timers, "the HPET is halted: nothing armed");
	wr64(CONF, ENABLE);
	cr_assert_not_null(fake.timers);
	cr_assert_eq(fake.timers->deadline_ns, 10000);
	fake_clock_advance(&fake, 9999);
	cr_assert_eq(edges[2], 0);
	fake_clock_advance(&fake, 1);
	cr_assert_eq(edges[2], 1, "at tick 1000 exactly");
	cr_assert_not(level[2], "an edge: the line is low again");
	cr_assert_eq(rd64(STATUS), 0, "edge timers leave no status");
	at(100000);
	cr_assert_eq(edges[2], 1, "once");
	cr_assert_null(fake.timers);
	cr_assert_eq(rd64(TCMP(0)), 1000, "a one-shot comparator stays");
	cr_assert_eq(all_edges(), 1, "only ISA IRQ 2");
}

Test(hpet, comparator_behind_the_counter_fires_at_once)
{
	wr64(CONF, ENABLE);
	at(5000);
	wr64(TCFG(1), INT_ENB | ROUTE(2));	/* comparator ~0: just behind */
	cr_assert_eq(edges[2], 1, "QEMU: a late comparator fires at once");
	wr64(TCMP(1), 4000);
	cr_assert_eq(edges[2], 2);
	wr64(TCMP(1), 6000);
	cr_assert_eq(edges[2], 2);
	at(6000);
	cr_assert_eq(edges[2], 3);
}

Test(hpet, periodic_interrupts_once_per_period)
{
	uint64_t sent, coalesced;

	wr64(TCFG(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(2));
	wr64(TCMP(0), 100000);		/* 1 ms */
	wr64(CONF, ENABLE);
	at(100000 * 10);
	cr_assert_eq(edges[2], 10);
	cr_assert_eq(fake.fired, 10, "one timer run per interrupt");
	at(100000 * 10 + 5);
	cr_assert_eq(rd64(TCMP(0)), 100000 * 11, "reads the next match");
	at(100000 * 10 + 99999);
	cr_assert_eq(edges[2], 10);
	at(100000 * 11);
	cr_assert_eq(edges[2], 11);
	stats(&sent, &coalesced);
	cr_assert_eq(sent, 11);
	cr_assert_eq(coalesced, 0);
	wr64(TCFG(0), PERIODIC | ROUTE(2));
	cr_assert_null(fake.timers, "INT_ENB clear: nothing armed");
	at(100000 * 13 + 1);
	cr_assert_eq(rd64(TCMP(0)), 100000 * 14, "the comparator still moves");
	cr_assert_eq(edges[2], 11);
}

/* Linux's hpet_clkevt_set_state_periodic: halt, VAL_SET with the first
 * match, then the period, start. */
Test(hpet, val_set_sequence_as_linux_does_it)
{
	const uint32_t delta = 100000;	/* 1 ms: above the rate limit */
	uint32_t cnt;

	wr64(CONF, ENABLE);
	at(777);
	wr32(CONF, 0);
	cnt = rd32(COUNTER);
	cr_assert_eq(cnt, 777);
	wr32(TCFG(0), INT_ENB | PERIODIC | VAL_SET | MODE32 | ROUTE(2));
	cr_assert(rd32(TCFG(0)) & VAL_SET, "reads back until the comparator write");
	wr32(TCMP(0), cnt + delta);
	cr_assert_not(rd32(TCFG(0)) & VAL_SET, "self-clearing");
	wr32(TCMP(0), delta);
	cr_assert_eq(rd64(TCMP(0)), cnt + delta, "the second write set only the period");
	wr32(CONF, ENABLE);
	at(777 + delta - 1);		/* the counter resumed at 777 */
	cr_assert_eq(edges[2], 0);
	at(777 + delta);
	cr_assert_eq(edges[2], 1);
	at(777 + 5 * delta);
	cr_assert_eq(edges[2], 5);
	cr_assert_eq(rd32(TCMP(0)), cnt + 6 * delta);
}

Test(hpet, level_mode_holds_the_line_until_cleared)
{
	wr64(TCFG(2), LEVEL | INT_ENB | ROUTE(2));
	wr64(TCMP(2), 100);
	wr64(CONF, ENABLE);
	at(99);
	cr_assert_not(level[2]);
	at(100);
	cr_assert(level[2], "held high");
	cr_assert_eq(rd64(STATUS), 1u << 2);
	wr64(STATUS, 1u << 1);
	cr_assert(level[2], "another timer's bit: nothing");
	wr64(STATUS, 1u << 2);
	cr_assert_not(level[2], "write 1 clears and lowers");
	cr_assert_eq(rd64(STATUS), 0);
	cr_assert_eq(edges[2], 1);

	wr64(TCMP(2), 200);
	at(200);
	cr_assert(level[2]);
	wr64(TCFG(2), LEVEL | ROUTE(2));
	cr_assert_not(level[2], "INT_ENB clear drops it");
	cr_assert_eq(rd64(STATUS), 0);

	wr64(TCFG(2), LEVEL | INT_ENB | ROUTE(2));
	wr64(TCMP(2), 300);
	at(300);
	cr_assert(level[2]);
	wr64(CONF, 0);
	cr_assert_not(level[2], "halting the HPET drops it");
	cr_assert_eq(rd64(STATUS), 0);
}

/* Two level timers on IRQ 2: the line stays high while either holds it. */
Test(hpet, shared_level_line)
{
	wr64(TCFG(0), LEVEL | INT_ENB | ROUTE(2));
	wr64(TCFG(1), LEVEL | INT_ENB | ROUTE(2));
	wr64(TCMP(0), 10);
	wr64(TCMP(1), 20);
	wr64(CONF, ENABLE);
	at(20);
	cr_assert_eq(rd64(STATUS), 3);
	wr64(STATUS, 1);
	cr_assert(level[2], "timer 1 still holds it");
	wr64(STATUS, 2);
	cr_assert_not(level[2]);
}

Test(hpet, mode32_comparator_is_32_bits)
{
	wr64(TCFG(0), INT_ENB | MODE32 | ROUTE(2));
	cr_assert_eq(rd64(TCMP(0)), 0xffffffffu, "truncated");
	wr32(TCMP(0) + 4, 0x55);
	cr_assert_eq(rd32(TCMP(0) + 4), 0, "upper half reads 0, writes ignored");
	wr64(COUNTER, 0x500000000ull);
	wr64(TCMP(0), 0x700000100ull);
	cr_assert_eq(rd64(TCMP(0)), 0x100);
	wr64(CONF, ENABLE);
	at(0xff);
	cr_assert_eq(edges[2], 0);
	at(0x100);
	cr_assert_eq(edges[2], 1, "against the counter's low 32 bits");
	cr_assert_eq(rd64(COUNTER), 0x500000100ull, "the counter is still 64 bits");
}

/* Spec 2.3.9.2.1 and QEMU's wrap_flag: a 32-bit one-shot whose match lies
 * past the counter's 32-bit wrap fires at the wrap too. */
Test(hpet, mode32_one_shot_fires_at_the_wrap)
{
	wr64(COUNTER, 0x2fffffff0ull);
	wr64(TCFG(1), INT_ENB | MODE32 | ROUTE(2));
	wr64(TCMP(1), 0x20);
	wr64(CONF, ENABLE);
	at(0xf);
	cr_assert_eq(edges[2], 0);
	at(0x10);
	cr_assert_eq(edges[2], 1, "the wrap");
	cr_assert_eq(rd64(COUNTER), 0x300000000ull);
	at(0x2f);
	cr_assert_eq(edges[2], 1);
	at(0x30);
	cr_assert_eq(edges[2], 2, "the match");
	at(0x30 + 0x200000000ull / 1000);
	cr_assert_eq(edges[2], 2, "and nothing more");
	cr_assert_null(fake.timers);
}

Test(hpet, mode32_periodic_wraps_with_the_counter)
{
	wr64(COUNTER, 0xffff0000ull);
	wr64(TCFG(0), INT_ENB | PERIODIC | VAL_SET | MODE32 | ROUTE(2));
	wr64(TCMP(0), 0xffff8000u);
	wr64(TCMP(0), 0x10000);
	wr64(CONF, ENABLE);
	at(0x8000);
	cr_assert_eq(edges[2], 1);
	at(0x18000);
	cr_assert_eq(edges[2], 2);
	cr_assert_eq(rd64(TCMP(0)), 0x18000, "the comparator wrapped to 32 bits");
	at(0x28000);
	cr_assert_eq(edges[2], 3);
}

Test(hpet, legacy_replacement_routes_timers_0_and_1)
{
	wr64(TCFG(0), INT_ENB | ROUTE(2));
	wr64(TCFG(1), INT_ENB | ROUTE(2));
	wr64(TCFG(2), INT_ENB | ROUTE(2));
	wr64(TCMP(0), 10);
	wr64(TCMP(1), 20);
	wr64(TCMP(2), 30);
	wr64(CONF, ENABLE | LEG_RT);
	at(10);
	cr_assert_eq(edges[0], 1, "timer 0 → IRQ 0");
	at(20);
	cr_assert_eq(edges[8], 1, "timer 1 → IRQ 8");
	at(30);
	cr_assert_eq(edges[2], 1, "timer 2 keeps its route");
	cr_assert_eq(all_edges(), 3);
	wr64(CONF, ENABLE);
	wr64(TCMP(0), 40);
	at(40);
	cr_assert_eq(edges[2], 2, "out of legacy mode: its route again");
	cr_assert_eq(edges[0], 1);
}

Test(hpet, legacy_inputs_forwarded_only_outside_legacy_mode)
{
	const struct irq_line *in = hpet_legacy_inputs(hpet);

	irq_pulse(&in[HPET_LEGACY_PIT]);
	cr_assert_eq(edges[0], 1, "the PIT reaches IRQ 0");
	irq_raise(&in[HPET_LEGACY_RTC]);
	cr_assert(level[8], "the RTC reaches IRQ 8");
	wr64(CONF, LEG_RT);
	cr_assert_not(level[8], "legacy mode lowers IRQ 8");
	cr_assert_not(level[0]);
	irq_pulse(&in[HPET_LEGACY_PIT]);
	cr_assert_eq(edges[0], 1, "the PIT is cut off");
	irq_lower(&in[HPET_LEGACY_RTC]);
	irq_raise(&in[HPET_LEGACY_RTC]);
	cr_assert_eq(edges[8], 1, "so is the RTC");
	wr64(CONF, 0);
	cr_assert(level[8], "leaving it restores the RTC's level");
	cr_assert_eq(edges[8], 2);
	irq_lower(&in[HPET_LEGACY_RTC]);
	cr_assert_not(level[8]);
	wr64(CONF, LEG_RT);
	wr64(CONF, 0);
	cr_assert_not(level[8], "a low RTC stays low");
}

Test(hpet, route_not_in_cap_interrupts_nothing)
{
	wr64(TCFG(0), INT_ENB | ROUTE(5));
	wr64(TCMP(0), 10);
	wr64(TCFG(1), LEVEL | INT_ENB | ROUTE(0));
	wr64(TCMP(1), 20);
	wr64(CONF, ENABLE);
	at(100);
	cr_assert_eq(all_edges(), 0);
	cr_assert_eq(rd64(STATUS), 2, "the level timer's status is still set");
	cr_assert_eq(rd64(TCFG(0)) & ROUTE(0x1f), ROUTE(5), "the route field keeps it");
}

/* A hostile period: at most one interrupt per 200 us, the rest coalesced,
 * the comparator still right. */
Test(hpet, tiny_periods_are_rate_limited)
{
	uint64_t sent, coalesced;

	wr64(TCFG(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(2));
	wr64(TCMP(0), 1);
	wr64(TCMP(0), 1);
	wr64(CONF, ENABLE);
	/* 1 ms and the first tick: interrupts at 10 ns, then every 200 us */
	fake_clock_advance(&fake, 1000010);
	cr_assert_eq(fake.fired, 1000010 / HPET_MIN_IRQ_PERIOD_NS + 1);
	cr_assert_eq(edges[2], fake.fired, "each run sends one");
	stats(&sent, &coalesced);
	cr_assert_eq(sent, edges[2]);
	cr_assert_eq(sent + coalesced, 100001, "every match accounted for");
	cr_assert_eq(rd64(TCMP(0)), 100002, "the next match");
}

Test(hpet, period_0_fires_once)
{
	wr64(TCFG(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(2));
	wr64(TCMP(0), 50);
	wr64(TCMP(0), 0);
	wr64(CONF, ENABLE);
	fake_clock_advance(&fake, 10000000);
	cr_assert_eq(edges[2], 1);
	cr_assert_leq(fake.fired, 1);
	cr_assert_null(fake.timers);
}

/* A 32-bit guest: every register through its 4-byte halves. */
Test(hpet, four_byte_halves_of_every_register)
{
	cr_assert_eq(rd32(GCAP), 0x8086a201u);
	cr_assert_eq(rd32(CONF + 4), 0);
	wr32(COUNTER + 4, 0x12);
	wr32(COUNTER, 0x345);
	cr_assert_eq(rd64(COUNTER), 0x1200000345ull);
	cr_assert_eq(rd32(COUNTER + 4), 0x12);
	cr_assert_eq(rd32(COUNTER), 0x345);
	wr32(TCFG(1) + 4, 0);
	cr_assert_eq(rd32(TCFG(1) + 4), 4, "INT_ROUTE_CAP is read-only");
	wr32(TCFG(1), INT_ENB | ROUTE(2));
	cr_assert_eq(rd32(TCFG(1)), INT_ENB | ROUTE(2) | 0x30);
	wr32(TCMP(1) + 4, 0x12);
	wr32(TCMP(1), 0x345 + 1000);
	cr_assert_eq(rd64(TCMP(1)), 0x1200000345ull + 1000);
	cr_assert_eq(rd32(TCMP(1) + 4), 0x12);
	wr32(CONF, ENABLE);
	cr_assert_eq(rd32(CONF), ENABLE);
	at(1000);
	cr_assert_eq(edges[2], 1, "the 64-bit match, written in halves");
	wr32(TCFG(1), LEVEL | INT_ENB | ROUTE(2));
	wr32(TCMP(1), 0x345 + 2000);
	at(2000);
	cr_assert_eq(rd32(STATUS), 2);
	cr_assert_eq(rd32(STATUS + 4), 0);
	wr32(STATUS, 2);
	cr_assert_not(level[2]);
	cr_assert_eq(rd32(TFSB(1)), 0);
	cr_assert_eq(rd32(TFSB(1) + 4), 0);
}

Test(hpet, other_sizes_and_alignments_fail_cleanly)
{
	uint16_t w = 0;
	uint8_t b = 0;
	uint64_t q = 0;

	cr_assert_neq(address_space_read(as, HPET_BASE, &b, 1), MEMTX_OK);
	cr_assert_neq(address_space_write(as, HPET_BASE + CONF, &w, 2), MEMTX_OK);
	cr_assert_neq(address_space_read(as, HPET_BASE + 2, &q, 4), MEMTX_OK);
	cr_assert_neq(address_space_write(as, HPET_BASE + 4, &q, 8), MEMTX_OK);
	cr_assert_eq(rd64(CONF), 0, "nothing was written");
}

Test(hpet, unrealize_disarms_and_lowers)
{
	uint32_t v = 0;

	wr64(TCFG(0), LEVEL | INT_ENB | ROUTE(2));
	wr64(TCMP(0), 10);
	wr64(TCFG(1), INT_ENB | PERIODIC | ROUTE(2));
	wr64(TCMP(1), 100);
	wr64(CONF, ENABLE);
	at(10);
	cr_assert(level[2]);
	cr_assert_not_null(fake.timers);
	object_free((struct object *)hpet);
	cr_assert_null(fake.timers);
	cr_assert_not(level[2]);
	cr_assert_neq(address_space_read(as, HPET_BASE, &v, 4), MEMTX_OK, "unmapped");
}

/* Found by fuzz_hpet: a level timer switched to edge with its line held
 * sends its next interrupt as an edge, which clears its status bit; the
 * line stayed high when that happened on a timer run (no register write
 * after it to set the lines). */
Test(hpet, edge_after_level_drops_the_line)
{
	wr64(TCFG(0), LEVEL | INT_ENB | ROUTE(2));
	wr64(TCMP(0), 10);
	wr64(CONF, ENABLE);
	at(10);
	cr_assert(level[2]);
	wr64(TCFG(0), INT_ENB | ROUTE(2));
	cr_assert(level[2], "the type alone changes nothing");
	wr64(TCMP(0), 20);
	at(20);
	cr_assert_not(level[2]);
	cr_assert_eq(edges[2], 2, "and the edge is seen");
	cr_assert_eq(rd64(STATUS), 0);
}

/* The timer thread wakes 10 periods late: one interrupt, 9 coalesced. */
Test(hpet, late_timer_coalesces_matches)
{
	uint64_t sent, coalesced;

	wr64(TCFG(0), INT_ENB | PERIODIC | VAL_SET | ROUTE(2));
	wr64(TCMP(0), 100000);
	wr64(CONF, ENABLE);
	at(100000);
	cr_assert_eq(edges[2], 1);
	fake.now = 100000 * 11 * 10;	/* time passed, no timer ran */
	fake_clock_advance(&fake, 0);
	cr_assert_eq(edges[2], 2);
	stats(&sent, &coalesced);
	cr_assert_eq(sent, 2);
	cr_assert_eq(coalesced, 9);
	cr_assert_eq(rd64(TCMP(0)), 100000 * 12);
	at(100000 * 12);
	cr_assert_eq(edges[2], 3, "and on at the normal rate");
}

/* A comparator beyond the clock's range (ns past 2^64) arms nothing; the
 * counter wraps at 2^64 and a match after the wrap is found. */
Test(hpet, far_comparators_and_the_64_bit_wrap)
{
	wr64(TCFG(0), INT_ENB | ROUTE(2));
	wr64(TCMP(0), 1ull << 62);
	wr64(CONF, ENABLE);
	cr_assert_null(fake.timers, "2^62 ticks: past the clock's range");
	wr64(CONF, 0);
	wr64(COUNTER, ~0ull - 99);
	wr64(TCMP(0), 50);
	wr64(CONF, ENABLE);
	at(149);
	cr_assert_eq(edges[2], 0);
	at(150);
	cr_assert_eq(edges[2], 1, "after the wrap");
	cr_assert_eq(rd64(COUNTER), 50);
}
