/* The HPET; see hpet.h for the registers, the QEMU and spec choices, the
 * interrupt lines and the locks.
 *
 * The main counter is described, not stepped: while it runs it is
 * @counter + the ticks since @base_ns. Each comparator is brought up to
 * the present (timer_update) before anything reads or changes the device,
 * as the i8254's counters are: a periodic comparator advances past the
 * matches that went by (their count is what it owes the guest); a one-shot
 * comparator holds the clock time of its next event (the match, or first
 * the 32-bit wrap). Then what is owed is sent and the clock timer armed for
 * the next event. */
#include "devices/timer/hpet.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/clock.h"
#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/region.h"

#define NS_PER_TICK	(1000000000u / HPET_HZ)
#define NEVER		UINT64_MAX

/* Registers (offsets of their low halves). */
#define REG_GCAP_ID	0x000
#define REG_GEN_CONF	0x010
#define REG_GINTR_STA	0x020
#define REG_MAIN_CNT	0x0f0
#define REG_TIMER0	0x100
#define TIMER_STRIDE	0x20
#define TN_CONF_CAP	0x00
#define TN_COMPARATOR	0x08

/* GCAP_ID: rev 1, NUM_TIM_CAP 2, COUNT_SIZE_CAP, LEG_RT_CAP, vendor 0x8086;
 * the tick in fs above. */
#define FS_PER_TICK	(1000000000000000ull / HPET_HZ)
#define GCAP_ID		(HPET_BLOCK_ID | FS_PER_TICK << 32)
#define CONF_ENABLE	0x1ull
#define CONF_LEG_RT	0x2ull

#define TN_INT_LEVEL	(1ull << 1)
#define TN_INT_ENB	(1ull << 2)
#define TN_PERIODIC	(1ull << 3)
#define TN_PER_INT_CAP	(1ull << 4)
#define TN_SIZE_CAP	(1ull << 5)
#define TN_VAL_SET	(1ull << 6)
#define TN_32MODE	(1ull << 8)
#define TN_ROUTE_SHIFT	9
#define TN_ROUTE_MASK	(0x1full << TN_ROUTE_SHIFT)
#define TN_WRITABLE	(TN_INT_LEVEL | TN_INT_ENB | TN_PERIODIC | TN_VAL_SET | \
			 TN_32MODE | TN_ROUTE_MASK)
#define TN_ROUTE_CAP	0x00000004u	/* I/O APIC input 2 only */
#define TN_RO_BITS	(TN_PER_INT_CAP | TN_SIZE_CAP | (uint64_t)TN_ROUTE_CAP << 32)

_Static_assert(TN_ROUTE_CAP < 1u << ISA_NUM_IRQS, "routes are ISA IRQs");

#define LEGACY_IRQ_TIMER0	0
#define LEGACY_IRQ_TIMER1	8
#define NO_IRQ			(-1)

struct hpet;

struct hpet_timer {
	struct hpet *s;
	unsigned n;
	struct clock_timer timer;
	uint64_t config;	/* the writable bits */
	uint64_t cmp;		/* periodic: the next match once up to date */
	uint64_t period;
	/* One-shot: the clock time of the next event, if @has_event. */
	bool has_event;
	bool event_is_wrap;	/* the 32-bit wrap before the match */
	uint64_t event_ns;
	uint64_t owed;		/* matches gone by, interrupt not yet sent */
	uint64_t quiet_until_ns;	/* periodic: no interrupt before */
	uint64_t deadline;	/* of @timer; 0: not armed */
};

struct hpet {
	struct device parent_obj;

	struct memory_region mmio;
	struct irq_line legacy_in[2];
	pthread_mutex_t lock;		/* everything below */
	uint64_t config;
	uint64_t isr;
	uint64_t counter;		/* halted: its value; running: at @base_ns */
	uint64_t base_ns;
	struct hpet_timer t[HPET_NUM_TIMERS];
	bool legacy_level[2];		/* the PIT's and the RTC's outputs */
	uint16_t lines_high;		/* the ISA lines this device holds high */
	uint64_t sent, coalesced;
	bool stopped;			/* unrealizing: arm nothing */
	bool counter_write_logged, route_logged;
};

