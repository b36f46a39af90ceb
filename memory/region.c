#include "memory/region.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory/internal.h"
#include "memory/ramblock.h"

/* Recursive: a device's callback may change the tree (a BAR write) while
 * the same thread already holds it. */
static pthread_mutex_t topology_lock;
static pthread_once_t topology_once = PTHREAD_ONCE_INIT;
static unsigned transaction_depth;	/* under topology_lock */
/* Under topology_lock: the tree changed since the last render. A commit of
 * nothing (a BAR rewritten with its own value) re-renders nothing, so the
 * vCPUs keep their cached views. */
static bool topology_dirty;

static void topology_lock_init(void)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&topology_lock, &a);
	pthread_mutexattr_destroy(&a);
}

void memory_topology_lock(void)
{
	pthread_once(&topology_once, topology_lock_init);
	pthread_mutex_lock(&topology_lock);
}

void memory_topology_unlock(void)
{
	pthread_mutex_unlock(&topology_lock);
}

void memory_transaction_begin(void)
{
	memory_topology_lock();
	transaction_depth++;
}

void memory_transaction_commit(void)
{
	if (transaction_depth == 0) {
		fprintf(stderr, "memory: transaction commit without a begin\n");
		abort();
	}
	/* Render with the transaction still open: a listener that changes the
	 * tree then only marks it dirty, and is rendered next time round,
	 * rather than publishing in the middle of this commit. */
	while (transaction_depth == 1 && topology_dirty) {
		topology_dirty = false;
		address_spaces_commit();
	}
	transaction_depth--;
	pthread_mutex_unlock(&topology_lock);
}

static void region_init(struct memory_region *mr, const char *name,
			enum memory_region_kind kind, uint64_t size)
{
	memset(mr, 0, sizeof(*mr));
	mr->name = name;
	mr->kind = kind;
	mr->size = size;
	mr->enabled = true;
}

void memory_region_init_container(struct memory_region *mr, const char *name,
				  uint64_t size)
{
	region_init(mr, name, MR_CONTAINER, size);
}

void memory_region_init_ram(struct memory_region *mr, const char *name,
			    struct ram_block *rb, uint64_t offset, uint64_t size)
{
	region_init(mr, name, MR_RAM, size);
	mr->ram = rb;
	mr->ram_offset = offset;
}

void memory_region_init_rom(struct memory_region *mr, const char *name,
			    struct ram_block *rb, uint64_t offset, uint64_t size)
{
	memory_region_init_ram(mr, name, rb, offset, size);
	mr->kind = MR_ROM;
}

void memory_region_init_io(struct memory_region *mr, const char *name,
			   const struct memory_region_ops *ops, void *opaque,
			   uint64_t size)
{
	region_init(mr, name, MR_IO, size);
	mr->ops = ops;
	mr->opaque = opaque;
}

void memory_region_set_dma_ram(struct memory_region *mr, struct ram_block *rb,
			       uint64_t offset)
{
	assert(mr->kind == MR_IO && offset <= rb->size && mr->size <= rb->size - offset);
	mr->ram = rb;
	mr->ram_offset = offset;
}

void memory_region_init_alias(struct memory_region *mr, const char *name,
			      struct memory_region *target, uint64_t offset,
			      uint64_t size)
{
	region_init(mr, name, MR_ALIAS, size);
	mr->alias = target;
	mr->alias_offset = offset;
}

static void unlink_subregion(struct memory_region *parent,
			     struct memory_region *child)
{
	struct memory_region **pp;

	for (pp = &parent->subregions; *pp; pp = &(*pp)->next_sibling) {
		if (*pp == child) {
			*pp = child->next_sibling;
			break;
		}
	}
	child->next_sibling = NULL;
}

/* Highest priority first; among equals the newest first, so it wins. */
static void link_subregion(struct memory_region *parent,
			   struct memory_region *child)
{
	struct memory_region **pp = &parent->subregions;

	while (*pp && (*pp)->priority > child->priority)
		pp = &(*pp)->next_sibling;
	child->next_sibling = *pp;
	*pp = child;
}

/* Subregions are not checked against their parent's kind: only a
 * container's are rendered. A child moved to a new parent leaves the old. */
void memory_region_add_subregion(struct memory_region *parent, uint64_t addr,
				 struct memory_region *child, int priority)
{
	memory_transaction_begin();
	if (child->parent)
		unlink_subregion(child->parent, child);
	child->parent = parent;
	child->addr = addr;
	child->priority = priority;
	link_subregion(parent, child);
	topology_dirty = true;
	memory_transaction_commit();
}

void memory_region_del_subregion(struct memory_region *parent,
				 struct memory_region *child)
{
	memory_transaction_begin();
	if (child->parent == parent) {
		unlink_subregion(parent, child);
		child->parent = NULL;
		topology_dirty = true;
	}
	memory_transaction_commit();
}

void memory_region_set_enabled(struct memory_region *mr, bool enabled)
{
	memory_transaction_begin();
	if (mr->enabled != enabled) {
		mr->enabled = enabled;
		topology_dirty = true;
	}
	memory_transaction_commit();
}

void memory_region_set_address(struct memory_region *mr, uint64_t addr)
{
	memory_transaction_begin();
	if (mr->addr != addr) {
		mr->addr = addr;
		topology_dirty = true;
	}
	memory_transaction_commit();
}
