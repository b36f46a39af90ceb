/* Self-tests of the CPUs and their local APICs: ACPI's MADT, AP start-up,
 * IPIs (fixed, shorthands, self), TPR and nesting, the timer, an IPI storm.
 * Every count is exact: each test says how many interrupts it expects and
 * checks no vector arrived that nobody asked for.
 *
 * Guest code at CPL0 may run in KVM's instruction emulator (~1 us per
 * instruction on kvm_pvm hosts), so loops here stay short. */
#include "acpi.h"
#include "apic.h"
#include "lib.h"
#include "smp.h"
#include "tests.h"

#define STORM_K		200	/* IPIs from each CPU to each other CPU */
#define TIMER_ONESHOT_NS 5000000u
#define TIMER_PERIOD_NS	1000000u
#define TIMER_TICKS	10

static uint8_t idx_of[256];	/* APIC ID -> MADT index */
static bool bsp_apic_on;

/* The BSP's LAPIC, once: software-enabled, handlers for our vectors. */
static void bsp_setup(void)
{
	if (bsp_apic_on)
		return;
	apic_enable();
	bsp_apic_on = true;
}

static uint32_t unexpected_total(void)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < 256; i++)
		n += irq_unexpected[i];
	return n;
}

/* The common tail: no stray vectors, no APIC errors on the BSP. */
static int check_clean(uint32_t unexpected_before)
{
	uint32_t u = unexpected_total() - unexpected_before, esr;

	apic_write(APIC_ESR, 0);	/* latch, then read */
	esr = apic_read(APIC_ESR);
	if (u || esr) {
		tap_diag("%u unexpected interrupts, ESR %#x", u, esr);
		return -1;
	}
	return 0;
}

static bool need_aps(void)
{
	if (!smp_madt_ok || smp_ncpus() < 2) {
		tap_skip(smp_madt_ok ? "1 CPU" : "no MADT");
		return false;
	}
	return true;
}

static int aps_up(void)
{
	if (smp_online != smp_ncpus() - 1) {
		tap_diag("only %u of %u APs are up", smp_online, smp_ncpus() - 1);
		return -1;
	}
	return 0;
}

/* ---- acpi-madt ---- */

int test_acpi_madt(void)
{
	const char *why = "";
	char ids[200];
	size_t len = 0;

	smp_bsp_id = apic_id();
	if (acpi_read_madt(&smp_madt, &why)) {
		tap_diag("%s", why);
		return -1;
	}
	for (unsigned i = 0; i < smp_ncpus() && len < sizeof(ids); i++)
		len += snprintf(ids + len, sizeof(ids) - len, "%s%u", i ? " " : "",
				smp_madt.apic_ids[i]);
	tap_diag("RSDP %#llx, %s %#llx, MADT %#llx: LAPIC %#x, %u CPUs, APIC IDs %s",
		 (unsigned long long)smp_madt.rsdp, smp_madt.sdt_sig,
		 (unsigned long long)smp_madt.sdt, (unsigned long long)smp_madt.madt,
		 smp_madt.lapic_addr, smp_ncpus(), ids);
	if (smp_madt.lapic_addr != APIC_BASE || !smp_ncpus()) {
		tap_diag("want the LAPIC at %#llx and at least one CPU", APIC_BASE);
		return -1;
	}
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		if (smp_madt.apic_ids[i] > 0xfe || smp_cpu_index(smp_madt.apic_ids[i]) != (int)i) {
			tap_diag("APIC ID %u: duplicate or not an xAPIC ID", smp_madt.apic_ids[i]);
			return -1;
		}
		idx_of[smp_madt.apic_ids[i]] = (uint8_t)i;
	}
	if (smp_cpu_index(smp_bsp_id) < 0) {
		tap_diag("own APIC ID %u is not in the MADT", smp_bsp_id);
		return -1;
	}
	smp_madt_ok = true;
	return 0;
}

/* ---- smp-bringup ---- */