static void log_once(bool *logged, const char *what)
{
	if (*logged)
		return;
	*logged = true;
	fprintf(stderr, "tinyvmm: hpet: %s (logged once)\n", what);
}

static bool running(const struct hpet *s)
{
	return s->config & CONF_ENABLE;
}

static bool legacy(const struct hpet *s)
{
	return s->config & CONF_LEG_RT;
}

/* The comparator's range: 32 or 64 bits. */
static uint64_t width_mask(const struct hpet_timer *t)
{
	return t->config & TN_32MODE ? UINT32_MAX : UINT64_MAX;
}

/* Periodic with a period: period 0 fires once, as a one-shot (QEMU). */
static bool periodic(const struct hpet_timer *t)
{
	return (t->config & TN_PERIODIC) && t->period;
}

static bool int_enabled(const struct hpet_timer *t)
{
	return t->config & TN_INT_ENB;
}

static uint64_t counter_now(const struct hpet *s, uint64_t now)
{
	if (!running(s))
		return s->counter;
	return s->counter + (now - s->base_ns) / NS_PER_TICK;
}

/* The clock time at which the running counter, read at @now, has counted
 * @ticks (>= 1) more; NEVER past the clock's range. */
static uint64_t ns_after(const struct hpet *s, uint64_t now, uint64_t ticks)
{
	uint64_t tick_start = now - (now - s->base_ns) % NS_PER_TICK;
	unsigned __int128 ns = (unsigned __int128)ticks * NS_PER_TICK + tick_start;

	return ns >= NEVER ? NEVER : (uint64_t)ns;
}

/* Ticks from counter @cur to the comparator, in the comparator's range;
 * 0 when the comparator is reached or behind by at most half the range. */
static uint64_t ticks_ahead(const struct hpet_timer *t, uint64_t cur)
{
	uint64_t mask = width_mask(t), d = (t->cmp - cur) & mask;

	return d <= mask >> 1 ? d : 0;
}

/* The ISA IRQ timer @t drives, or NO_IRQ. */
static int timer_irq(struct hpet *s, const struct hpet_timer *t)
{
	unsigned route = (unsigned)((t->config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT);

	if (legacy(s) && t->n < 2)
		return t->n == 0 ? LEGACY_IRQ_TIMER0 : LEGACY_IRQ_TIMER1;
	if (TN_ROUTE_CAP >> route & 1)
		return (int)route;
	log_once(&s->route_logged, "a timer routed where INT_ROUTE_CAP does not go: no interrupt");
	return NO_IRQ;
}

static const struct irq_line *isa_line(const struct hpet *s, int irq)
{
	const struct irq_line *isa = s->parent_obj.env->isa_irq;

	return isa ? &isa[irq] : NULL;
}

/* The ISA lines as they should be: level timers with their status bit
 * set, and outside legacy mode the PIT's and the RTC's outputs. */
static void lines_update(struct hpet *s)
{
	uint16_t want = 0, changed;

	for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
		struct hpet_timer *t = &s->t[i];
		int irq;

		if (!(s->isr >> i & 1) || !int_enabled(t) || !running(s))
			continue;
		irq = timer_irq(s, t);
		if (irq != NO_IRQ)
			want |= (uint16_t)(1u << irq);
	}
	if (!legacy(s))
		want |= (uint16_t)(s->legacy_level[HPET_LEGACY_PIT] << LEGACY_IRQ_TIMER0 |
				   s->legacy_level[HPET_LEGACY_RTC] << LEGACY_IRQ_TIMER1);
	changed = want ^ s->lines_high;
	s->lines_high = want;
	for (int irq = 0; irq < ISA_NUM_IRQS; irq++)
		if (changed >> irq & 1)
			irq_set_level(isa_line(s, irq), want >> irq & 1);
}

