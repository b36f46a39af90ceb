/* What waking a sleeping thread costs on this host, without KVM: two
 * threads hand a token back and forth through futexes, each sleeping until
 * the other wakes it, as two halted vCPU threads do in the IPI ping-pong
 * without halt polling. Prints the median µs per round trip (two
 * wake-ups) of REPS runs of ROUNDS round trips.
 *
 *   wake_pingpong [ROUNDS [REPS]]      (default 20000 5)
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int token[2];	/* 1: the thread of that index may go on */
static long rounds = 20000;

static void give(int to)
{
	atomic_store(&token[to], 1);
	syscall(SYS_futex, &token[to], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void take(int me)
{
	while (!atomic_exchange(&token[me], 0))
		syscall(SYS_futex, &token[me], FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void *peer(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		take(1);
		give(0);
	}
	return NULL;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double one_run(void)
{
	pthread_t t;
	double start;

	if (pthread_create(&t, NULL, peer, NULL))
		return -1;
	start = now_us();
	for (long i = 0; i < rounds; i++) {
		give(1);
		take(0);
	}
	pthread_join(t, NULL);
	return (now_us() - start) / (double)rounds;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	double runs[64];

	if (argc > 1)
		rounds = atol(argv[1]);
	if (rounds < 1 || reps < 1 || reps > 64) {
		fprintf(stderr, "usage: wake_pingpong [ROUNDS [REPS (1-64)]]\n");
		return 2;
	}
	for (int i = 0; i < reps; i++)
		if ((runs[i] = one_run()) < 0)
			return 1;
	qsort(runs, (size_t)reps, sizeof(runs[0]), cmp);
	printf("%.2f\n", runs[reps / 2]);
	return 0;
}
