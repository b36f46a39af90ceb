/* Flat views: a region tree rendered into sorted, disjoint ranges (QEMU's
 * FlatView), and the lookup that dispatch uses. */
#ifndef MEMORY_FLATVIEW_H
#define MEMORY_FLATVIEW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct memory_region;

struct flat_range {
	uint64_t start;			/* guest address of the first byte */
	uint64_t size;			/* never 0; 2^64 bytes take two ranges */
	struct memory_region *mr;	/* terminal region: RAM, ROM or I/O */
	uint64_t offset_in_region;	/* offset of @start inside @mr */
	uint8_t *host;			/* RAM/ROM, DMA RAM: host address of @start */
	bool readonly;			/* ROM */
};

struct flat_view {
	struct flat_range *ranges;	/* sorted by start, disjoint */
	uint64_t *starts;		/* ranges[i].start, packed for the search */
	unsigned nr;
	atomic_uint refcount;
};

/* Render @root (placed at address 0) into a new view with refcount 1. */
struct flat_view *flat_view_render(struct memory_region *root);
void flat_view_ref(struct flat_view *fv);
void flat_view_unref(struct flat_view *fv);

/* Binary search: the range containing @addr, or NULL. */
const struct flat_range *flat_view_lookup(const struct flat_view *fv,
					  uint64_t addr);

#endif
