#include "vmm/clock.h"

#include <stdint.h>
#include <time.h>

#include "vmm/sandbox.h"

static uint64_t host_clock_read(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t host_now_ns(struct vm_clock *c)
{
	(void)c;
	return host_clock_read(CLOCK_MONOTONIC);
}

static void unlink_timer(struct host_clock *hc, struct clock_timer *t)
{
	for (struct clock_timer **p = &hc->timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->next = NULL;
	t->deadline_ns = 0;
}

static struct clock_timer *earliest(const struct host_clock *hc)
{
	struct clock_timer *best = NULL;

	for (struct clock_timer *t = hc->timers; t; t = t->next)
		if (!best || t->deadline_ns < best->deadline_ns)
			best = t;
	return best;
}

static void run_timer(struct host_clock *hc, struct clock_timer *t)
{
	unlink_timer(hc, t);
	hc->running = t;
	pthread_mutex_unlock(&hc->lock);
	t->cb(t->opaque);
	pthread_mutex_lock(&hc->lock);
	hc->running = NULL;
	pthread_cond_broadcast(&hc->done);
}

static void *timer_thread(void *arg)
{
	struct host_clock *hc = arg;

	sandbox_enter(SANDBOX_TIMER);
	pthread_mutex_lock(&hc->lock);
	while (!hc->quit) {
		struct clock_timer *t = earliest(hc);
		struct timespec ts;

		if (!t) {
			pthread_cond_wait(&hc->cond, &hc->lock);
		} else if (host_now_ns(&hc->clock) >= t->deadline_ns) {
			run_timer(hc, t);
		} else {
			ts.tv_sec = (time_t)(t->deadline_ns / 1000000000ull);
			ts.tv_nsec = (long)(t->deadline_ns % 1000000000ull);
			pthread_cond_timedwait(&hc->cond, &hc->lock, &ts);
		}
	}
	pthread_mutex_unlock(&hc->lock);
	return NULL;
}

static void host_timer_mod(struct vm_clock *c, struct clock_timer *t,
			   uint64_t deadline_ns)
{
	struct host_clock *hc = (struct host_clock *)c;

	pthread_mutex_lock(&hc->lock);
	unlink_timer(hc, t);
	if (deadline_ns && !hc->quit) {
		t->deadline_ns = deadline_ns;
		t->next = hc->timers;
		hc->timers = t;
		if (!hc->started)
			hc->started = !pthread_create(&hc->thread, NULL, timer_thread, hc);
		pthread_cond_signal(&hc->cond);
	}
	pthread_mutex_unlock(&hc->lock);
}

/* Waits out a running callback, unless this is the timer thread itself
 * (a callback disarming another timer while its own runs). */
static void host_timer_del(struct vm_clock *c, struct clock_timer *t)
{
	struct host_clock *hc = (struct host_clock *)c;

	pthread_mutex_lock(&hc->lock);
	unlink_timer(hc, t);
	while (hc->running == t && !pthread_equal(pthread_self(), hc->thread))
		pthread_cond_wait(&hc->done, &hc->lock);
	pthread_mutex_unlock(&hc->lock);
}

static const struct vm_clock_ops host_clock_ops = {
	.now_ns = host_now_ns, .timer_mod = host_timer_mod,
	.timer_del = host_timer_del,
};

void host_clock_init(struct host_clock *hc)
{
	pthread_condattr_t ca;

	*hc = (struct host_clock){ .clock = { .ops = &host_clock_ops } };
	hc->clock.epoch_ns = (int64_t)(host_clock_read(CLOCK_REALTIME) -
				       host_clock_read(CLOCK_MONOTONIC));
	pthread_mutex_init(&hc->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* as now_ns */
	pthread_cond_init(&hc->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&hc->done, NULL);
}

void host_clock_stop(struct host_clock *hc)
{
	bool started;

	pthread_mutex_lock(&hc->lock);
	hc->quit = true;
	started = hc->started;
	pthread_cond_signal(&hc->cond);
	pthread_mutex_unlock(&hc->lock);
	if (started)
		pthread_join(hc->thread, NULL);
	hc->started = false;
}

void host_clock_destroy(struct host_clock *hc)
{
	if (!hc->clock.ops)
		return;
	host_clock_stop(hc);
	pthread_cond_destroy(&hc->done);
	pthread_cond_destroy(&hc->cond);
	pthread_mutex_destroy(&hc->lock);
	hc->clock.ops = NULL;
}
