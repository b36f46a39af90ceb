/* The VMM's guest clock (devices/clock.h): the host's CLOCK_MONOTONIC, and
 * one timer thread for every device timer, started with the first armed
 * timer so a guest that arms none costs no thread. */
#ifndef VMM_CLOCK_H
#define VMM_CLOCK_H

#include <pthread.h>
#include <stdbool.h>

#include "devices/clock.h"

struct host_clock {
	struct vm_clock clock;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* the earliest deadline changed */
	pthread_cond_t done;		/* a callback returned */
	struct clock_timer *timers;	/* armed, unsorted: there are few */
	struct clock_timer *running;	/* whose callback runs now */
	pthread_t thread;
	bool started, quit;
};

void host_clock_init(struct host_clock *hc);
/* Stops the timer thread: no callback runs after it returns. */
void host_clock_stop(struct host_clock *hc);
void host_clock_destroy(struct host_clock *hc);

#endif
