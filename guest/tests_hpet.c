/* The `hpet` self-test: the HPET of QEMU's `-M pc` (IA-PC HPET spec
 * 1.0a), found through the ACPI "HPET" table: its capabilities, the main
 * counter, one-shot, periodic and level-triggered timer interrupts through
 * the I/O APIC, and the legacy replacement route that takes IRQ 0 from
 * the PIT. As in the irq group, each source is stopped by its own handler
 * at exactly the count wanted, and nothing may come in QUIET_MS after.
 * Timers are armed with the counter halted, so a slow (emulated) guest
 * cannot miss a comparator it is still writing. */
#include "acpi.h"
#include "apic.h"
#include "boot.h"
#include "hpet.h"
#include "ioapic.h"
#include "lib.h"
#include "pit.h"
#include "tests.h"

#define VEC_HPET	0xc4	/* the irq group has 0xc0-0xc2 */
#define PERIODIC_N	10
#define TIMER_US	1000	/* the one-shot delay and the period */
#define BUDGET_MS	3000	/* to reach the count (the run is emulated) */
#define QUIET_MS	5	/* after the stop, nothing more may come */
#define TICK_MS		1	/* wakes the HLT of the waits */
#define RATE_MS		20	/* the counter against the TSC */
#define PIT_1KHZ	1193
#define PIT_TC_MS	60	/* a mode 0 count of 0xffff: 55 ms */
#define PIT_BACK_MS	20

static struct hpet hpet;
static struct madt_info madt;
static uint64_t ioapic_base;

/* The handler's state: the timer under test, deliveries, the stop. */
static unsigned tn;
static unsigned pin;		/* its I/O APIC input */
static volatile uint32_t count;
static uint32_t want;
static uint32_t in_flight;	/* accepted again (IRR) when it stopped */
static uint64_t fired_at;	/* the counter in the first delivery */
static uint32_t cmp_at_stop;	/* the periodic comparator at the stop */
/* A handler found its vector clear in the ISR (SDM 11.8.4: acceptance
 * sets it): QEMU's in-kernel LAPIC on kvm_pvm, which also delivers a
 * vector twice now and then (README). */
static bool isr_missing;

/* ---- 1. capabilities ---- */

static int check_caps(void)
{
	uint32_t c = hpet.cap;
	int r = 0;

	tap_diag("HPET at %#llx, block ID %#x: GCAP_ID %#x, period %u fs; rev %u,"
		 " vendor %#06x, %u timers, LEG_RT_CAP %u, %u-bit counter",
		 (unsigned long long)hpet.base, hpet.block_id, c, hpet.period_fs,
		 HPET_CAP_REV(c), HPET_CAP_VENDOR(c), hpet.timers,
		 c & HPET_CAP_LEG_RT ? 1 : 0, c & HPET_CAP_COUNT_64 ? 64 : 32);
	for (unsigned n = 0; n < hpet.timers; n++) {
		uint64_t t = hpet_timer_cap(&hpet, n);

		tap_diag("timer %u: CONF_CAP %#llx, INT_ROUTE_CAP %#x%s%s%s", n,
			 (unsigned long long)t, (uint32_t)(t >> 32),
			 t & HPET_TN_PER_INT_CAP ? ", periodic" : "",
			 t & HPET_TN_SIZE_CAP ? ", 64-bit" : ", 32-bit",
			 t & HPET_TN_FSB_CAP ? ", FSB" : "");
	}
	if (!HPET_CAP_REV(c)) {
		tap_diag("REV_ID 0 (reserved)");
		r = -1;
	}
	if (!hpet.period_fs || hpet.period_fs > HPET_MAX_PERIOD_FS) {
		tap_diag("period not in (0, 100 ns]");
		r = -1;
	}
	if (hpet.timers < 3) {
		tap_diag("fewer than 3 timers");
		r = -1;
	}
	if (hpet.block_id != c) {
		tap_diag("the table's block ID is not GCAP_ID's low half");
		r = -1;
	}
	return r;
}

