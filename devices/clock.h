/* The guest's clock (QEMU's QEMU_CLOCK_VIRTUAL and QEMUTimer, in small):
 * one monotonic time source that every timer device reads, and timers armed
 * on it. The VMM's clock is the host's CLOCK_MONOTONIC since the VM was
 * made, with one timer thread (vmm/clock.c); unit tests drive a fake one
 * (tests/unit/fake_clock.h) so that time moves only when a test says so.
 *
 * Nothing ticks: a device computes what it shows (a counter, a flag) from
 * now_ns() when the guest reads it, and arms a timer only for what must
 * happen unasked (an interrupt, a wake-up). */
#ifndef DEVICES_CLOCK_H
#define DEVICES_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct vm_clock;

/* A timer: @cb runs on the clock's timer thread (never inside timer_mod or
 * timer_del) once now_ns() >= the deadline, with no clock lock held, so it
 * may take the device's lock and re-arm itself. */
struct clock_timer {
	void (*cb)(void *opaque);
	void *opaque;
	/* The clock's own bookkeeping. */
	uint64_t deadline_ns;		/* 0: not armed */
	struct clock_timer *next;
};

struct vm_clock_ops {
	uint64_t (*now_ns)(struct vm_clock *c);
	/* (Re)arm @t for @deadline_ns (0 disarms). Any thread. */
	void (*timer_mod)(struct vm_clock *c, struct clock_timer *t,
			  uint64_t deadline_ns);
	/* Disarm @t; when it returns, @t's callback is not running and will
	 * not run (unless armed again), so its owner may be freed. Never call
	 * it from @t's own callback (use timer_mod(.., 0) there). */
	void (*timer_del)(struct vm_clock *c, struct clock_timer *t);
};

struct vm_clock {
	const struct vm_clock_ops *ops;
	/* Wall-clock time (ns since 1970-01-01 UTC) at now_ns() == 0: the
	 * RTC's start time. */
	int64_t epoch_ns;
};

static inline uint64_t clock_now_ns(struct vm_clock *c)
{
	return c->ops->now_ns(c);
}

static inline void clock_timer_init(struct clock_timer *t,
				    void (*cb)(void *opaque), void *opaque)
{
	*t = (struct clock_timer){ .cb = cb, .opaque = opaque };
}

static inline void clock_timer_mod(struct vm_clock *c, struct clock_timer *t,
				   uint64_t deadline_ns)
{
	c->ops->timer_mod(c, t, deadline_ns);
}

static inline void clock_timer_del(struct vm_clock *c, struct clock_timer *t)
{
	c->ops->timer_del(c, t);
}

/* @ticks of a @hz counter elapsed in @ns, without overflow for any ns. */
static inline uint64_t clock_ns_to_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ns * hz / 1000000000u);
}

/* The first ns at which a @hz counter has counted @ticks (rounded up). */
static inline uint64_t clock_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	return (uint64_t)(((unsigned __int128)ticks * 1000000000u + hz - 1) / hz);
}

#endif