/* One interrupt for the matches owed. An edge on a line held high (a level
 * timer sharing it) would not be seen: it merges into that level. */
static void timer_send(struct hpet *s, struct hpet_timer *t, uint64_t now)
{
	bool level = t->config & TN_INT_LEVEL;
	uint64_t bit = 1ull << t->n;
	int irq = timer_irq(s, t);

	s->sent++;
	s->coalesced += t->owed - 1;
	t->owed = 0;
	t->quiet_until_ns = now + HPET_MIN_IRQ_PERIOD_NS;
	s->isr = level ? s->isr | bit : s->isr & ~bit;	/* an edge leaves none */
	lines_update(s);
	if (!level && irq != NO_IRQ && !(s->lines_high >> irq & 1))
		irq_pulse(isa_line(s, irq));
}

/* Periodic: the comparator past counter @cur; returns the matches passed. */
static uint64_t periodic_catch_up(struct hpet_timer *t, uint64_t cur)
{
	uint64_t mask = width_mask(t), behind, k;

	if (ticks_ahead(t, cur))
		return 0;
	behind = (cur - t->cmp) & mask;
	k = behind / t->period + 1;	/* period <= mask / 2: no overflow */
	t->cmp = (t->cmp + k * t->period) & mask;
	return k;
}

/* One-shot: the next event after the match (or the 32-bit wrap) at @cur,
 * read at @now; a comparator at or behind the counter fires at once. */
static void oneshot_program(struct hpet *s, struct hpet_timer *t, uint64_t now,
			    uint64_t cur)
{
	uint64_t d = ticks_ahead(t, cur), to_wrap;

	t->has_event = true;
	t->event_is_wrap = false;
	if (!d) {
		t->event_ns = now;
		return;
	}
	to_wrap = (uint64_t)UINT32_MAX + 1 - (uint32_t)cur;
	if ((t->config & TN_32MODE) && to_wrap < d) {
		t->event_is_wrap = true;
		d = to_wrap;
	}
	t->event_ns = ns_after(s, now, d);
	t->has_event = t->event_ns != NEVER;
}

/* One-shot: the events gone by at @now (at most the wrap, then the match). */
static uint64_t oneshot_catch_up(struct hpet_timer *t, uint64_t now)
{
	uint64_t passed = 0, after_wrap;

	while (t->has_event && t->event_ns <= now) {
		passed++;
		if (!t->event_is_wrap) {
			t->has_event = false;
			break;
		}
		/* The counter's low half was 0 at the wrap: the match follows
		 * after cmp ticks (never 0: then the wrap was the match). */
		t->event_is_wrap = false;
		after_wrap = (uint32_t)t->cmp * (uint64_t)NS_PER_TICK;
		t->has_event = after_wrap < NEVER - t->event_ns;
		t->event_ns += after_wrap;
	}
	return passed;
}

/* (Re)programs @t at counter @cur (QEMU's hpet_set_timer): a comparator
 * reached or behind the counter owes one interrupt now, not one per period
 * it is behind (the counter jumped or was halted: no match went by). */
static void timer_program(struct hpet *s, struct hpet_timer *t, uint64_t now,
			  uint64_t cur)
{
	t->has_event = false;
	if (!running(s) || !int_enabled(t))
		return;
	if (!periodic(t))
		oneshot_program(s, t, now, cur);
	else if (periodic_catch_up(t, cur))
		t->owed = 1;
}

/* The timer's next clock timer deadline; 0: none. */
static uint64_t timer_deadline(struct hpet *s, struct hpet_timer *t,
			       uint64_t now, uint64_t cur)
{
	uint64_t next;

	if (!running(s) || !int_enabled(t) || s->stopped)
		return 0;
	if (t->owed)
		return t->quiet_until_ns;
	if (!periodic(t))
		return t->has_event ? t->event_ns : 0;
	next = ns_after(s, now, ticks_ahead(t, cur));
	if (next == NEVER)
		return 0;
	return next > t->quiet_until_ns ? next : t->quiet_until_ns;
}