/* ---- 2. the main counter ---- */

static int check_halted(void)
{
	uint64_t width = hpet.cap & HPET_CAP_COUNT_64 ? ~0ull : 0xffffffffull;
	uint64_t a, b, v = 0x00000001deadbeefull & width, rb;

	hpet_off(&hpet);
	a = hpet_counter(&hpet);
	delay_ms(1);
	b = hpet_counter(&hpet);
	hpet_write64(&hpet, HPET_MAIN_CNT, v);
	rb = hpet_counter(&hpet);
	tap_diag("halted: %#llx, 1 ms later %#llx; wrote %#llx, read %#llx",
		 (unsigned long long)a, (unsigned long long)b,
		 (unsigned long long)v, (unsigned long long)rb);
	hpet_write64(&hpet, HPET_MAIN_CNT, 0);
	return a == b && rb == v ? 0 : -1;
}

/* Gross errors only, as pm-timer: a loaded host stretches the TSC's own
 * calibration, so the rate must be within a factor of 2. */
static int check_rate(void)
{
	uint64_t khz = tsc_khz(10), t0, t1, c0, c1, ns, expect, permille;

	if (!khz) {
		tap_diag("no TSC rate: the LAPIC timer does not count");
		return -1;
	}
	hpet_run(&hpet, true);
	t0 = rdtsc();
	c0 = hpet_counter(&hpet);
	while (rdtsc() - t0 < RATE_MS * khz)
		cpu_relax();
	c1 = hpet_counter(&hpet);
	t1 = rdtsc();
	hpet_run(&hpet, false);
	ns = (t1 - t0) * 1000000 / khz;
	expect = ns * 1000000 / hpet.period_fs;
	permille = expect ? (c1 - c0) * 1000 / expect : 0;
	tap_diag("running: %llu ticks in %llu us of TSC (%llu kHz), %llu expected:"
		 " ratio %llu.%03llu", (unsigned long long)(c1 - c0),
		 (unsigned long long)ns / 1000, (unsigned long long)khz,
		 (unsigned long long)expect, (unsigned long long)permille / 1000,
		 (unsigned long long)permille % 1000);
	return permille >= 500 && permille <= 2000 ? 0 : -1;
}

/* ---- counting deliveries ---- */

static void expect_irqs(uint32_t n, irq_handler_t fn)
{
	count = 0;
	want = n;
	in_flight = 0;
	fired_at = 0;
	isr_missing = false;
	irq_set_handler(VEC_HPET, fn);
}

static void count_irq(unsigned vector)
{
	if (!apic_vec_bit(APIC_ISR, vector))
		isr_missing = true;
	count++;
	apic_eoi();
}

/* Sleeps with IF=1 until @n deliveries or @ms pass; the count then. */
static uint32_t sleep_for(uint32_t n, unsigned ms)
{
	uint64_t end = deadline_ms(ms);

	apic_tick_start(TICK_MS);
	while (count < n && !past(end))
		irq_wait();
	apic_tick_stop();
	return count;
}

/* Until the count is reached (or BUDGET_MS), then QUIET_MS more: exactly
 * the count, one more only if it was in the IRR at the stop, and no
 * vector without a handler. */
static int wait_exactly(const char *what)
{
	uint32_t unexpected = irq_unexpected[apic_id()], at_stop;

	at_stop = sleep_for(want, BUDGET_MS);
	sleep_for(UINT32_MAX, QUIET_MS);
	unexpected = irq_unexpected[apic_id()] - unexpected;
	tap_diag("%s: %u of %u within the budget, %u after %u ms more (%u in flight"
		 " at the stop), %u unexpected vectors", what, at_stop, want, count,
		 QUIET_MS, in_flight, unexpected);
	if (at_stop >= want && count == want + in_flight && !unexpected)
		return 0;
	if (!isr_missing || boot_on_tinyvmm() || at_stop < want ||
	    count != want + in_flight + 1 || unexpected)
		return -1;
	tap_diag("the LAPIC did not set the ISR bit of the vector in service"
		 " (QEMU's in-kernel LAPIC on kvm_pvm): one duplicate tolerated");
	return 0;
}

