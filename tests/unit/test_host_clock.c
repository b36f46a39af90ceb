/* The VMM's guest clock (vmm/clock.c): order, re-arming, deletion that
 * waits out a running callback, stop. Real time passes here, but nothing
 * asserts how much: only what ran, in which order. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "vmm/clock.h"

static struct host_clock hc;

static void setup(void)
{
	host_clock_init(&hc);
}

static void teardown(void)
{
	host_clock_destroy(&hc);
}

TestSuite(host_clock, .init = setup, .fini = teardown);

struct probe {
	struct clock_timer t;
	atomic_int fired;
	atomic_int order_slot;		/* which firing this was, from 1 */
	unsigned rearm;			/* re-arm itself this many times */
	atomic_bool started, finished;
	useconds_t hold_us;		/* sleep inside the callback */
};

static atomic_int firings;

static void probe_cb(void *opaque)
{
	struct probe *p = opaque;

	atomic_store(&p->started, true);
	if (p->hold_us)
		usleep(p->hold_us);
	atomic_store(&p->order_slot, atomic_fetch_add(&firings, 1) + 1);
	atomic_fetch_add(&p->fired, 1);
	if (p->rearm) {
		p->rearm--;
		clock_timer_mod(&hc.clock, &p->t, clock_now_ns(&hc.clock) + 1000);
	}
	atomic_store(&p->finished, true);
}

static void probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	clock_timer_init(&p->t, probe_cb, p);
}

static void wait_for(atomic_int *v, int n)
{
	for (int i = 0; i < 10000 && atomic_load(v) < n; i++)
		usleep(1000);
	cr_assert_geq(atomic_load(v), n, "timed out waiting for %d firings", n);
}

Test(host_clock, now_is_monotonic_and_epoch_is_wall_time)
{
	uint64_t a = clock_now_ns(&hc.clock), b = clock_now_ns(&hc.clock);
	int64_t wall = (int64_t)time(NULL) * 1000000000ll;
	int64_t derived = hc.clock.epoch_ns + (int64_t)b;

	cr_assert_geq(b, a);
	cr_assert_lt(llabs(derived - wall), 5000000000ll,
		     "epoch + now is the wall clock, within seconds");
}

Test(host_clock, timers_fire_in_deadline_order)
{
	struct probe late, early;
	uint64_t now = clock_now_ns(&hc.clock);

	atomic_store(&firings, 0);
	probe_init(&late);
	probe_init(&early);
	clock_timer_mod(&hc.clock, &late.t, now + 40000000);
	clock_timer_mod(&hc.clock, &early.t, now + 20000000);
	wait_for(&firings, 2);
	cr_assert_eq(atomic_load(&early.order_slot), 1);
	cr_assert_eq(atomic_load(&late.order_slot), 2);
	cr_assert_eq(late.t.deadline_ns, 0, "a fired timer is disarmed");
}

Test(host_clock, a_callback_may_rearm_itself)
{
	struct probe p;

	atomic_store(&firings, 0);
	probe_init(&p);
	p.rearm = 5;
	clock_timer_mod(&hc.clock, &p.t, clock_now_ns(&hc.clock) + 1000);
	wait_for(&p.fired, 6);
	usleep(20000);
	cr_assert_eq(atomic_load(&p.fired), 6, "exactly 1 + 5 re-arms");
}

Test(host_clock, rearming_moves_the_deadline)
{
	struct probe p, marker;
	uint64_t now = clock_now_ns(&hc.clock);

	atomic_store(&firings, 0);
	probe_init(&p);
	probe_init(&marker);
	clock_timer_mod(&hc.clock, &p.t, now + 1000);
	clock_timer_mod(&hc.clock, &p.t, now + 60000000000ull);	/* a minute */
	clock_timer_mod(&hc.clock, &marker.t, now + 30000000);
	wait_for(&marker.fired, 1);
	cr_assert_eq(atomic_load(&p.fired), 0);
	clock_timer_del(&hc.clock, &p.t);
}

Test(host_clock, deleted_timers_never_fire)
{
	struct probe p, marker;
	uint64_t now = clock_now_ns(&hc.clock);

	probe_init(&p);
	probe_init(&marker);
	clock_timer_mod(&hc.clock, &p.t, now + 20000000);
	clock_timer_del(&hc.clock, &p.t);
	clock_timer_mod(&hc.clock, &marker.t, now + 40000000);
	wait_for(&marker.fired, 1);
	cr_assert_eq(atomic_load(&p.fired), 0);
}

Test(host_clock, delete_waits_for_a_running_callback)
{
	struct probe p;

	probe_init(&p);
	p.hold_us = 50000;
	clock_timer_mod(&hc.clock, &p.t, clock_now_ns(&hc.clock) + 1000);
	while (!atomic_load(&p.started))
		usleep(100);
	clock_timer_del(&hc.clock, &p.t);
	cr_assert(atomic_load(&p.finished), "del returned while the callback ran");
}

Test(host_clock, nothing_fires_after_stop)
{
	struct probe p;

	probe_init(&p);
	host_clock_stop(&hc);
	clock_timer_mod(&hc.clock, &p.t, clock_now_ns(&hc.clock) + 1000);
	usleep(20000);
	cr_assert_eq(atomic_load(&p.fired), 0);
	cr_assert_not(hc.started, "no thread was started after the stop");
}
