/* Posted interrupts under concurrent senders: no interrupt and no
 * notification is lost, none is duplicated. Run it under -fsanitize=thread.
 *
 * CPU 0 is the target. Its thread sleeps until ops->notify wakes it, so a
 * lost notification shows up as a target asleep while vectors sit in its
 * PIR. The target looks for exactly that whenever it has slept a while
 * without a kick: a vector pending while no sender (CPUs 1..N, each on its
 * own thread, writing ICR on its own LAPIC) is inside a send, and so none
 * can still be on its way to notify, is a lost notification. It records it
 * and the test fails on it; a slow host only makes the test slower. Only
 * the test's own thread asserts: the others record what they saw. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "devices/intc/lapic.h"

#define SENDERS		4
#define PER_SENDER	48	/* distinct vectors per sender */
#define FIRST_VEC	0x20
#define ROUNDS		300
#define FLOOD_ROUNDS	3000
#define LOCKSTEP_ROUNDS	(PER_SENDER * 100)
#define LOOK_MS		100	/* a sleep without a kick this long: look */

static struct apic_bus *B;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kicked;
	atomic_bool done;
	atomic_uint notifies;
	atomic_uint wrong_target;	/* notifications for another CPU */
	atomic_uint sending;		/* senders inside send() */
	_Atomic uint64_t accepted[256];
	_Atomic uint64_t sent[256];
	atomic_bool lost;	/* a vector posted, no notification coming */
} T = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void s_notify(void *o, unsigned cpu)
{
	(void)o;
	if (cpu != 0)
		atomic_fetch_add(&T.wrong_target, 1);
	atomic_fetch_add(&T.notifies, 1);
	pthread_mutex_lock(&T.lock);
	T.kicked = true;
	pthread_cond_signal(&T.cond);
	pthread_mutex_unlock(&T.lock);
}

static uint64_t s_now(void *o)
{
	(void)o;
	return 1;
}

static void s_arm(void *o, unsigned cpu, uint64_t deadline)
{
	(void)o;
	(void)cpu;
	(void)deadline;
}

static const struct apic_host_ops ops = {
	.notify = s_notify, .now_ns = s_now, .timer_arm = s_arm,
};

static unsigned vec_of(unsigned sender, unsigned i)
{
	return FIRST_VEC + sender * PER_SENDER + i;
}

/* Under T.lock, asleep without a kick: is a vector pending that no
 * notification will announce? A sender notifies inside send(), and its
 * notify needs T.lock, which we hold: with no sender inside send(), every
 * notification for what is pending has been consumed already. The look
 * moves PIR to IRR, as the owner does before it halts, and takes nothing:
 * only a kick makes the target drain, so a lost notification is never
 * rescued by a look. */
static void look_for_a_lost_notification(struct lapic *l)
{
	if (lapic_pending_vector(l) >= 0 && atomic_load(&T.sending) == 0)
		atomic_store(&T.lost, true);
}

static struct timespec look_deadline(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += LOOK_MS * 1000000l;
	t.tv_sec += t.tv_nsec / 1000000000l;
	t.tv_nsec %= 1000000000l;
	return t;
}

/* The target vCPU: drain, then sleep until notified, as a halted vCPU. */
static void *target(void *arg)
{
	struct lapic *l = apic_bus_cpu(B, 0);
	struct timespec dl;
	int v;

	(void)arg;
	while (!atomic_load(&T.done)) {
		pthread_mutex_lock(&T.lock);
		dl = look_deadline();
		while (!T.kicked && !atomic_load(&T.done))
			if (pthread_cond_timedwait(&T.cond, &T.lock, &dl) == ETIMEDOUT) {
				look_for_a_lost_notification(l);
				dl = look_deadline();
			}
		T.kicked = false;
		pthread_mutex_unlock(&T.lock);
		while ((v = lapic_pending_vector(l)) >= 0) {
			lapic_accept(l, v);
			atomic_fetch_add(&T.accepted[v], 1);
			lapic_mmio_write(l, LAPIC_EOI, 0, 4);
		}
	}
	return NULL;
}

