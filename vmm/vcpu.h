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

struct vcpu {
	unsigned id;
	struct machine *m;
	struct kvm_vcpu_handle kvm;
	struct lapic *apic;
	pthread_t thread;
	bool started;
	/* Between the last look at the LAPIC before KVM_RUN and the exit: a
	 * notifier must kick, otherwise the next look sees its interrupt. */
	atomic_bool in_guest;
	atomic_bool suspend_pending;	/* reset when the machine resumes */
	pthread_mutex_t wake_lock;	/* a sleeping vCPU (hlt, wait-for-SIPI) */
	pthread_cond_t wake_cond;
	bool woken;
	uint64_t exits[VCPU_EXIT_REASONS];	/* by KVM exit reason, for --stats */
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