int test_smp_bringup(void)
{
	unsigned want, up;

	if (!smp_madt_ok) {
		tap_diag("no MADT: no CPU list");
		return -1;
	}
	bsp_setup();
	want = smp_ncpus() - 1;
	if (!want) {
		tap_diag("1 CPU: no AP to start");
		return 0;
	}
	up = smp_start_aps();
	tap_diag("%u of %u APs reported in", up, want);
	if (up != want || ap_next_stack != want) {
		tap_diag("%u stacks taken", ap_next_stack);
		return -1;
	}
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		bool bsp = smp_madt.apic_ids[i] == smp_bsp_id;

		if (smp_cpu_up[i] != !bsp) {
			tap_diag("CPU %u (APIC ID %u) started %u times", i,
				 smp_madt.apic_ids[i], smp_cpu_up[i]);
			return -1;
		}
	}
	return 0;
}

/* ---- ipi-each ---- */

static volatile uint32_t each_count[256];

static void each_handler(unsigned vector)
{
	(void)vector;
	each_count[apic_id()]++;
	apic_eoi();
}

static int each_expect(uint32_t want_ap)
{
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		unsigned id = smp_madt.apic_ids[i];
		uint32_t want = id == smp_bsp_id ? 0 : want_ap;

		if (each_count[id] != want) {
			tap_diag("APIC ID %u took vector %#x %u times, wanted %u", id,
				 VEC_EACH, each_count[id], want);
			return -1;
		}
	}
	return 0;
}

int test_ipi_each(void)
{
	uint32_t u = unexpected_total();

	if (!need_aps())
		return 0;
	if (aps_up())
		return -1;
	irq_set_handler(VEC_EACH, each_handler);
	irq_enable();
	for (unsigned i = 0; i < smp_ncpus(); i++) {
		unsigned id = smp_madt.apic_ids[i];

		if (id == smp_bsp_id)
			continue;
		apic_send(id, APIC_DM_FIXED | APIC_ICR_ASSERT | VEC_EACH);
		wait_ge(&each_count[id], 1, 1000);
	}
	delay_ms(5);		/* a duplicate would show up by now */
	if (each_expect(1))
		return -1;
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_OTHERS | VEC_EACH);
	for (unsigned i = 0; i < smp_ncpus(); i++)
		wait_ge(&each_count[smp_madt.apic_ids[i]],
			smp_madt.apic_ids[i] == smp_bsp_id ? 0 : 2, 1000);
	delay_ms(5);
	if (each_expect(2))
		return -1;
	tap_diag("%u APs: 1 IPI each by APIC ID, then 1 more each by all-excluding-self",
		 smp_ncpus() - 1);
	return check_clean(u);
}

/* ---- self-ipi ---- */

static volatile uint32_t self_count[256];

static void self_handler(unsigned vector)
{
	(void)vector;
	self_count[apic_id()]++;
	apic_eoi();
}

int test_self_ipi(void)
{
	uint32_t u = unexpected_total(), others = 0;
	bool pending;

	bsp_setup();
	irq_set_handler(VEC_SELF, self_handler);
	/* With IF=0 the IPI must wait in the IRR, not be lost or taken. */
	irq_disable();
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_SELF | VEC_SELF);
	pending = apic_vec_bit(APIC_IRR, VEC_SELF);
	if (!pending || self_count[smp_bsp_id]) {
		tap_diag("with IF=0: IRR bit %d, taken %u times", pending,
			 self_count[smp_bsp_id]);
		return -1;
	}
	irq_enable();
	wait_ge(&self_count[smp_bsp_id], 1, 1000);
	delay_ms(5);
	for (unsigned i = 0; i < 256; i++)
		others += i == smp_bsp_id ? 0 : self_count[i];
	if (self_count[smp_bsp_id] != 1 || others ||
	    apic_vec_bit(APIC_IRR, VEC_SELF) || apic_vec_bit(APIC_ISR, VEC_SELF)) {
		tap_diag("taken %u times here, %u elsewhere; IRR %d ISR %d",
			 self_count[smp_bsp_id], others, apic_vec_bit(APIC_IRR, VEC_SELF),
			 apic_vec_bit(APIC_ISR, VEC_SELF));
		return -1;
	}
	return check_clean(u);
}

/* ---- tpr-nesting ---- */

static volatile uint32_t tpr_low, tpr_high;

static void tpr_handler(unsigned vector)
{
	if (vector == VEC_TPR_LOW)
		tpr_low++;
	else
		tpr_high++;
	apic_eoi();
}