/* @t brought up to @now: the matches gone by counted, what is owed sent
 * (periodic: at most one per HPET_MIN_IRQ_PERIOD_NS), the clock timer armed
 * for what comes next. Lock held. */
static void timer_update(struct hpet *s, struct hpet_timer *t, uint64_t now,
			 uint64_t cur)
{
	uint64_t passed, deadline;

	if (running(s)) {
		passed = periodic(t) ? periodic_catch_up(t, cur) : oneshot_catch_up(t, now);
		if (int_enabled(t))
			t->owed += passed;
	}
	if (t->owed && (!periodic(t) || now >= t->quiet_until_ns))
		timer_send(s, t, now);
	deadline = timer_deadline(s, t, now, cur);
	if (deadline != t->deadline) {
		t->deadline = deadline;
		clock_timer_mod(s->parent_obj.env->clock, &t->timer, deadline);
	}
}

static void update_all(struct hpet *s, uint64_t now)
{
	uint64_t cur = counter_now(s, now);

	for (unsigned i = 0; i < HPET_NUM_TIMERS; i++)
		timer_update(s, &s->t[i], now, cur);
}

static void program_all(struct hpet *s, uint64_t now)
{
	uint64_t cur = counter_now(s, now);

	for (unsigned i = 0; i < HPET_NUM_TIMERS; i++)
		timer_program(s, &s->t[i], now, cur);
}

/* Interrupts off for @t: nothing owed, no event, its level dropped. */
static void timer_quiesce(struct hpet *s, struct hpet_timer *t)
{
	t->owed = 0;
	t->has_event = false;
	s->isr &= ~(1ull << t->n);
}

static void timer_expired(void *opaque)
{
	struct hpet_timer *t = opaque;
	struct hpet *s = t->s;
	uint64_t now;

	pthread_mutex_lock(&s->lock);
	t->deadline = 0;		/* it fired: no longer armed */
	now = clock_now_ns(s->parent_obj.env->clock);
	timer_update(s, t, now, counter_now(s, now));
	pthread_mutex_unlock(&s->lock);
}

static uint64_t timer_read(struct hpet_timer *t, unsigned reg)
{
	switch (reg) {
	case TN_CONF_CAP:
		return t->config | TN_RO_BITS;
	case TN_COMPARATOR:
		return t->cmp;
	default:		/* FSB route: none */
		return 0;
	}
}

static uint64_t reg_read(struct hpet *s, unsigned reg, uint64_t now)
{
	if (reg >= REG_TIMER0) {
		unsigned n = (reg - REG_TIMER0) / TIMER_STRIDE;

		return n < HPET_NUM_TIMERS ? timer_read(&s->t[n], reg % TIMER_STRIDE) : 0;
	}
	switch (reg) {
	case REG_GCAP_ID:
		return GCAP_ID;
	case REG_GEN_CONF:
		return s->config;
	case REG_GINTR_STA:
		return s->isr;
	case REG_MAIN_CNT:
		return counter_now(s, now);
	default:
		return 0;
	}
}

static uint64_t merge(uint64_t old, uint64_t v, uint64_t mask)
{
	return (old & ~mask) | (v & mask);
}

static void write_gen_conf(struct hpet *s, uint64_t v, uint64_t now)
{
	uint64_t old = s->config;

	s->config = v & (CONF_ENABLE | CONF_LEG_RT);
	if (!(old & CONF_ENABLE) && running(s)) {
		s->base_ns = now;
		program_all(s, now);
	} else if ((old & CONF_ENABLE) && !running(s)) {
		s->counter = s->counter + (now - s->base_ns) / NS_PER_TICK;
		for (unsigned i = 0; i < HPET_NUM_TIMERS; i++)
			timer_quiesce(s, &s->t[i]);
	}
}

