/* Memory-model microbenchmarks: dispatch lookup cost for 8, 64 and 1024
 * regions (random addresses vs. the same one, an MRU hit), and the time to
 * commit a BAR-like move. Medians of several runs; nothing is asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "memory/address_space.h"
#include "memory/flatview.h"
#include "memory/region.h"

#define RUNS		9
#define LOOKUPS		(1 << 20)
#define MOVES		200

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)size;
	return off;
}

static void dev_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque; (void)off; (void)v; (void)size;
}

static const struct memory_region_ops ops = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 8 }, .impl = { .min = 1, .max = 8 },
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(v[0]), cmp);
	return v[RUNS / 2];
}

static uint64_t addrs[LOOKUPS];
static volatile uint64_t sink;

/* ns per address_space_rw (4-byte read) or per flat_view_lookup. */
static double time_lookups(struct address_space *as, struct flat_view *fv,
			   bool repeat, bool rw)
{
	double runs[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double t0 = now();

		for (int i = 0; i < LOOKUPS; i++) {
			uint64_t a = repeat ? addrs[0] : addrs[i];
			uint32_t v;

			if (rw) {
				address_space_read(as, a, &v, 4);
				sink += v;
			} else {
				sink += (uintptr_t)flat_view_lookup(fv, a);
			}
		}
		runs[r] = (now() - t0) * 1e9 / LOOKUPS;
	}
	return median(runs);
}

static double time_moves(struct memory_region *bar)
{
	double runs[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double t0 = now();

		for (int i = 0; i < MOVES; i++) {
			memory_transaction_begin();
			memory_region_set_address(bar, i & 1 ? 0x10000000 : 0x20000000);
			memory_transaction_commit();
		}
		runs[r] = (now() - t0) * 1e6 / MOVES;
	}
	return median(runs);
}

static void bench(unsigned n)
{
	struct memory_region root, *regs = calloc(n, sizeof(*regs));
	struct address_space *as;
	struct flat_view *fv;

	memory_region_init_container(&root, "root", UINT64_MAX);
	memory_transaction_begin();
	for (unsigned i = 0; i < n; i++) {
		memory_region_init_io(&regs[i], "dev", &ops, NULL, 0x1000);
		memory_region_add_subregion(&root, 0x40000000 + (uint64_t)i * 0x2000, &regs[i], 0);
	}
	memory_transaction_commit();
	as = address_space_new("bench", &root);
	fv = flat_view_render(&root);
	srand(1);
	for (int i = 0; i < LOOKUPS; i++)
		addrs[i] = 0x40000000 + (uint64_t)(rand() % n) * 0x2000 + (rand() & 0xffc);
	printf("%7u | %10.1f | %10.1f | %14.1f | %14.1f | %9.1f\n", n,
	       time_lookups(as, fv, false, false), time_lookups(as, fv, true, false),
	       time_lookups(as, fv, false, true), time_lookups(as, fv, true, true),
	       time_moves(&regs[n / 2]));
	flat_view_unref(fv);
	address_space_destroy(as);
	free(regs);
}

int main(void)
{
	printf("regions | flat_view_lookup (ns)   | address_space_rw, 4-byte read (ns) | commit of\n");
	printf("        | random     | same addr  | random         | same (MRU hit)     | a move (us)\n");
	bench(8);
	bench(64);
	bench(1024);
	return 0;
}