/* TPR 0x50 holds back class 4 (0x40) but not class 6 (0x60). */
static int tpr_part(void)
{
	bsp_setup();
	irq_set_handler(VEC_TPR_LOW, tpr_handler);
	irq_set_handler(VEC_TPR_HIGH, tpr_handler);
	apic_write(APIC_TPR, 0x50);
	irq_enable();
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_SELF | VEC_TPR_LOW);
	delay_ms(5);
	if (tpr_low || !apic_vec_bit(APIC_IRR, VEC_TPR_LOW) || apic_read(APIC_PPR) != 0x50) {
		tap_diag("TPR 0x50: vector %#x taken %u times, IRR %d, PPR %#x",
			 VEC_TPR_LOW, tpr_low, apic_vec_bit(APIC_IRR, VEC_TPR_LOW),
			 apic_read(APIC_PPR));
		return -1;
	}
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_SELF | VEC_TPR_HIGH);
	wait_ge(&tpr_high, 1, 1000);
	if (tpr_high != 1 || tpr_low) {
		tap_diag("TPR 0x50: %#x taken %u times, %#x %u times", VEC_TPR_HIGH,
			 tpr_high, VEC_TPR_LOW, tpr_low);
		return -1;
	}
	apic_write(APIC_TPR, 0);
	wait_ge(&tpr_low, 1, 1000);
	delay_ms(5);
	if (tpr_low != 1 || apic_vec_bit(APIC_IRR, VEC_TPR_LOW)) {
		tap_diag("TPR 0: %#x taken %u times, IRR %d", VEC_TPR_LOW, tpr_low,
			 apic_vec_bit(APIC_IRR, VEC_TPR_LOW));
		return -1;
	}
	return 0;
}

#define VEC_NEST_LOW	0x41
#define VEC_NEST_SAME	0x42	/* same class as VEC_NEST_LOW: must wait */
/* L: low taken, p: both IPIs pending, H/h: high before/after its EOI,
 * e: same-class still pending, l: low's EOI done, S: same-class taken. */
#define NEST_ORDER	"LpHhelS"
#define NEST_ORDER_LEN	7
static char nest_log[12];
static volatile unsigned nest_len;
static volatile bool nest_ok, nest_high_done;

static void nest_mark(char c, bool ok)
{
	if (nest_len < sizeof(nest_log) - 1)
		nest_log[nest_len++] = c;
	if (!ok) {
		nest_ok = false;
		tap_diag("at '%c': ISR %#x/%#x/%#x, IRR %#x/%#x, PPR %#x", c,
			 apic_read(APIC_ISR + 0x20), apic_read(APIC_ISR + 0x30),
			 apic_read(APIC_ISR + 0x40), apic_read(APIC_IRR + 0x20),
			 apic_read(APIC_IRR + 0x30), apic_read(APIC_PPR));
	}
}

static bool isr(unsigned v)
{
	return apic_vec_bit(APIC_ISR, v);
}

/* Class 7 nests inside class 4: ISR holds both, PPR is 0x70, and the EOI
 * retires the highest in-service vector first. A second class-4 vector
 * waits in the IRR until the first one's EOI (SDM 11.8.3). */
static void nest_high_handler(unsigned vector)
{
	(void)vector;
	nest_mark('H', isr(VEC_NEST_LOW) && isr(VEC_NEST_HIGH) &&
		  apic_read(APIC_PPR) == VEC_NEST_HIGH);
	apic_eoi();
	nest_mark('h', isr(VEC_NEST_LOW) && !isr(VEC_NEST_HIGH));
	nest_high_done = true;
}

static void nest_same_handler(unsigned vector)
{
	(void)vector;
	nest_mark('S', isr(VEC_NEST_SAME) && !isr(VEC_NEST_LOW));
	apic_eoi();
}

static void nest_low_handler(unsigned vector)
{
	uint64_t end = deadline_ms(1000);

	(void)vector;
	nest_mark('L', isr(VEC_NEST_LOW) && apic_read(APIC_PPR) == 0x40);
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_SELF | VEC_NEST_SAME);
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_SELF | VEC_NEST_HIGH);
	nest_mark('p', apic_vec_bit(APIC_IRR, VEC_NEST_HIGH) &&
		  apic_vec_bit(APIC_IRR, VEC_NEST_SAME) && !nest_high_done);
	irq_enable();		/* interrupt gates cleared IF: let it nest */
	while (!nest_high_done && !past(end))
		cpu_relax();
	delay_ms(1);		/* time for VEC_NEST_SAME to be (wrongly) taken */
	irq_disable();
	nest_mark('e', apic_vec_bit(APIC_IRR, VEC_NEST_SAME));
	apic_eoi();
	nest_mark('l', !isr(VEC_NEST_LOW) && !isr(VEC_NEST_HIGH));
}