static void write_counter(struct hpet *s, uint64_t v, uint64_t mask, uint64_t now)
{
	if (!running(s)) {
		s->counter = merge(s->counter, v, mask);
		return;
	}
	log_once(&s->counter_write_logged,
		 "main counter written while it runs (the spec says: halt it first)");
	s->counter = merge(counter_now(s, now), v, mask);
	s->base_ns = now;
	program_all(s, now);
}

static void write_timer_config(struct hpet *s, struct hpet_timer *t, uint64_t v,
			       uint64_t mask, uint64_t now)
{
	uint64_t old = t->config;
	uint64_t modes = TN_PERIODIC | TN_32MODE;

	t->config = merge(old, v, mask & TN_WRITABLE);
	if (t->config & TN_32MODE) {
		t->cmp &= UINT32_MAX;
		t->period &= UINT32_MAX >> 1;
	}
	if (!int_enabled(t))
		timer_quiesce(s, t);
	else if (!(old & TN_INT_ENB) || ((old ^ t->config) & modes))
		timer_program(s, t, now, counter_now(s, now));
}

/* QEMU's rule: the comparator takes the value in one-shot mode or with
 * VAL_SET, the period takes it in periodic mode; VAL_SET clears. (QEMU's
 * upper-half write with VAL_SET leaves the period: here both halves act
 * alike.) */
static void write_comparator(struct hpet *s, struct hpet_timer *t, uint64_t v,
			     uint64_t mask, uint64_t now)
{
	uint64_t width = width_mask(t);

	if (!(mask & width))
		return;		/* the upper half of a 32-bit comparator */
	if (!(t->config & TN_PERIODIC) || (t->config & TN_VAL_SET))
		t->cmp = merge(t->cmp, v, mask) & width;
	if (t->config & TN_PERIODIC)
		t->period = merge(t->period, v, mask) & (width >> 1);
	t->config &= ~TN_VAL_SET;
	timer_program(s, t, now, counter_now(s, now));
}

static void reg_write(struct hpet *s, unsigned reg, uint64_t v, uint64_t mask,
		      uint64_t now)
{
	struct hpet_timer *t;

	if (reg >= REG_TIMER0) {
		unsigned n = (reg - REG_TIMER0) / TIMER_STRIDE;

		if (n >= HPET_NUM_TIMERS)
			return;
		t = &s->t[n];
		if (reg % TIMER_STRIDE == TN_CONF_CAP)
			write_timer_config(s, t, v, mask, now);
		else if (reg % TIMER_STRIDE == TN_COMPARATOR)
			write_comparator(s, t, v, mask, now);
		return;
	}
	switch (reg) {
	case REG_GEN_CONF:
		write_gen_conf(s, merge(s->config, v, mask), now);
		break;
	case REG_GINTR_STA:
		s->isr &= ~(v & mask);
		break;
	case REG_MAIN_CNT:
		write_counter(s, v, mask, now);
		break;
	}
}

/* Every access first brings the comparators up to now (the interrupts due
 * are sent first, the periodic comparators read their next match); every
 * write then re-arms them and sets the lines. */
static uint64_t hpet_read(void *opaque, uint64_t offset, unsigned size)
{
	struct hpet *s = opaque;
	unsigned shift = (unsigned)(offset & 4) * 8;
	uint64_t now, v;

	pthread_mutex_lock(&s->lock);
	now = clock_now_ns(s->parent_obj.env->clock);
	update_all(s, now);
	v = reg_read(s, (unsigned)(offset & ~7ull), now);
	pthread_mutex_unlock(&s->lock);
	return size == 8 ? v : (uint32_t)(v >> shift);
}

static void hpet_write(void *opaque, uint64_t offset, uint64_t value,
		       unsigned size)
{
	struct hpet *s = opaque;
	unsigned shift = (unsigned)(offset & 4) * 8;
	uint64_t mask = size == 8 ? UINT64_MAX : (uint64_t)UINT32_MAX << shift;
	uint64_t now;

	pthread_mutex_lock(&s->lock);
	now = clock_now_ns(s->parent_obj.env->clock);
	update_all(s, now);
	reg_write(s, (unsigned)(offset & ~7ull), value << shift, mask, now);
	update_all(s, now);
	lines_update(s);
	pthread_mutex_unlock(&s->lock);
}

