/* A fake guest clock for unit tests (devices/clock.h): time moves only in
 * fake_clock_advance(), which fires every timer that falls due on the way,
 * in deadline order, at its deadline (now_ns() reads the deadline inside the
 * callback), on the calling thread. Header-only so fuzz targets use it too. */
#ifndef TESTS_FAKE_CLOCK_H
#define TESTS_FAKE_CLOCK_H

#include "devices/clock.h"

struct fake_clock {
	struct vm_clock clock;		/* first: a vm_clock * is a fake_clock * */
	uint64_t now;
	struct clock_timer *timers;	/* armed ones, unsorted */
	unsigned fired;			/* callbacks run so far */
};

static inline uint64_t fake_now_ns(struct vm_clock *c)
{
	return ((struct fake_clock *)c)->now;
}

static inline void fake_unlink(struct fake_clock *fc, struct clock_timer *t)
{
	for (struct clock_timer **p = &fc->timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->next = NULL;
	t->deadline_ns = 0;
}

static inline void fake_timer_mod(struct vm_clock *c, struct clock_timer *t,
			   uint64_t deadline_ns)
{
	struct fake_clock *fc = (struct fake_clock *)c;

	fake_unlink(fc, t);
	if (!deadline_ns)
		return;
	t->deadline_ns = deadline_ns;
	t->next = fc->timers;
	fc->timers = t;
}

static inline void fake_timer_del(struct vm_clock *c, struct clock_timer *t)
{
	fake_unlink((struct fake_clock *)c, t);
}

static const struct vm_clock_ops fake_clock_ops = {
	.now_ns = fake_now_ns, .timer_mod = fake_timer_mod,
	.timer_del = fake_timer_del,
};

/* @start_ns: now_ns() at first; @epoch_ns: the wall clock at now_ns() 0. */
static inline void fake_clock_init(struct fake_clock *fc, uint64_t start_ns,
				   int64_t epoch_ns)
{
	*fc = (struct fake_clock){
		.clock = { .ops = &fake_clock_ops, .epoch_ns = epoch_ns },
		.now = start_ns,
	};
}

/* The armed timer with the earliest deadline at or before @limit, or NULL. */
static inline struct clock_timer *fake_clock_next(struct fake_clock *fc,
						  uint64_t limit)
{
	struct clock_timer *best = NULL;

	for (struct clock_timer *t = fc->timers; t; t = t->next)
		if (t->deadline_ns <= limit && (!best || t->deadline_ns < best->deadline_ns))
			best = t;
	return best;
}

static inline void fake_clock_advance(struct fake_clock *fc, uint64_t ns)
{
	uint64_t end = fc->now + ns;
	struct clock_timer *t;

	while ((t = fake_clock_next(fc, end))) {
		if (t->deadline_ns > fc->now)
			fc->now = t->deadline_ns;
		fake_unlink(fc, t);
		fc->fired++;
		t->cb(t->opaque);
	}
	fc->now = end;
}

#endif
