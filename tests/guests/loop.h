/* Iterations of the benchmark loop guests. */
#define LOOP_ITERATIONS 1000000
