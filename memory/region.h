/* Memory regions: the tree that describes an address space (QEMU's MemoryRegion).
 *
 * A region is a container (holds subregions), RAM, ROM (RAM the guest can only
 * read), I/O (callbacks + opaque) or an alias (a window onto part of another
 * region). Subregions sit at an offset in their parent with a priority: where
 * siblings overlap, the higher priority wins; on a tie, the one added later.
 * A subregion shows only inside its parent's size; a disabled region hides
 * its whole subtree. An alias may point at any region, a container or
 * another alias included (a loop is cut, never followed), and its offset
 * may exceed its own address. A RAM/ROM region never shows past the end of
 * its block. Changes become visible to address spaces only on transaction
 * commit. */
#ifndef MEMORY_REGION_H
#define MEMORY_REGION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ram_block;

typedef enum {
	MEMTX_OK = 0,
	MEMTX_ERROR,		/* the device rejected the access (size/alignment) */
	MEMTX_DECODE_ERROR,	/* nothing is mapped there */
} memtx_result;

struct memory_access_size {
	/* In bytes, powers of two; 0 means 1 (min) / 4 (max). Implemented
	 * sizes above 8 are taken as 8: a callback's value is 64 bits. */
	unsigned min, max;
	bool unaligned;		/* accesses need not be aligned to their size */
};

struct memory_region_ops {
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
	/* What the guest may do: other sizes/alignments fail with MEMTX_ERROR. */
	struct memory_access_size valid;
	/* What the callbacks implement: dispatch splits wider accesses into
	 * several and widens narrower ones (read-modify-write is NOT done: a
	 * narrow write is widened with the other bytes zero, as QEMU does). */
	struct memory_access_size impl;
};

enum memory_region_kind {
	MR_CONTAINER,
	MR_RAM,
	MR_ROM,
	MR_IO,
	MR_ALIAS,
};

struct memory_region {
	const char *name;
	enum memory_region_kind kind;
	uint64_t size;			/* UINT64_MAX: all 2^64 bytes */
	uint64_t addr;			/* offset inside the parent */
	int priority;
	bool enabled;
	struct memory_region *parent;
	struct memory_region *subregions;	/* highest priority first */
	struct memory_region *next_sibling;

	struct ram_block *ram;		/* MR_RAM / MR_ROM; an MR_IO's DMA RAM */
	uint64_t ram_offset;
	const struct memory_region_ops *ops;	/* MR_IO */
	void *opaque;
	struct memory_region *alias;	/* MR_ALIAS */
	uint64_t alias_offset;

	/* Guest accesses dispatched to this region (I/O only), for --stats. */
	atomic_uint_fast64_t reads, writes;
};

void memory_region_init_container(struct memory_region *mr, const char *name,
				  uint64_t size);
void memory_region_init_ram(struct memory_region *mr, const char *name,
			    struct ram_block *rb, uint64_t offset, uint64_t size);
void memory_region_init_rom(struct memory_region *mr, const char *name,
			    struct ram_block *rb, uint64_t offset, uint64_t size);
void memory_region_init_io(struct memory_region *mr, const char *name,
			   const struct memory_region_ops *ops, void *opaque,
			   uint64_t size);
void memory_region_init_alias(struct memory_region *mr, const char *name,
			      struct memory_region *target, uint64_t offset,
			      uint64_t size);
/* Puts RAM under I/O region @mr (before it is mapped): the CPU's accesses
 * still go to its callbacks (no KVM memslot: they exit), while devices'
 * DMA (address_space_map_ram) reaches the RAM directly, as it would with
 * no region there. The debugger's watchpoints overlay guest RAM so. @rb
 * must hold [offset, offset + size of @mr). */
void memory_region_set_dma_ram(struct memory_region *mr, struct ram_block *rb,
			       uint64_t offset);

/* Tree changes. Each is its own transaction unless one is already open. */
void memory_region_add_subregion(struct memory_region *parent, uint64_t addr,
				 struct memory_region *child, int priority);
void memory_region_del_subregion(struct memory_region *parent,
				 struct memory_region *child);
void memory_region_set_enabled(struct memory_region *mr, bool enabled);
void memory_region_set_address(struct memory_region *mr, uint64_t addr);

/* Batch tree changes: address spaces are re-rendered, and listeners told,
 * once, on the outermost commit (not at all if nothing changed). Nests;
 * safe from any thread (a recursive topology lock is held from the
 * outermost begin to its commit). A commit without a begin aborts. */
void memory_transaction_begin(void);
void memory_transaction_commit(void);

#endif