static void send(unsigned cpu, unsigned vector)
{
	struct lapic *l = apic_bus_cpu(B, cpu);

	atomic_fetch_add(&T.sending, 1);
	atomic_fetch_add(&T.sent[vector], 1);
	lapic_mmio_write(l, LAPIC_ICR2, 0, 4);		/* APIC ID 0 */
	lapic_mmio_write(l, LAPIC_ICR, 0x4000 | vector, 4);
	atomic_fetch_sub(&T.sending, 1);
}

/* Until vector @v was accepted @want times: false if a loss was found
 * instead. No deadline: slowness is not loss (the suite's timeout is the
 * bound of last resort). */
static bool wait_accepted(unsigned v, uint64_t want)
{
	while (atomic_load(&T.accepted[v]) < want) {
		if (atomic_load(&T.lost))
			return false;
		sched_yield();
	}
	return true;
}

/* Each vector has at most one interrupt in flight, so none can merge with
 * another in IRR: every send must be accepted exactly once. */
static void *sender_acked(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg, cpu = s + 1;

	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < PER_SENDER; i++) {
			unsigned v = vec_of(s, i);

			if (!wait_accepted(v, r))
				return NULL;
			send(cpu, v);
		}
	}
	return NULL;
}

/* No acks: vectors pile up and merge in PIR/IRR, as on hardware. The
 * yields let the target drain while we send, so posts race with its
 * ON-clear and PIR exchanges instead of all landing before it wakes. */
static void *sender_flood(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg, cpu = s + 1;

	for (unsigned r = 0; r < FLOOD_ROUNDS; r++) {
		for (unsigned i = 0; i < PER_SENDER; i++)
			send(cpu, vec_of(s, (i * 7 + r) % PER_SENDER));
		sched_yield();
	}
	return NULL;
}

/* Lock-step rounds: all senders post at once (racing with the target's
 * drain), then all wait for their ack with nobody posting. A post stranded
 * in PIR without a notification cannot be rescued by a later post then,
 * so it surfaces as a timeout in the round it happened. */
static pthread_barrier_t round_barrier;

static void *sender_lockstep(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg, cpu = s + 1;

	for (unsigned r = 0; r < LOCKSTEP_ROUNDS; r++) {
		unsigned v = vec_of(s, r % PER_SENDER);

		pthread_barrier_wait(&round_barrier);
		send(cpu, v);
		if (!wait_accepted(v, r / PER_SENDER + 1)) {
			/* Let the others through their barriers. */
			for (; r < LOCKSTEP_ROUNDS; r++)
				pthread_barrier_wait(&round_barrier);
			return NULL;
		}
	}
	return NULL;
}

static void setup(void)
{
	B = apic_bus_new(SENDERS + 1, 0, &ops, NULL);
	cr_assert_not_null(B);
	/* Software-enable the target; senders may stay disabled. */
	lapic_mmio_write(apic_bus_cpu(B, 0), LAPIC_SVR, 0x1ff, 4);
}

static void fini(void)
{
	apic_bus_free(B);
}

TestSuite(lapic_stress, .fini = fini);

static void run(void *(*fn)(void *), pthread_t *tgt)
{
	pthread_t snd[SENDERS];

	cr_assert_eq(pthread_create(tgt, NULL, target, NULL), 0);
	for (unsigned s = 0; s < SENDERS; s++)
		cr_assert_eq(pthread_create(&snd[s], NULL, fn,
					    (void *)(uintptr_t)s), 0);
	for (unsigned s = 0; s < SENDERS; s++)
		pthread_join(snd[s], NULL);
}

/* Stop the target thread; CPU 0 is then this thread's. Whatever is still
 * posted must have come with a notification the target had not consumed:
 * the target always drains after taking a kick, so bits left without a
 * pending kick would be bits nobody was told about. */
