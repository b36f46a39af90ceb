/* vCPUs: one thread each, running KVM_RUN and dispatching its exits. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/kvm.h"

struct error;
struct machine;

#define VCPU_EXIT_REASONS 64

struct lapic;

/* Adaptive halt polling, KVM's halt_poll_ns policy: a halted vCPU first
 * polls for a wake-up for up to window_ns, then sleeps. The window grows
 * (x2, from HALT_POLL_GROW_START_NS) after a halt that slept but ended
 * within max_ns, and shrinks (/2, to 0 below the start value) after a halt
 * longer than max_ns: polling pays only where wake-ups come soon. */
#define HALT_POLL_DEFAULT_MAX_NS	200000u
#define HALT_POLL_GROW_START_NS		10000u

struct halt_poll {
	uint64_t max_ns;	/* the cap; 0: never poll */
	uint64_t window_ns;	/* how long the next halt polls */
	long host_cpus;
	bool host_busy;		/* at the last look: no polling */
	uint64_t host_checked_ns;	/* when the host load was looked at */
	/* --stats: halts that polled, that ended in the poll, that slept,
	 * that did not poll because the host was busy */
	uint64_t polls, poll_hits, sleeps, busy_skips;
};

/* @option: --halt-poll-ns (-1 the default cap, 0 off, else the cap in ns).
 * No polling at all when vCPUs outnumber host CPUs: a poller would then
 * keep the vCPU it waits for off the CPU. */
void halt_poll_init(struct halt_poll *hp, long option, unsigned ncpus,
		    long host_cpus);
/* A halt ended @halt_ns after it began, during the poll if @in_poll. */
void halt_poll_update(struct halt_poll *hp, uint64_t halt_ns, bool in_poll);
/* KVM polls only while its CPU has no other task to run; userspace sees
 * only how many tasks the whole host can run now (the "R/T" field of
 * /proc/loadavg, @loadavg). Busy: more than host CPUs, or unreadable. */
bool halt_poll_host_busy(const struct halt_poll *hp, const char *loadavg);

struct vcpu {
	unsigned id;
	struct machine *m;
	struct kvm_vcpu_handle kvm;
	struct lapic *apic;
	pthread_t thread;
	bool started;
	/* Between the last look at the LAPIC before KVM_RUN and the exit: a
	 * notifier must kick, otherwise the next look sees its interrupt.
	 * The first notifier to kick clears it: one signal per entry. */
	atomic_bool in_guest;
	atomic_bool suspend_pending;	/* reset when the machine resumes */
	/* A sleeping vCPU (hlt, wait-for-SIPI) waits on this futex word:
	 * VCPU_WAKE_* in vcpu.c. A futex, not a condition variable or an
	 * eventfd: the cheapest wake-up of a sleeping thread measured (two
	 * threads handing a token back and forth, 2026-11-29, kvm_pvm host:
	 * futex 4-6 us, eventfd 8-13 us, mutex + condition variable 14-20 us),
	 * and a waker that finds no sleeper makes no system call at all. */
	atomic_uint wake;
	struct halt_poll halt_poll;
	int loadavg_fd;			/* /proc/loadavg, for halt polling */
	uint64_t exits[VCPU_EXIT_REASONS];	/* by KVM exit reason, for --stats */
	_Atomic uint64_t kicks, wakeups;	/* signals sent, sleeps ended */
	/* Interrupts injected with the KVM_RUN's synced events, with a
	 * KVM_INTERRUPT ioctl (KVM without KVM_CAP_SYNC_REGS). */
	uint64_t injected_synced, injected_ioctl;
};

int vcpu_init(struct vcpu *v, struct machine *m, unsigned id,
	      struct lapic *apic, struct error *err);
void vcpu_destroy(struct vcpu *v);
/* Sets the registers the bootstrap vCPU starts with. */
int vcpu_set_boot_state(struct vcpu *v, const struct kvm_regs *regs,
			const struct kvm_sregs *sregs, struct error *err);
int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *sregs, struct error *err);
/* Installs the kick signal handler; once per process, before any start. */
void vcpu_setup_kick_signal(void);
int vcpu_start(struct vcpu *v);
/* Makes the vCPU leave KVM_RUN (or not enter it), or wake from its sleep,
 * and look at its state. */
void vcpu_kick(struct vcpu *v);
/* The machine is suspending (S3): leave the guest, park until it resumes,
 * then reset. */
void vcpu_suspend(struct vcpu *v);
/* The same for new LAPIC work, but a signal is sent only while the vCPU is
 * in (or entering) the guest: a sleeping or exiting one looks anyway. */
void vcpu_notify(struct vcpu *v);
/* The vCPU this thread runs, or NULL. */
struct vcpu *vcpu_current(void);
void vcpu_join(struct vcpu *v);
void vcpu_print_stats(const struct vcpu *v, FILE *out);

#endif