static int nest_part(void)
{
	nest_ok = true;
	irq_set_handler(VEC_NEST_LOW, nest_low_handler);
	irq_set_handler(VEC_NEST_HIGH, nest_high_handler);
	irq_set_handler(VEC_NEST_SAME, nest_same_handler);
	irq_enable();
	apic_send(0, APIC_DM_FIXED | APIC_ICR_ASSERT | APIC_SH_SELF | VEC_NEST_LOW);
	wait_ge((const volatile uint32_t *)&nest_len, NEST_ORDER_LEN, 1000);
	delay_ms(2);
	nest_log[nest_len < sizeof(nest_log) ? nest_len : sizeof(nest_log) - 1] = 0;
	if (!nest_ok || strcmp(nest_log, NEST_ORDER)) {
		tap_diag("nesting: order '%s', wanted '" NEST_ORDER "'", nest_log);
		return -1;
	}
	return 0;
}

int test_tpr_nesting(void)
{
	uint32_t u = unexpected_total();

	if (tpr_part() || nest_part())
		return -1;
	tap_diag("TPR 0x50 held %#x in the IRR until TPR 0; %#x nested in %#x, %#x waited: "
		 NEST_ORDER, VEC_TPR_LOW, VEC_NEST_HIGH, VEC_NEST_LOW, VEC_NEST_SAME);
	return check_clean(u);
}

/* ---- timer-oneshot, timer-periodic ---- */

static volatile uint32_t timer_count;
static volatile uint64_t timer_tsc[TIMER_TICKS + 1];

static void timer_handler(unsigned vector)
{
	(void)vector;
	if (timer_count <= TIMER_TICKS)
		timer_tsc[timer_count] = rdtsc();
	timer_count++;
	apic_eoi();
}

static void timer_stop(void)
{
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TMICT, 0);
}

/* TSC ticks per 1000 ns (apic.c: tsc_khz). */
static uint64_t tsc_per_us(void)
{
	uint64_t khz = tsc_khz(2);

	if (!khz)
		tap_diag("the current count is not counting down");
	return khz / 1000;
}

static uint64_t tsc_to_us(uint64_t dt, uint64_t per_us)
{
	return dt / per_us;
}

int test_timer_oneshot(void)
{
	uint32_t u = unexpected_total(), cc;
	uint64_t per_us, t0, us;

	bsp_setup();
	irq_set_handler(VEC_TIMER, timer_handler);
	per_us = tsc_per_us();
	if (!per_us)
		return -1;
	timer_count = 0;
	irq_enable();
	apic_write(APIC_LVT_TIMER, VEC_TIMER);		/* one-shot */
	t0 = rdtsc();
	apic_write(APIC_TMICT, TIMER_ONESHOT_NS);
	wait_ge(&timer_count, 1, 2000);
	cc = apic_read(APIC_TMCCT);
	us = timer_count ? tsc_to_us(timer_tsc[0] - t0, per_us) : 0;
	/* Three more periods: a one-shot timer must stay quiet. */
	while (tsc_to_us(rdtsc() - t0, per_us) < 4 * TIMER_ONESHOT_NS / 1000)
		cpu_relax();
	timer_stop();
	tap_diag("fired after %llu us (%u us asked; TSC %llu.%03llu GHz)",
		 (unsigned long long)us, TIMER_ONESHOT_NS / 1000,
		 (unsigned long long)per_us / 1000, (unsigned long long)per_us % 1000);
	/* Durations are diagnostics only: on a shared host even the TSC
	 * calibration is a timing measurement. */
	if (timer_count != 1 || cc) {
		tap_diag("fired %u times, current count %u after it", timer_count, cc);
		return -1;
	}
	return check_clean(u);
}

/* Two reads of the current count, close together, going down (retrying
 * a few times, as a periodic reload may fall between them). */
static bool count_goes_down(uint32_t initial)
{
	for (int i = 0; i < 5; i++) {
		uint32_t a = apic_read(APIC_TMCCT), b = apic_read(APIC_TMCCT);

		if (a <= initial && b < a)
			return true;
	}
	return false;
}

