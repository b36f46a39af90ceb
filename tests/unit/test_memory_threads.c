/* The lock-free lookup under fire: readers on several threads while others
 * change the tree. Run under ASan (make asan) and TSan. Criterion cannot
 * start under TSan (Snaipe/Criterion#274), so this file also builds as a
 * plain program:
 *   gcc -std=gnu11 -I. -pthread -fsanitize=thread -DMEMORY_TEST_STANDALONE \
 *       memory/[a-z]*.c tests/unit/test_memory_threads.c && ./a.out
 * Reader threads never assert (a Criterion assertion must fail on the test's
 * own thread): they count what they saw, and the test checks the counts. */
#ifdef MEMORY_TEST_STANDALONE
#include <stdio.h>
#include <stdlib.h>
#define cr_assert(c, ...) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #c); \
		abort();						\
	}								\
} while (0)
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b))
#define cr_assert_gt(a, b, ...) cr_assert((a) > (b))
#define cr_assert_null(a, ...) cr_assert((a) == NULL)
#define TestSuite(...)
#define Test(suite, name, ...) static void suite##_##name(void)
#else
#include <criterion/criterion.h>
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "memory/address_space.h"
#include "memory/listener.h"
#include "memory/ramblock.h"
#include "memory/region.h"

#define READERS 3

/* Stateless, so any number of threads may call it. */
static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)size;
	return 0xd0 + off;
}

static void dev_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque; (void)off; (void)v; (void)size;
}

static const struct memory_region_ops ops = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 8 }, .impl = { .min = 1, .max = 8 },
};

static struct memory_region root;
static struct address_space *as;
static struct ram_block rb;

static void setup(void)
{
	memory_region_init_container(&root, "root", UINT64_MAX);
	as = address_space_new("test", &root);
	if (ram_block_init(&rb, "ram", 0x10000))
		abort();
	memset(rb.host, 0x5a, rb.size);
}

static void teardown(void)
{
	address_space_destroy(as);
	ram_block_destroy(&rb);
}

TestSuite(threads, .init = setup, .fini = teardown);

struct shared {
	struct memory_region *dev;
	atomic_bool stop;
	atomic_ulong rounds[READERS];
	atomic_ulong changes[READERS];	/* layouts a reader saw change */
	atomic_ulong seen_dev, seen_win, bad;
};

/* Returns which of the two places show the device (bit 0, bit 1). */
static unsigned check_dev(struct shared *s)
{
	const struct memory_region *a, *b;
	uint8_t x = 0, y = 0;
	memtx_result ra, rb2;

	ra = address_space_rw(as, 0x10000, &x, 1, false, &a);
	rb2 = address_space_rw(as, 0x20000, &y, 1, false, &b);
	/* Each address shows the device (value 0xd0) or nothing (all-ones),
	 * and the result and hit say the same. */
	if ((a && (a != s->dev || ra != MEMTX_OK || x != 0xd0)) ||
	    (!a && (ra != MEMTX_DECODE_ERROR || x != 0xff)) ||
	    (b && (b != s->dev || rb2 != MEMTX_OK || y != 0xd0)) ||
	    (!b && (rb2 != MEMTX_DECODE_ERROR || y != 0xff)))
		atomic_fetch_add(&s->bad, 1);
	if (a || b)
		atomic_fetch_add(&s->seen_dev, 1);
	return (a ? 1u : 0u) | (b ? 2u : 0u);
}

/* Returns whether the RAM window is mapped. */
static unsigned check_win(struct shared *s)
{
	uint32_t v = 0;
	memtx_result r = address_space_read(as, 0x30000, &v, 4);
	uint8_t *p = address_space_map_ram(as, 0x30000, 4, true);

	if ((r == MEMTX_OK && v != 0x5a5a5a5a) ||
	    (r != MEMTX_OK && (r != MEMTX_DECODE_ERROR || v != UINT32_MAX)) ||
	    (p && p != rb.host))
		atomic_fetch_add(&s->bad, 1);
	if (r == MEMTX_OK)
		atomic_fetch_add(&s->seen_win, 1);
	return r == MEMTX_OK;
}

struct reader_arg {
	struct shared *s;
	int idx;
};

/* Yields every round: on a loaded machine threads share a CPU, and a reader
 * that ran whole time slices would only ever see a frozen view. */
static void *reader(void *arg)
{
	struct reader_arg *ra = arg;
	unsigned last = ~0u;

	while (!atomic_load(&ra->s->stop)) {
		unsigned now = check_dev(ra->s) | check_win(ra->s) << 2;

		if (last != ~0u && now != last)
			atomic_fetch_add(&ra->s->changes[ra->idx], 1);
		last = now;
		atomic_fetch_add(&ra->s->rounds[ra->idx], 1);
		sched_yield();
	}
	return NULL;
}

