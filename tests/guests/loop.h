/* Iterations of the benchmark guests (tests/bench/run.sh reads these). */
#define LOOP_ITERATIONS 1000000
#define IPI_ROUNDS 20000
