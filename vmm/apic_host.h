/* The host side of the userspace LAPIC model (devices/lapic.h): how it
 * notifies vCPUs, its clock and timers, which vCPU is calling, the lapic
 * devices (one per vCPU, each mapping the xAPIC page), --trace and --stats. */
#ifndef VMM_APIC_HOST_H
#define VMM_APIC_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct apic_bus;
struct error;
struct machine;

struct apic_host {
	struct machine *m;
	struct apic_bus *bus;

	/* One thread, started with the first armed timer, sleeps until the
	 * earliest LAPIC timer deadline and then notifies that vCPU, whose
	 * thread fires it. */
	pthread_t timer_thread;
	bool timer_started;		/* under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t *deadline;		/* per vCPU, ns; 0: disarmed */
	bool quit;
};

int apic_host_init(struct apic_host *h, struct machine *m, unsigned ncpus,
		   uint32_t tsc_khz, struct error *err);
void apic_host_stop(struct apic_host *h);
void apic_host_destroy(struct apic_host *h);
void apic_host_print_stats(struct apic_host *h, FILE *out);

#endif