/* 64-bit registers; a 32-bit guest takes each half on its own. */
static const struct memory_region_ops hpet_ops = {
	.read = hpet_read,
	.write = hpet_write,
	.valid = { .min = 4, .max = 8 },
	.impl = { .min = 4, .max = 8 },
};

/* The PIT's (n = 0) or the RTC's (n = 1) output. */
static void legacy_input(void *opaque, unsigned n, bool level)
{
	struct hpet *s = opaque;

	pthread_mutex_lock(&s->lock);
	s->legacy_level[n] = level;
	lines_update(s);
	pthread_mutex_unlock(&s->lock);
}

const struct irq_line *hpet_legacy_inputs(struct device *dev)
{
	return ((struct hpet *)dev)->legacy_in;
}

void hpet_print_stats(struct device *dev, FILE *out)
{
	struct hpet *s = (struct hpet *)dev;
	uint64_t sent, coalesced;

	pthread_mutex_lock(&s->lock);
	sent = s->sent;
	coalesced = s->coalesced;
	pthread_mutex_unlock(&s->lock);
	fprintf(out, "hpet: interrupts %" PRIu64 ", matches coalesced %" PRIu64 "\n",
		sent, coalesced);
}

static int hpet_realize(struct device *dev, struct error *err)
{
	struct hpet *s = (struct hpet *)dev;

	if (!dev->env->clock)
		return error_setf(err, "hpet: needs a clock");
	if (!dev->env->system_memory)
		return error_setf(err, "hpet: needs system memory to map into");
	memory_region_init_io(&s->mmio, "hpet", &hpet_ops, s, HPET_SIZE);
	memory_region_add_subregion(dev->env->system_memory, HPET_BASE, &s->mmio, 0);
	return 0;
}

/* Stopped under the lock first, so that nothing (an access still in
 * flight, a timer callback) arms a timer once they are deleted; the lines
 * this device holds go low. */
static void hpet_unrealize(struct device *dev)
{
	struct hpet *s = (struct hpet *)dev;

	pthread_mutex_lock(&s->lock);
	s->stopped = true;
	s->config = 0;
	s->isr = 0;
	s->legacy_level[0] = s->legacy_level[1] = false;
	lines_update(s);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < HPET_NUM_TIMERS; i++)
		clock_timer_del(dev->env->clock, &s->t[i].timer);
	memory_region_del_subregion(dev->env->system_memory, &s->mmio);
}

/* As QEMU's reset: halted at 0, comparators all ones. */
static void hpet_instance_init(struct object *obj)
{
	struct hpet *s = (struct hpet *)obj;

	pthread_mutex_init(&s->lock, NULL);
	for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
		s->t[i] = (struct hpet_timer){ .s = s, .n = i, .cmp = UINT64_MAX };
		clock_timer_init(&s->t[i].timer, timer_expired, &s->t[i]);
	}
	for (unsigned n = 0; n < 2; n++)
		s->legacy_in[n] = (struct irq_line){ legacy_input, s, n };
}

static void hpet_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct hpet *)obj)->lock);
}

static void hpet_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = hpet_realize;
	dc->unrealize = hpet_unrealize;
	dc->user_creatable = false;	/* the board makes the one there is */
}

static const struct type_info hpet_type_info = {
	.name = TYPE_HPET,
	.parent = TYPE_DEVICE,
	.description = "High Precision Event Timer, 3 timers at 100 MHz (QEMU's hpet)",
	.instance_size = sizeof(struct hpet),
	.class_size = sizeof(struct device_class),
	.class_init = hpet_class_init,
	.instance_init = hpet_instance_init,
	.instance_finalize = hpet_instance_finalize,
};

static void hpet_register_types(void)
{
	type_register(&hpet_type_info);
}
type_init(hpet_register_types)
