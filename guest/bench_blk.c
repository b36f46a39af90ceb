/* The blk-bench mode (command line word "blk-bench"; "no-event-idx" as well
 * keeps VIRTIO_F_RING_EVENT_IDX out of the negotiation): virtio-blk
 * throughput and request rate, timed with the TSC, with the doorbell
 * writes and interrupts the guest saw, so that the same guest gives the
 * same kind of counts on every VMM. One line per phase on COM1, e.g.
 *
 *   # bench seq-read-1m-qd8 MBps=1781.8 IOPS=1699 reqs=512 bytes=536870912
 *     us=301297 idle_us=31874 kicks=61 irqs=14 sleeps=29 publishes=65 event_idx=1
 *
 * (one line). kicks: doorbell writes (with EVENT_IDX only when avail_event
 * asked for one); publishes: avail index updates, one per batch; irqs:
 * MSI-X interrupts taken (MSIs that arrive while the guest runs with
 * interrupts off are taken once); sleeps, idle_us: the HLTs of the waits
 * and the time in them (us - idle_us: the guest's own time, driver
 * instructions and exits). With EVENT_IDX the driver asks for an interrupt
 * only right before it sleeps (lazy_irq).
 *
 * The guest never touches the data: in KVM's instruction emulator every
 * guest instruction costs about a microsecond. A phase keeps up to qdN
 * requests in flight, posting new ones as completions come back. */
#include "apic.h"
#include "boot.h"
#include "io.h"
#include "lib.h"
#include "serial.h"
#include "tests.h"
#include "virtio_blk.h"

#define MIB		(1u << 20)
#define SEQ_REQ		MIB
#define SEQ_BYTES	(512ull << 20)	/* per sequential phase; wraps the disk */
#define RAND_REQ	4096u
#define RAND_MS		1500		/* per random phase */
#define MAX_QD		32
#define WAIT_MS		2000
#define TICK_MS		10
#define CAL_MS		50		/* TSC calibration against the LAPIC timer */
#define INSN_LOOPS	20000		/* the instruction-cost probe */
#define PIO_LOOPS	1000		/* the exit-cost probe */
#define LCG_SEED	0x74766d6d62656e63ull	/* "tvmmbenc" */

struct phase {
	const char *name;
	uint32_t type, req;
	unsigned qd;
	bool random;
};

static const struct phase phases[] = {
	{ "seq-read-1m-qd1",   VIRTIO_BLK_T_IN,  SEQ_REQ,  1,  false },
	{ "seq-read-1m-qd8",   VIRTIO_BLK_T_IN,  SEQ_REQ,  8,  false },
	{ "seq-write-1m-qd1",  VIRTIO_BLK_T_OUT, SEQ_REQ,  1,  false },
	{ "seq-write-1m-qd8",  VIRTIO_BLK_T_OUT, SEQ_REQ,  8,  false },
	{ "rand-read-4k-qd1",  VIRTIO_BLK_T_IN,  RAND_REQ, 1,  true },
	{ "rand-read-4k-qd32", VIRTIO_BLK_T_IN,  RAND_REQ, 32, true },
};

static struct vblk vb;
static uint64_t khz;
/* One request's buffer per slot (the slots in use are 0..qd-1): 8 x 1 MiB
 * or 32 x 4 KiB. Never written by the guest (the loader zeroes .bss). */
static uint8_t bench_buf[8 * SEQ_REQ] __attribute__((aligned(4096)));
_Static_assert(MAX_QD * RAND_REQ <= sizeof(bench_buf), "bench_buf too small");
static uint64_t lcg = LCG_SEED;

static uint64_t next_random(uint64_t n)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (lcg >> 33) % n;
}

/* The clock and the counters at the start and the end of a phase. */
struct counts {
	uint64_t t, idle;
	uint32_t kicks, publishes, irqs, sleeps;
};

static struct counts snapshot(void)
{
	return (struct counts){ rdtsc(), vb.idle_tsc, vb.notifies, vb.kicks, vblk_irqs,
				vb.sleeps };
}

static void print_phase(const struct phase *p, const struct counts *a,
			const struct counts *b, uint64_t reqs)
{
	uint64_t us = (b->t - a->t) * 1000 / khz, bytes = reqs * p->req;
	uint64_t mbps10 = us ? bytes * 10 / us : 0, iops = us ? reqs * 1000000 / us : 0;

	uint64_t idle_us = (b->idle - a->idle) * 1000 / khz;

	printf("# bench %s MBps=%llu.%llu IOPS=%llu reqs=%llu bytes=%llu us=%llu idle_us=%llu"
	       " kicks=%u irqs=%u sleeps=%u publishes=%u event_idx=%d\n", p->name,
	       (unsigned long long)(mbps10 / 10), (unsigned long long)(mbps10 % 10),
	       (unsigned long long)iops, (unsigned long long)reqs,
	       (unsigned long long)bytes, (unsigned long long)us,
	       (unsigned long long)idle_us, b->kicks - a->kicks, b->irqs - a->irqs,
	       b->sleeps - a->sleeps, b->publishes - a->publishes,
	       vblk_has(&vb, VIRTIO_F_RING_EVENT_IDX));
}

/* @p->qd requests in flight until @total are done (sequential) or until
 * @ms have passed (random): how many completed, or -1. */