/* ---- the timer and I/O APIC input under test ---- */

/* The first timer whose INT_ROUTE_CAP names an input of the MADT's first
 * I/O APIC, with its lowest such input. */
static bool pick_routed_timer(unsigned *timer, unsigned *input)
{
	unsigned pins = ioapic_pins(ioapic_base);

	for (unsigned n = 0; n < hpet.timers; n++) {
		uint32_t cap = (uint32_t)(hpet_timer_cap(&hpet, n) >> 32);

		for (unsigned i = 0; i < pins && i < 32; i++)
			if (cap & 1u << i) {
				*timer = n;
				*input = i;
				return true;
			}
	}
	return false;
}

/* Tn_CONF = @conf, whose route and mode bits must read back (a route the
 * timer lacks would not: spec 2.3.8). */
static bool timer_conf(unsigned n, uint32_t conf)
{
	uint32_t kept = HPET_TN_ROUTE_MASK | HPET_TN_INT_ENB | HPET_TN_LEVEL |
			HPET_TN_PERIODIC;
	uint32_t rb;

	hpet_write(&hpet, HPET_TN_CONF(n), conf);
	rb = hpet_read(&hpet, HPET_TN_CONF(n));
	if ((rb & kept) == (conf & kept))
		return true;
	tap_diag("timer %u: wrote CONF %#x, read %#x", n, conf, rb);
	return false;
}

/* Timer tn one-shot at the halted counter + TIMER_US with @conf, the
 * counter halted, its pin routed with @flags (IOAPIC_LEVEL). */
static bool arm_oneshot(uint32_t conf, uint32_t flags)
{
	uint64_t cmp;

	hpet_off(&hpet);
	cmp = hpet_counter(&hpet) + hpet_ticks_us(&hpet, TIMER_US);
	hpet_write64(&hpet, HPET_TN_CMP(tn), cmp);
	if (!timer_conf(tn, conf))
		return false;
	ioapic_route(ioapic_base, pin, VEC_HPET, apic_id(), flags);
	return true;
}

static uint32_t route_cnf(void)
{
	return pin << HPET_TN_ROUTE_SHIFT;
}

/* ---- 3. one-shot, edge ---- */

static void oneshot_irq(unsigned vector)
{
	if (!count)
		fired_at = hpet_counter(&hpet);
	count_irq(vector);
}

static int oneshot_edge(void)
{
	uint64_t cmp;
	int r;

	if (!arm_oneshot(HPET_TN_INT_ENB | route_cnf(), 0))
		return -1;
	cmp = hpet_read64(&hpet, HPET_TN_CMP(tn));
	expect_irqs(1, oneshot_irq);
	hpet_run(&hpet, true);
	r = wait_exactly("one-shot, edge, 1 ms");
	if (!count)
		return -1;
	tap_diag("comparator %#llx, counter %#llx in the handler",
		 (unsigned long long)cmp, (unsigned long long)fired_at);
	if (fired_at < cmp) {
		tap_diag("delivered before the comparator matched");
		r = -1;
	}
	return r;
}

/* ---- 4. periodic (and 6: legacy replacement) ---- */

static uint32_t period, first_cmp;

/* Stops the timer on the N-th delivery and notes its comparator. */
static void periodic_irq(unsigned vector)
{
	if (count + 1 == want) {
		cmp_at_stop = hpet_read(&hpet, HPET_TN_CMP(tn));
		hpet_write(&hpet, HPET_TN_CONF(tn), 0);
		/* fired again already: the vector waits in the IRR */
		in_flight = apic_vec_bit(APIC_IRR, vector);
	}
	count_irq(vector);
}

