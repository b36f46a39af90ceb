/* /dev/kvm: the VM and its vCPUs. Every KVM ioctl tinyvmm makes lives in
 * vmm/ (this file, the vCPU loop, the memslot listener). */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct error;

struct kvm {
	int dev_fd;
	int vm_fd;
	int run_size;			/* of each vCPU's kvm_run mapping */
	unsigned max_vcpus;
	unsigned max_memslots;
	struct kvm_cpuid2 *cpuid;	/* what KVM supports, the base of each vCPU's */
	/* The userspace LAPIC's MSRs reach us: x2APIC (0x800-0x8FF, exits
	 * KVM calls invalid), IA32_APIC_BASE and IA32_TSC_DEADLINE (filtered).
	 * CPUID offers x2APIC and TSC-deadline only when they do. */
	bool x2apic;
	bool tsc_deadline;
	uint32_t tsc_khz;		/* 0: unknown */
	bool ioeventfd;			/* any-length MMIO ioeventfds */
	/* KVM_CAP_SYNC_REGS with the event state: each exit leaves it in
	 * kvm_run, an entry takes it back when marked dirty (vcpu.c injects
	 * interrupts this way, without a KVM_INTERRUPT ioctl). */
	bool sync_events;
};

/* Opens /dev/kvm, checks the API version and every capability tinyvmm
 * relies on (naming the missing one), creates the VM. */
int kvm_init(struct kvm *kvm, struct error *err);
void kvm_destroy(struct kvm *kvm);

/* KVM signals @fd on every guest write to MMIO address @gpa, of any size,
 * without exiting to userspace (@assign), or stops doing so. -1 when this
 * KVM cannot or the VM does not exist yet. */
int kvm_ioeventfd(struct kvm *kvm, uint64_t gpa, int fd, bool assign);

struct kvm_vcpu_handle {
	int fd;
	struct kvm_run *run;
};

/* Creates vCPU @id with CPUID telling it its APIC ID. */
int kvm_vcpu_init(struct kvm *kvm, unsigned id, struct kvm_vcpu_handle *h,
		  struct error *err);
void kvm_vcpu_destroy(struct kvm *kvm, struct kvm_vcpu_handle *h);

#endif
