#include "vmm/memslots.h"

#include <errno.h>
#include <stddef.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "memory/flatview.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static int memslot_ioctl(struct kvm_memslots *ms, unsigned slot,
			 const struct kvm_slot *s, uint64_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = s->readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = s->gpa,
		.memory_size = size,	/* 0 deletes the slot */
		.userspace_addr = (uintptr_t)s->host,
	};

	if (ioctl(ms->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) == 0)
		return 0;
	fprintf(stderr, "tinyvmm: KVM_SET_USER_MEMORY_REGION slot %u "
		"[%#llx, +%#llx): %s\n", slot, (unsigned long long)s->gpa,
		(unsigned long long)size, strerror(errno));
	ms->failed = true;
	return -1;
}

static void memslots_region_add(struct memory_listener *l,
				const struct flat_range *r)
{
	struct kvm_memslots *ms = container_of(l, struct kvm_memslots, listener);

	/* Lowest free number first: freed slots are reused. */
	for (unsigned i = 0; i < ms->nslots; i++) {
		struct kvm_slot *s = &ms->slots[i];

		if (s->used)
			continue;
		*s = (struct kvm_slot){ true, r->start, r->size, r->host, r->readonly };
		if (memslot_ioctl(ms, i, s, s->size))
			s->used = false;
		return;
	}
	fprintf(stderr, "tinyvmm: all %u KVM memory slots are in use; cannot map "
		"[%#llx, +%#llx)\n", ms->nslots, (unsigned long long)r->start,
		(unsigned long long)r->size);
	ms->failed = true;
}

static void memslots_region_del(struct memory_listener *l,
				const struct flat_range *r)
{
	struct kvm_memslots *ms = container_of(l, struct kvm_memslots, listener);

	for (unsigned i = 0; i < ms->nslots; i++) {
		struct kvm_slot *s = &ms->slots[i];

		if (s->used && s->gpa == r->start && s->size == r->size) {
			memslot_ioctl(ms, i, s, 0);
			s->used = false;
			return;
		}
	}
}

int kvm_memslots_init(struct kvm_memslots *ms, int vm_fd, unsigned nslots)
{
	memset(ms, 0, sizeof(*ms));
	ms->vm_fd = vm_fd;
	/* KVM's own limit can be 32k: a VM of ours needs a few dozen. */
	ms->nslots = nslots < 256 ? nslots : 256;
	ms->slots = calloc(ms->nslots, sizeof(ms->slots[0]));
	if (!ms->slots)
		return -1;
	ms->listener.region_add = memslots_region_add;
	ms->listener.region_del = memslots_region_del;
	return 0;
}

void kvm_memslots_destroy(struct kvm_memslots *ms)
{
	free(ms->slots);
	ms->slots = NULL;
}