/* Linux's sequence (hpet_clkevt_set_state_periodic), a 32-bit comparator
 * with the counter halted: VAL_SET, then the first match, then the period
 * (the AMD 8111 needs that second write). Starts the counter. */
static bool start_periodic(uint32_t route)
{
	uint32_t now = hpet_read(&hpet, HPET_MAIN_CNT);

	period = (uint32_t)hpet_ticks_us(&hpet, TIMER_US);
	first_cmp = now + period;
	if (!timer_conf(tn, HPET_TN_INT_ENB | HPET_TN_PERIODIC | HPET_TN_VAL_SET |
			HPET_TN_32MODE | route))
		return false;
	hpet_write(&hpet, HPET_TN_CMP(tn), first_cmp);
	hpet_write(&hpet, HPET_TN_CMP(tn), period);
	expect_irqs(PERIODIC_N, periodic_irq);
	hpet_run(&hpet, true);
	return true;
}

/* Each match adds the period to the comparator (spec 2.3.9.2.2): after N
 * deliveries it moved on by N periods at least (more if some merged). */
static int check_comparator(void)
{
	uint32_t moved = cmp_at_stop - first_cmp;

	if (count < want)
		return -1;
	tap_diag("comparator %#x at the start, %#x at the stop: %u periods of %u"
		 " ticks and %u more", first_cmp, cmp_at_stop, moved / period, period,
		 moved % period);
	return moved % period || moved / period < want ? -1 : 0;
}

static int periodic(void)
{
	uint64_t cap = hpet_timer_cap(&hpet, 0);
	int r;

	if (!(cap & HPET_TN_PER_INT_CAP) || !(cap >> 32 & 1u << pin)) {
		tap_diag("timer 0 is not periodic or cannot reach input %u", pin);
		return -1;
	}
	tn = 0;
	hpet_off(&hpet);
	ioapic_route(ioapic_base, pin, VEC_HPET, apic_id(), 0);
	if (!start_periodic(route_cnf()))
		return -1;
	r = wait_exactly("periodic timer 0, 1 ms");
	return check_comparator() || r ? -1 : 0;
}

/* ---- 5. one-shot, level ---- */

static uint32_t remote_irr_seen, sta_seen, sta_left;

/* The status bit is set while the line is held; writing 1 clears it and
 * lowers the line, so the EOI finds it low: no second delivery. */
static void level_irq(unsigned vector)
{
	uint32_t bit = 1u << tn;

	if (!count) {
		remote_irr_seen = ioapic_entry(ioapic_base, pin) & IOAPIC_REMOTE_IRR;
		sta_seen = hpet_read(&hpet, HPET_GINTR_STA) & bit;
		hpet_write(&hpet, HPET_GINTR_STA, bit);
		sta_left = hpet_read(&hpet, HPET_GINTR_STA) & bit;
	}
	count_irq(vector);
}

static int oneshot_level(void)
{
	uint32_t before, after;
	int r;

	if (!arm_oneshot(HPET_TN_INT_ENB | HPET_TN_LEVEL | route_cnf(), IOAPIC_LEVEL))
		return -1;
	before = hpet_read(&hpet, HPET_GINTR_STA);
	expect_irqs(1, level_irq);
	hpet_run(&hpet, true);
	r = wait_exactly("one-shot, level, 1 ms");
	/* read after the quiet wait: the EOI reaches the I/O APIC as a message */
	after = ioapic_entry(ioapic_base, pin);
	tap_diag("GINTR_STA %#x when armed; entry %#x after the EOI", before, after);
	if (!count)
		return -1;
	tap_diag("first delivery: remote IRR %s, status bit %s, %s after writing 1",
		 remote_irr_seen ? "set" : "clear", sta_seen ? "set" : "clear",
		 sta_left ? "still set" : "clear");
	if (before || !remote_irr_seen || !sta_seen || sta_left || after & IOAPIC_REMOTE_IRR)
		r = -1;
	return r;
}