static bool readers_saw_changes(struct shared *s, unsigned long n)
{
	for (int i = 0; i < READERS; i++)
		if (atomic_load(&s->changes[i]) < n)
			return false;
	return true;
}

#define MIN_MOVES	2000
#define MAX_MOVES	400000
#define MIN_CHANGES	200	/* per reader */

/* The device and a RAM window move to and fro, each move one transaction;
 * readers must always see one consistent view, and see it change. */
Test(threads, readers_during_moves)
{
	struct memory_region dev, win;
	struct shared s = { .dev = &dev };
	struct reader_arg ra[READERS];
	pthread_t t[READERS];
	int moves;

	memory_region_init_io(&dev, "dev", &ops, NULL, 0x1000);
	memory_region_init_ram(&win, "win", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &dev, 0);
	memory_region_add_subregion(&root, 0x30000, &win, 0);
	for (int i = 0; i < READERS; i++) {
		ra[i] = (struct reader_arg){ &s, i };
		pthread_create(&t[i], NULL, reader, &ra[i]);
	}
	for (moves = 0; moves < MAX_MOVES &&
	     (moves < MIN_MOVES || !readers_saw_changes(&s, MIN_CHANGES)); moves++) {
		memory_transaction_begin();
		memory_region_set_address(&dev, moves & 1 ? 0x10000 : 0x20000);
		memory_region_set_enabled(&win, moves % 3 != 0);
		memory_transaction_commit();
		sched_yield();
	}
	atomic_store(&s.stop, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
#ifdef MEMORY_TEST_STANDALONE
	printf("readers_during_moves: %d moves, reader rounds %lu %lu %lu, "
	       "changes seen %lu %lu %lu\n", moves,
	       atomic_load(&s.rounds[0]), atomic_load(&s.rounds[1]), atomic_load(&s.rounds[2]),
	       atomic_load(&s.changes[0]), atomic_load(&s.changes[1]), atomic_load(&s.changes[2]));
#endif
	cr_assert_eq(atomic_load(&s.bad), 0, "inconsistent reads: %lu", atomic_load(&s.bad));
	cr_assert(readers_saw_changes(&s, MIN_CHANGES),
		  "readers saw %lu, %lu, %lu changes in %d moves", atomic_load(&s.changes[0]),
		  atomic_load(&s.changes[1]), atomic_load(&s.changes[2]), moves);
	cr_assert_gt(atomic_load(&s.seen_dev), 0);
	cr_assert_gt(atomic_load(&s.seen_win), 0);
	cr_assert_gt(atomic_load(&dev.reads), 0, "counted across threads");
}

/* Several threads change the tree at once, with nested transactions: the
 * topology lock serializes them, and listeners hear a consistent story. */
#define MUTATORS 4
#define MOVES 300

static atomic_long live_ranges;	/* adds - dels, by the listener */

static void count_add(struct memory_listener *l, const struct flat_range *r)
{
	(void)l; (void)r;
	atomic_fetch_add(&live_ranges, 1);
}

static void count_del(struct memory_listener *l, const struct flat_range *r)
{
	(void)l; (void)r;
	atomic_fetch_sub(&live_ranges, 1);
}

static struct memory_region mut_ram[MUTATORS];

static void *mutator(void *arg)
{
	struct memory_region *mr = arg;
	uint64_t slot = (uint64_t)(mr - mut_ram);

	for (int i = 0; i < MOVES; i++) {
		memory_transaction_begin();
		memory_region_set_enabled(mr, false);
		memory_transaction_begin();
		memory_region_set_address(mr, 0x100000 * (slot + 1) + (uint64_t)(i % 7) * 0x1000);
		memory_transaction_commit();
		memory_region_set_enabled(mr, true);
		memory_transaction_commit();
		sched_yield();
	}
	return NULL;
}

Test(threads, concurrent_mutators)
{
	struct memory_listener l = { .region_add = count_add, .region_del = count_del };
	pthread_t t[MUTATORS];

	for (int i = 0; i < MUTATORS; i++) {
		memory_region_init_ram(&mut_ram[i], "ram", &rb, (uint64_t)i * 0x1000, 0x1000);
		memory_region_add_subregion(&root, 0x100000 * (uint64_t)(i + 1), &mut_ram[i], 0);
	}
	address_space_add_listener(as, &l);
	cr_assert_eq(atomic_load(&live_ranges), MUTATORS);
	for (int i = 0; i < MUTATORS; i++)
		pthread_create(&t[i], NULL, mutator, &mut_ram[i]);
	for (int i = 0; i < MUTATORS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&live_ranges), MUTATORS, "every del matched by an add");
	for (int i = 0; i < MUTATORS; i++) {
		uint64_t end = 0x100000 * (uint64_t)(i + 1) + (uint64_t)((MOVES - 1) % 7) * 0x1000;

		cr_assert_eq(address_space_map_ram(as, end, 0x1000, false),
			     rb.host + (uint64_t)i * 0x1000, "region %d where it was last put", i);
	}
	address_space_remove_listener(as, &l);
}

