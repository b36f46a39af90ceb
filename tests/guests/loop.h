/* Iterations of the benchmark guests (tests/bench/run.sh reads these). */
#define LOOP_ITERATIONS 1000000
#define IPI_ROUNDS 20000
/* ipi_apic_loop*_mb.elf: LAPIC register writes (one exit each). */
#define APIC_LOOP_ITERATIONS 200000
/* ipi_storm_mb.elf: CPUs, IPIs each CPU sends to each other CPU, and how
 * many of them may be in flight at once (lanes, one vector each). */
#define STORM_CPUS 2
#define IPI_STORM_K 8000
#define STORM_WINDOW 8