static void stop_and_check_quiescent(pthread_t tgt)
{
	struct lapic *l = apic_bus_cpu(B, 0);
	struct lapic_stats st;
	bool kick_pending;
	unsigned late = 0;
	int v;

	atomic_store(&T.done, true);
	pthread_mutex_lock(&T.lock);
	pthread_cond_signal(&T.cond);
	pthread_mutex_unlock(&T.lock);
	pthread_join(tgt, NULL);

	kick_pending = T.kicked;
	while ((v = lapic_pending_vector(l)) >= 0) {
		lapic_accept(l, v);
		atomic_fetch_add(&T.accepted[v], 1);
		lapic_mmio_write(l, LAPIC_EOI, 0, 4);
		late++;
	}
	cr_assert(kick_pending || !late,
		  "%u vectors were posted without a notification", late);
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(lapic_mmio_read(l, LAPIC_IRR + i * 16, 4), 0);
		cr_assert_eq(lapic_mmio_read(l, LAPIC_ISR + i * 16, 4), 0);
	}
	lapic_get_stats(l, &st);
	for (unsigned i = 0; i < 256; i++)
		cr_assert_eq(st.delivered[i], atomic_load(&T.accepted[i]));
}

/* What the other threads recorded. */
static void assert_no_loss(void)
{
	cr_assert_not(atomic_load(&T.lost),
		      "a vector sat in PIR with no notification on its way");
	cr_assert_eq(atomic_load(&T.wrong_target), 0, "a notification for a sender");
}

Test(lapic_stress, posted_acked_exact_counts, .timeout = 120)
{
	pthread_t tgt;

	setup();
	run(sender_acked, &tgt);
	/* The last round's acks: still only notify wakes the target. */
	for (unsigned s = 0; s < SENDERS; s++)
		for (unsigned i = 0; i < PER_SENDER; i++)
			wait_accepted(vec_of(s, i), ROUNDS);
	assert_no_loss();
	stop_and_check_quiescent(tgt);
	for (unsigned v = 0; v < 256; v++) {
		uint64_t want = v >= FIRST_VEC &&
				v < FIRST_VEC + SENDERS * PER_SENDER ? ROUNDS : 0;

		cr_assert_eq(atomic_load(&T.sent[v]), want);
		cr_assert_eq(atomic_load(&T.accepted[v]), want,
			     "vector %#x: accepted %lu of %lu", v,
			     (unsigned long)atomic_load(&T.accepted[v]),
			     (unsigned long)want);
	}
	/* At most one notification per ON 0->1, never one per interrupt
	 * when the target is behind. */
	cr_assert_leq(atomic_load(&T.notifies),
		      (unsigned)(SENDERS * PER_SENDER * ROUNDS));
	cr_assert_gt(atomic_load(&T.notifies), 0);
}

/* How far the target kept up with the flood is the scheduler's business:
 * only loss and duplication are asserted. */
Test(lapic_stress, posted_flood_no_loss, .timeout = 120)
{
	pthread_t tgt;

	setup();
	run(sender_flood, &tgt);
	/* Every vector sent is accepted by a target that only drains on
	 * notify: no notification was lost. */
	for (unsigned v = 0; v < 256; v++)
		if (atomic_load(&T.sent[v]))
			wait_accepted(v, 1);
	assert_no_loss();
	stop_and_check_quiescent(tgt);
	for (unsigned v = 0; v < 256; v++) {
		uint64_t sent = atomic_load(&T.sent[v]);
		uint64_t acc = atomic_load(&T.accepted[v]);

		cr_assert_leq(acc, sent, "vector %#x duplicated", v);
		cr_assert_eq(!!acc, !!sent, "vector %#x", v);
	}
}

Test(lapic_stress, posted_lockstep_no_stranded_post, .timeout = 120)
{
	pthread_t tgt;

	setup();
	cr_assert_eq(pthread_barrier_init(&round_barrier, NULL, SENDERS), 0);
	run(sender_lockstep, &tgt);
	pthread_barrier_destroy(&round_barrier);
	assert_no_loss();
	stop_and_check_quiescent(tgt);
	for (unsigned s = 0; s < SENDERS; s++)
		for (unsigned i = 0; i < PER_SENDER; i++)
			cr_assert_eq(atomic_load(&T.accepted[vec_of(s, i)]),
				     LOCKSTEP_ROUNDS / PER_SENDER);
}