static int64_t run(const struct phase *p, uint64_t total, unsigned ms)
{
	uint64_t per_req = p->req / VBLK_SECTOR, nreq = vb.capacity / per_req;
	uint64_t next = 0, done = 0, stop = rdtsc() + ms * khz;
	bool more = total > 0;

	vb.first_bad = VIRTIO_BLK_S_OK;
	while (more || vb.inflight) {
		int n;

		while (more && vb.inflight < p->qd) {
			int s = vblk_free_slot(&vb);
			uint64_t at = p->random ? next_random(nreq) : next % nreq;

			if (s < 0 || vblk_submit(&vb, p->type, at * per_req,
						 bench_buf + (uint64_t)s * p->req, p->req) != s) {
				printf("# bench error: %s: no room for request %llu\n", p->name,
				       (unsigned long long)next);
				return -1;
			}
			more = ++next < total;
		}
		vblk_kick(&vb);
		n = vblk_wait_any(&vb, WAIT_MS);
		if (n < 0) {
			printf("# bench error: %s: a wait failed\n", p->name);
			return -1;
		}
		done += n;
		if (ms && more && past(stop))
			more = false;
	}
	if (vb.first_bad != VIRTIO_BLK_S_OK) {
		printf("# bench error: %s: status %d\n", p->name, vb.first_bad);
		return -1;
	}
	return (int64_t)done;
}

static int run_phase(const struct phase *p)
{
	struct counts a, b;
	int64_t reqs;

	a = snapshot();
	reqs = p->random ? run(p, UINT64_MAX, RAND_MS) : run(p, SEQ_BYTES / p->req, 0);
	b = snapshot();
	if (reqs < 0)
		return -1;
	print_phase(p, &a, &b, (uint64_t)reqs);
	return 0;
}

/* What one simple guest instruction costs here, in ns (a dec/jnz loop):
 * about 0.3 on hardware, about 1000 in KVM's instruction emulator. */
static void print_insn_cost(void)
{
	uint64_t t0 = rdtsc(), n = INSN_LOOPS, ps;

	__asm__ volatile("1: dec %0; jnz 1b" : "+r"(n) : : "cc");
	ps = (rdtsc() - t0) * 1000000000 / khz / (2 * INSN_LOOPS);
	printf("# bench insn-cost ns=%llu.%03llu\n", (unsigned long long)(ps / 1000),
	       (unsigned long long)(ps % 1000));
}

/* What a port read the VMM serves in user space costs (COM1's line status
 * register: the serial port is emulated by tinyvmm and by QEMU), in ns. */
static void print_exit_cost(void)
{
	uint64_t t0 = rdtsc(), ns;

	for (unsigned i = 0; i < PIO_LOOPS; i++)
		(void)inb(COM1 + 5);
	ns = (rdtsc() - t0) * 1000000 / khz / PIO_LOOPS;
	printf("# bench pio-exit ns=%llu\n", (unsigned long long)ns);
}

static int setup(bool event_idx)
{
	uint64_t want = VBLK_F_ALL;
	int r = vblk_probe(&vb);

	if (r <= 0) {
		printf("# bench error: %s\n", r ? "unusable virtio-blk device" :
		       "no virtio-blk disk");
		return -1;
	}
	if (!event_idx)
		want &= ~VBIT(VIRTIO_F_RING_EVENT_IDX);
	if (vblk_init(&vb, want)) {
		printf("# bench error: initialisation failed\n");
		return -1;
	}
	if (vblk_has(&vb, VIRTIO_BLK_F_RO) || vb.capacity < sizeof(bench_buf) / VBLK_SECTOR ||
	    vblk_max_request(&vb) < SEQ_REQ || vb.qsize < MAX_QD * 3) {
		printf("# bench error: need a writable disk of at least %u MiB taking 1 MiB"
		       " requests and %u in flight\n", (unsigned)(sizeof(bench_buf) / MIB), MAX_QD);
		return -1;
	}
	khz = tsc_khz(CAL_MS);
	if (!khz) {
		printf("# bench error: the LAPIC timer does not count down\n");
		return -1;
	}
	printf("# bench setup loader=%s features=%#llx queue=%u capacity=%llu tsc_khz=%llu\n",
	       boot_on_tinyvmm() ? "tinyvmm" : "other", (unsigned long long)vb.features,
	       vb.qsize, (unsigned long long)vb.capacity, (unsigned long long)khz);
	print_insn_cost();
	print_exit_cost();
	return 0;
}

int blk_bench(bool event_idx)
{
	static const struct phase warm = { "warm-up", VIRTIO_BLK_T_IN, SEQ_REQ, 8, false };
	int r = 0;

	if (setup(event_idx))
		return 1;
	/* One tick for the whole run instead of one per wait; interrupts
	 * only when the driver is about to sleep. */
	vb.tick_held = true;
	vb.lazy_irq = true;
	apic_tick_start(TICK_MS);
	/* The buffers once, so that no phase pays for the host's first touch. */
	if (run(&warm, sizeof(bench_buf) / SEQ_REQ, 0) < 0)
		r = 1;
	for (unsigned i = 0; !r && i < sizeof(phases) / sizeof(phases[0]); i++)
		if (run_phase(&phases[i]))
			r = 1;
	apic_tick_stop();
	vb.tick_held = vb.lazy_irq = false;
	if (!r)
		printf("# bench done\n");
	return r;
}