/* ---- 6. legacy replacement ---- */

static uint32_t isa_irq0_flags(void)
{
	uint16_t f = madt.isa_flags[0];

	return ((f & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL ? IOAPIC_LEVEL : 0) |
	       ((f & MPS_POLARITY_MASK) == MPS_POLARITY_LOW ? IOAPIC_ACTIVE_LOW : 0);
}

/* Timer 0 periodic as ISA IRQ 0 while the PIT ticks at 1 kHz on IRQ 0
 * too: only the HPET's deliveries come (spec 2.3.7: the PIT's IRQ 0 is
 * taken away), the comparator proves they were its own; with LEG_RT_CNF
 * clear again the PIT's ticks come back. */
static int legacy(void)
{
	uint32_t back;
	int r;

	tn = 0;
	pin = madt.isa_gsi[0] - madt.ioapic_gsi_base;
	if (madt.isa_gsi[0] < madt.ioapic_gsi_base || pin >= ioapic_pins(ioapic_base)) {
		tap_diag("ISA IRQ 0 (GSI %u) not on the first I/O APIC", madt.isa_gsi[0]);
		return -1;
	}
	tap_diag("ISA IRQ 0: I/O APIC input %u, MADT flags %#x", pin, madt.isa_flags[0]);
	hpet_off(&hpet);
	pit_periodic(PIT_1KHZ);
	hpet_write(&hpet, HPET_GEN_CONF, HPET_LEG_RT_CNF);
	r = start_periodic(0) ? 0 : -1;
	ioapic_route(ioapic_base, pin, VEC_HPET, apic_id(), isa_irq0_flags());
	if (!r)
		r = wait_exactly("legacy replacement: timer 0 as IRQ 0, PIT at 1 kHz")
		    | check_comparator();
	hpet_off(&hpet);
	expect_irqs(UINT32_MAX, count_irq);
	back = sleep_for(UINT32_MAX, PIT_BACK_MS);
	tap_diag("LEG_RT_CNF clear: %u PIT ticks in %u ms", back, PIT_BACK_MS);
	pit_stop();
	ioapic_mask(ioapic_base, pin);
	return back ? r : -1;
}

/* ---- the test ---- */

/* The PIT shares input 2 on a PC: stopped (mode 0, as the irq group
 * leaves it) and its one terminal count edge waited out with the input
 * masked; the PICs masked (as the guest keeps them). */
static void quiet_pit(void)
{
	ioapic_mask(ioapic_base, pin);
	pic_mask_all();
	pit_stop();
	delay_ms(PIT_TC_MS);
}

static int hpet_steps(void)
{
	unsigned routed;
	int r;

	if (check_caps())
		return -1;
	r = check_halted() | check_rate();
	if (!pick_routed_timer(&routed, &pin)) {
		tap_diag("no timer routes to an input of the MADT's I/O APIC");
		return -1;
	}
	tap_diag("timer %u through I/O APIC input %u", routed, pin);
	quiet_pit();
	tn = routed;
	r |= oneshot_edge();
	r |= periodic();
	tn = routed;
	r |= oneshot_level();
	ioapic_mask(ioapic_base, pin);
	if (hpet.cap & HPET_CAP_LEG_RT)
		r |= legacy();
	return r;
}

int test_hpet(void)
{
	const char *why = "?";
	uint64_t flags;
	int r = hpet_find(&hpet, &why);

	if (r <= 0) {
		if (!r)
			tap_skip("no HPET table");
		else
			tap_diag("%s", why);
		return r;
	}
	if (acpi_read_madt(&madt, &why) || !madt.ioapic_addr) {
		tap_diag("no I/O APIC in the MADT");
		return -1;
	}
	ioapic_base = madt.ioapic_addr;
	flags = irq_save();
	apic_enable();
	r = hpet_steps();
	hpet_off(&hpet);
	irq_set_handler(VEC_HPET, 0);
	irq_restore(flags);
	return r;
}
