/* KVM memory slots that follow the system address space's flat view: a
 * memory listener, and the only code that calls KVM_SET_USER_MEMORY_REGION. */
#ifndef VMM_MEMSLOTS_H
#define VMM_MEMSLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "memory/listener.h"

struct kvm_slot {
	bool used;
	uint64_t gpa, size;
	void *host;
	bool readonly;
};

struct kvm_memslots {
	struct memory_listener listener;
	int vm_fd;
	unsigned nslots;
	struct kvm_slot *slots;
	bool failed;		/* an ioctl failed: the VM cannot go on */
};

/* @nslots: KVM_CAP_NR_MEMSLOTS. Register ms->listener on the address space. */
int kvm_memslots_init(struct kvm_memslots *ms, int vm_fd, unsigned nslots);
void kvm_memslots_destroy(struct kvm_memslots *ms);

#endif