int test_timer_periodic(void)
{
	uint32_t u = unexpected_total(), after;
	uint64_t per_us, t0, us;
	bool down;

	bsp_setup();
	irq_set_handler(VEC_TIMER, timer_handler);
	per_us = tsc_per_us();
	if (!per_us)
		return -1;
	timer_count = 0;
	irq_enable();
	apic_write(APIC_TDCR, APIC_TDCR_DIV16);
	apic_write(APIC_LVT_TIMER, APIC_LVT_PERIODIC | VEC_TIMER);
	t0 = rdtsc();
	apic_write(APIC_TMICT, TIMER_PERIOD_NS / 16);
	down = count_goes_down(TIMER_PERIOD_NS / 16);
	wait_ge(&timer_count, TIMER_TICKS, 4000);
	down = down && count_goes_down(TIMER_PERIOD_NS / 16);
	timer_stop();
	delay_ms(2);		/* a tick already in the IRR may still land */
	after = timer_count;
	delay_ms(5);
	us = timer_count >= TIMER_TICKS ?
	     tsc_to_us(timer_tsc[TIMER_TICKS - 1] - t0, per_us) : 0;
	tap_diag("%u ticks of %u us in %llu us, then %u more after the stop",
		 TIMER_TICKS, TIMER_PERIOD_NS / 1000, (unsigned long long)us,
		 timer_count - after);
	if (timer_count < TIMER_TICKS || timer_count != after || !down) {
		tap_diag("%u ticks; current count going down: %d", timer_count, down);
		return -1;
	}
	return check_clean(u);
}

/* ---- ipi-storm ---- */

/* storm_recv[r][s]: IPIs receiver r took from sender s (MADT indices).
 * Sender s uses vector VEC_STORM + s, and sends its next one to r only
 * once r has counted the previous: one of each vector is ever in flight,
 * so none can coalesce in an IRR and the counts are exact. */
static volatile uint32_t storm_recv[SMP_MAX_CPUS][SMP_MAX_CPUS];
static volatile uint32_t storm_timeouts;

static void storm_handler(unsigned vector)
{
	storm_recv[idx_of[apic_id()]][vector - VEC_STORM]++;
	apic_eoi();
}

static void storm_work(void)
{
	unsigned me = idx_of[apic_id()], n = smp_ncpus();

	for (uint32_t round = 0; round <= STORM_K; round++)
		for (unsigned r = 0; r < n; r++) {
			if (r == me)
				continue;
			if (!wait_ge(&storm_recv[r][me], round, 10000)) {
				__atomic_add_fetch(&storm_timeouts, 1, __ATOMIC_SEQ_CST);
				return;
			}
			if (round < STORM_K)
				apic_send(smp_madt.apic_ids[r],
					  APIC_DM_FIXED | APIC_ICR_ASSERT | (VEC_STORM + me));
		}
}

int test_ipi_storm(void)
{
	uint32_t u = unexpected_total(), total = 0;
	unsigned n = smp_ncpus();
	uint64_t t0;
	bool done;

	if (!need_aps())
		return 0;
	if (aps_up())
		return -1;
	for (unsigned s = 0; s < n; s++)
		irq_set_handler(VEC_STORM + s, storm_handler);
	irq_enable();
	t0 = rdtsc();
	smp_run_on_aps(storm_work);
	storm_work();
	done = smp_wait_aps(60000);
	delay_ms(5);
	for (unsigned r = 0; r < n; r++)
		for (unsigned s = 0; s < n; s++) {
			uint32_t want = r == s ? 0 : STORM_K;

			total += storm_recv[r][s];
			if (storm_recv[r][s] != want) {
				tap_diag("CPU %u took %u IPIs from CPU %u, wanted %u", r,
					 storm_recv[r][s], s, want);
				return -1;
			}
		}
	tap_diag("%u CPUs x %u IPIs to each other CPU: %u delivered, ~%llu Mcycles",
		 n, STORM_K, total, (unsigned long long)(rdtsc() - t0) / 1000000);
	if (!done || storm_timeouts) {
		tap_diag("APs finished: %d, sender timeouts: %u", done, storm_timeouts);
		return -1;
	}
	return check_clean(u);
}
