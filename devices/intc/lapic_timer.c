/* The LAPIC timer (SDM 11.5.4): one-shot, periodic and TSC-deadline modes.
 *
 * The bus clock is 1 GHz: one tick per ns before the divider, so a count of
 * N with divide-by-D lasts N * D ns. Nothing ticks: the current count is
 * computed from ops->now_ns(), and the next expiry is handed to the VMM with
 * ops->timer_arm(); the VMM calls lapic_timer_fire() when it passes. */
#include "devices/intc/lapic.h"

#include "devices/intc/lapic_int.h"

static unsigned timer_mode(const struct lapic *l)
{
	return (l->lvt[LVT_TIMER] >> 17) & 3;
}

static bool timer_periodic(const struct lapic *l)
{
	return timer_mode(l) == 1;
}

static bool timer_tscdl(const struct lapic *l)
{
	return timer_mode(l) == 2;
}

/* Tell the VMM about a changed deadline (only a change: arming is a
 * syscall in the VMM, and this runs on every register write). */
static void timer_rearm(struct lapic *l)
{
	struct lapic_timer *t = &l->timer;

	if (t->deadline_ns == t->armed_ns)
		return;
	t->armed_ns = t->deadline_ns;
	l->bus->ops->timer_arm(l->bus->opaque, l->cpu, t->deadline_ns);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void timer_stop(struct lapic *l)
{
	l->timer.active = false;
	l->timer.tsc_deadline = 0;
	l->timer.deadline_ns = 0;
	timer_rearm(l);
}

/* Count @count ticks from @now. */
static void timer_start(struct lapic *l, uint64_t now, uint32_t count)
{
	struct lapic_timer *t = &l->timer;

	t->active = true;
	t->start_ns = now;
	t->start_count = count;
	t->deadline_ns = add_sat(now, (uint64_t)count << t->shift);
	timer_rearm(l);
}

void lapic_timer_reset(struct lapic *l)
{
	l->timer.tmict = 0;
	l->timer.tdcr = 0;
	l->timer.shift = 1;	/* TDCR 0 divides by 2 */
	timer_stop(l);
}

static uint32_t timer_current_at(const struct lapic *l, uint64_t now)
{
	const struct lapic_timer *t = &l->timer;
	uint64_t ticks;

	if (!t->active || timer_tscdl(l))
		return 0;
	ticks = now > t->start_ns ? (now - t->start_ns) >> t->shift : 0;
	if (ticks < t->start_count)
		return t->start_count - ticks;
	if (!timer_periodic(l) || !t->tmict)
		return 0;
	/* Later periods reload the initial count. */
	return t->tmict - (ticks - t->start_count) % t->tmict;
}

uint32_t lapic_timer_current(struct lapic *l)
{
	return timer_current_at(l, lapic_now(l));
}

/* The deadline has passed: deliver, then re-arm or disarm. */
static void timer_expire(struct lapic *l, uint64_t now)
{
	struct lapic_timer *t = &l->timer;
	uint64_t period;

	stat_inc(&l->stats.timer_fires);
	if (timer_tscdl(l)) {
		t->tsc_deadline = 0;	/* each write fires at most once */
		t->deadline_ns = 0;
	} else if (timer_periodic(l) && t->tmict) {
		/* Skip the periods we slept through: one interrupt (IRR
		 * would merge them anyway) and the phase is kept. */
		period = (uint64_t)t->tmict << t->shift;
		t->start_ns = t->deadline_ns +
			      (now - t->deadline_ns) / period * period;
		t->start_count = t->tmict;
		t->deadline_ns = add_sat(t->start_ns, period);
	} else {
		t->active = false;
		t->deadline_ns = 0;
	}
	lapic_lvt_fire(l, LVT_TIMER);
	timer_rearm(l);
}

void lapic_timer_fire(struct lapic *l)
{
	uint64_t now;

	if (!l->timer.deadline_ns)
		return;
	now = lapic_now(l);
	if (now >= l->timer.deadline_ns)
		timer_expire(l, now);
}

/* SDM 11.5.4.1: a write that changes the timer mode disarms the timer. */
void lapic_timer_lvt_write(struct lapic *l, uint32_t old, uint32_t val)
{
	if (((old ^ val) >> 17) & 3)
		timer_stop(l);
}

void lapic_timer_set_initial(struct lapic *l, uint32_t count)
{
	if (timer_tscdl(l)) {
		/* Ignored in TSC-deadline mode (SDM 11.5.4.1). */
		stat_inc(&l->stats.ignored_writes);
		return;
	}
	l->timer.tmict = count;
	if (!count) {
		timer_stop(l);	/* a 0 stops the timer in both modes */
		return;
	}
	timer_start(l, lapic_now(l), count);
}

static unsigned divide_shift(uint32_t tdcr)
{
	/* Bits 3,1,0: 000 = /2 ... 110 = /128, 111 = /1. */
	unsigned code = ((tdcr >> 1) & 4) | (tdcr & 3);

	return (code + 1) & 7;
}

/* The SDM does not say what a running count does when the divider changes;
 * we keep the current count and go on at the new rate. */
void lapic_timer_set_divide(struct lapic *l, uint32_t tdcr)
{
	struct lapic_timer *t = &l->timer;
	uint64_t now = lapic_now(l);
	uint32_t cur;

	lapic_timer_fire(l);	/* an expiry already due happens first */
	t->tdcr = tdcr;
	if (!t->active || timer_tscdl(l)) {
		t->shift = divide_shift(tdcr);
		return;
	}
	cur = timer_current_at(l, now);
	t->shift = divide_shift(tdcr);
	timer_start(l, now, cur);
}

/* ---- TSC deadline ---- */

static uint64_t guest_tsc(const struct lapic *l, uint64_t now)
{
	const struct apic_bus *bus = l->bus;

	if (bus->ops->guest_tsc)
		return bus->ops->guest_tsc(bus->opaque, l->cpu);
	return (unsigned __int128)now * bus->tsc_khz / 1000000u;
}

/* ns for the TSC to advance by @delta, rounded up: when we fire, the guest
 * must already read a TSC at or past its deadline. */
static uint64_t tsc_to_ns(const struct lapic *l, uint64_t delta)
{
	unsigned __int128 ns = (unsigned __int128)delta * 1000000u;

	ns = (ns + l->bus->tsc_khz - 1) / l->bus->tsc_khz;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

int lapic_timer_tscdl_read(struct lapic *l, uint64_t *value)
{
	if (!l->bus->tsc_khz)
		return -1;	/* no TSC-deadline support: #GP */
	lapic_timer_fire(l);
	*value = timer_tscdl(l) ? l->timer.tsc_deadline : 0;
	return 0;
}

int lapic_timer_tscdl_write(struct lapic *l, uint64_t value)
{
	struct lapic_timer *t = &l->timer;
	uint64_t now, tsc;

	if (!l->bus->tsc_khz)
		return -1;
	if (!timer_tscdl(l)) {
		/* Other modes ignore the MSR (SDM 11.5.4.1). */
		stat_inc(&l->stats.ignored_writes);
		return 0;
	}
	if (!value) {
		timer_stop(l);
		return 0;
	}
	now = lapic_now(l);
	tsc = guest_tsc(l, now);
	t->tsc_deadline = value;
	if (value <= tsc) {
		timer_expire(l, now);	/* already passed: fire at once */
		return 0;
	}
	t->deadline_ns = add_sat(now, tsc_to_ns(l, value - tsc));
	timer_rearm(l);
	return 0;
}
