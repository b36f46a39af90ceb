/* The host side of the userspace LAPIC model (devices/intc/lapic.h): how it
 * notifies vCPUs, its timers (on the machine's one clock), which vCPU is calling, the lapic
 * devices (one per vCPU, each mapping the xAPIC page), --trace and --stats. */
#ifndef VMM_APIC_HOST_H
#define VMM_APIC_HOST_H

#include <stdint.h>
#include <stdio.h>

#include "devices/clock.h"

struct apic_bus;
struct error;
struct machine;

struct apic_host;

/* One clock timer per vCPU: when it falls due, that vCPU is notified and
 * its thread fires the LAPIC timer. */
struct apic_timer_slot {
	struct clock_timer timer;
	struct apic_host *h;
	unsigned cpu;
};

struct apic_host {
	struct machine *m;
	struct apic_bus *bus;
	struct vm_clock *clock;
	struct apic_timer_slot *timers;		/* per vCPU */
};

int apic_host_init(struct apic_host *h, struct machine *m, unsigned ncpus,
		   uint32_t tsc_khz, struct error *err);
void apic_host_destroy(struct apic_host *h);
void apic_host_print_stats(struct apic_host *h, FILE *out);

#endif