/* A thread that used an address space keeps a reference to its view; the
 * view must outlive the address space's own reference and go when the
 * thread exits (ASan: no use-after-free, no leak). */
struct holder {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stage;
};

static void wait_stage(struct holder *h, int stage)
{
	pthread_mutex_lock(&h->lock);
	while (h->stage < stage)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

static void set_stage(struct holder *h, int stage)
{
	pthread_mutex_lock(&h->lock);
	h->stage = stage;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static struct address_space *other_as;

static void *hold_view(void *arg)
{
	struct holder *h = arg;
	uint8_t b;

	address_space_read(other_as, 0x1000, &b, 1);	/* caches the view */
	address_space_read(as, 0x1000, &b, 1);
	set_stage(h, 1);
	wait_stage(h, 2);		/* other_as is gone, views have moved on */
	address_space_read(as, 0x1000, &b, 1);
	return (void *)(uintptr_t)b;
}

Test(threads, views_outlive_their_address_space_until_threads_exit)
{
	struct holder h = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	struct memory_region other_root, dev, dev2;
	pthread_t t;
	void *ret;

	memory_region_init_container(&other_root, "other", 0x10000);
	memory_region_init_io(&dev, "dev", &ops, NULL, 0x1000);
	memory_region_add_subregion(&other_root, 0x1000, &dev, 0);
	other_as = address_space_new("other", &other_root);
	pthread_create(&t, NULL, hold_view, &h);
	wait_stage(&h, 1);
	address_space_destroy(other_as);
	memory_region_init_io(&dev2, "dev2", &ops, NULL, 0x1000);
	memory_region_add_subregion(&root, 0x1000, &dev2, 0);	/* as's view moves on */
	set_stage(&h, 2);
	pthread_join(t, &ret);
	cr_assert_eq((uintptr_t)ret, 0xd0, "the thread picked up the new view");
	memory_region_del_subregion(&root, &dev2);
}

/* More address spaces than a thread caches: slots are reused, and each
 * access still goes to the right address space while they change.
 * (seen_dev / seen_win count mapped / unmapped answers here.) */
#define SPACES 6

static struct memory_region sp_root[SPACES], sp_dev[SPACES];
static struct address_space *sp[SPACES];

static uint64_t id_read(void *opaque, uint64_t off, unsigned size)
{
	(void)off; (void)size;
	return (uintptr_t)opaque;
}

static const struct memory_region_ops id_ops = {
	.read = id_read, .valid = { 1, 8, false }, .impl = { 1, 8, false },
};

static void *many_spaces_reader(void *arg)
{
	struct shared *s = arg;

	while (!atomic_load(&s->stop)) {
		for (int i = 0; i < SPACES; i++) {
			uint8_t b = 0;
			memtx_result r = address_space_read(sp[i], 0x100, &b, 1);

			if ((r == MEMTX_OK && b != i) || (r != MEMTX_OK && b != 0xff))
				atomic_fetch_add(&s->bad, 1);
			atomic_fetch_add(r == MEMTX_OK ? &s->seen_dev : &s->seen_win, 1);
		}
		atomic_fetch_add(&s->rounds[0], 1);
		sched_yield();
	}
	return NULL;
}

Test(threads, more_address_spaces_than_cache_slots)
{
	struct shared s = { 0 };
	pthread_t t[2];

	for (int i = 0; i < SPACES; i++) {
		memory_region_init_container(&sp_root[i], "root", 0x10000);
		memory_region_init_io(&sp_dev[i], "dev", &id_ops, (void *)(uintptr_t)i, 0x1000);
		memory_region_add_subregion(&sp_root[i], 0, &sp_dev[i], 0);
		sp[i] = address_space_new("space", &sp_root[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, many_spaces_reader, &s);
	for (int i = 0; i < 1000 || atomic_load(&s.rounds[0]) < 2000; i++) {
		memory_region_set_enabled(&sp_dev[i % SPACES], (i / SPACES) % 2);
		sched_yield();
	}
	atomic_store(&s.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&s.bad), 0);
	cr_assert_gt(atomic_load(&s.seen_dev), 0, "some reads hit a device");
	cr_assert_gt(atomic_load(&s.seen_win), 0, "some found it disabled");
	for (int i = 0; i < SPACES; i++)
		address_space_destroy(sp[i]);
}

#ifdef MEMORY_TEST_STANDALONE
int main(void)
{
	static void (*const tests[])(void) = {
		threads_readers_during_moves,
		threads_concurrent_mutators,
		threads_views_outlive_their_address_space_until_threads_exit,
		threads_more_address_spaces_than_cache_slots,
	};

	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		setup();
		tests[i]();
		teardown();
	}
	printf("%zu thread tests passed\n", sizeof(tests) / sizeof(tests[0]));
	return 0;
}
#endif
