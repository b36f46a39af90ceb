/* Rendering a region tree into a flat view, as QEMU's render_memory_region:
 * walk the tree with the highest priority first, and let each terminal
 * region fill only the gaps that nothing rendered before it covers. */
#include "memory/flatview.h"

#include <stdlib.h>
#include <string.h>

#include "memory/ramblock.h"
#include "memory/region.h"

/* 128-bit ends: a region may reach the top of the 64-bit space. */
typedef unsigned __int128 u128;

struct render {
	struct flat_view *fv;
	unsigned cap;
};

static void view_insert(struct render *r, unsigned pos, const struct flat_range *fr)
{
	struct flat_view *fv = r->fv;

	if (fv->nr == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		fv->ranges = realloc(fv->ranges, r->cap * sizeof(fv->ranges[0]));
		if (!fv->ranges)
			abort();
	}
	memmove(&fv->ranges[pos + 1], &fv->ranges[pos],
		(fv->nr - pos) * sizeof(fv->ranges[0]));
	fv->ranges[pos] = *fr;
	fv->nr++;
}

static void add_piece(struct render *r, unsigned pos, struct memory_region *mr,
		      u128 base, u128 start, u128 end)
{
	struct flat_range fr = {
		.start = (uint64_t)start,
		.size = (uint64_t)(end - start),
		.mr = mr,
		.offset_in_region = (uint64_t)(start - base),
		.readonly = mr->kind == MR_ROM,
	};

	if (mr->kind == MR_RAM || mr->kind == MR_ROM)
		fr.host = mr->ram->host + mr->ram_offset + fr.offset_in_region;
	view_insert(r, pos, &fr);
}

/* Fills the parts of [start, end) not yet covered with @mr (at @base). */
static void fill_gaps(struct render *r, struct memory_region *mr, u128 base,
		      u128 start, u128 end)
{
	struct flat_view *fv = r->fv;
	unsigned i = 0;

	while (start < end) {
		u128 next_start, range_end;

		while (i < fv->nr && (u128)fv->ranges[i].start + fv->ranges[i].size <= start)
			i++;
		next_start = i < fv->nr ? fv->ranges[i].start : end;
		if (next_start > start) {
			u128 piece_end = next_start < end ? next_start : end;

			add_piece(r, i, mr, base, start, piece_end);
			i++;
			start = piece_end;
			continue;
		}
		range_end = (u128)fv->ranges[i].start + fv->ranges[i].size;
		start = range_end;
		i++;
	}
}

/* @base: where @mr's offset 0 lands; [clip_start, clip_end): what of it is
 * visible through its ancestors. */
static void render_region(struct render *r, struct memory_region *mr, u128 base,
			  u128 clip_start, u128 clip_end)
{
	u128 start = base, end = base + mr->size;

	if (!mr->enabled)
		return;
	if (start < clip_start)
		start = clip_start;
	if (end > clip_end)
		end = clip_end;
	if (start >= end)
		return;
	switch (mr->kind) {
	case MR_ALIAS:
		render_region(r, mr->alias, base - mr->alias_offset, start, end);
		break;
	case MR_CONTAINER:
		for (struct memory_region *c = mr->subregions; c; c = c->next_sibling)
			render_region(r, c, base + c->addr, start, end);
		break;
	default:
		fill_gaps(r, mr, base, start, end);
		break;
	}
}

/* Neighbours that are one contiguous piece of the same region become one
 * range, so a lookup has fewer to search (QEMU's flatview_simplify). */
static void simplify(struct flat_view *fv)
{
	unsigned out = 0;

	for (unsigned i = 0; i < fv->nr; i++) {
		struct flat_range *prev = out ? &fv->ranges[out - 1] : NULL;
		const struct flat_range *cur = &fv->ranges[i];

		if (prev && prev->mr == cur->mr && prev->readonly == cur->readonly &&
		    (u128)prev->start + prev->size == cur->start &&
		    prev->offset_in_region + prev->size == cur->offset_in_region) {
			prev->size += cur->size;
			continue;
		}
		fv->ranges[out++] = *cur;
	}
	fv->nr = out;
}

struct flat_view *flat_view_render(struct memory_region *root)
{
	struct flat_view *fv = calloc(1, sizeof(*fv));
	struct render r = { .fv = fv };

	if (!fv)
		abort();
	atomic_init(&fv->refcount, 1);
	if (root)
		render_region(&r, root, 0, 0, (u128)1 << 64);
	simplify(fv);
	fv->starts = malloc((fv->nr ? fv->nr : 1) * sizeof(fv->starts[0]));
	if (!fv->starts)
		abort();
	for (unsigned i = 0; i < fv->nr; i++)
		fv->starts[i] = fv->ranges[i].start;
	return fv;
}

void flat_view_ref(struct flat_view *fv)
{
	atomic_fetch_add_explicit(&fv->refcount, 1, memory_order_relaxed);
}

void flat_view_unref(struct flat_view *fv)
{
	if (fv && atomic_fetch_sub_explicit(&fv->refcount, 1, memory_order_acq_rel) == 1) {
		free(fv->ranges);
		free(fv->starts);
		free(fv);
	}
}

/* Branch-free binary search for the last range starting at or below @addr,
 * over the packed starts (8 per cache line): random addresses would make a
 * branchy search mispredict at every level. */
const struct flat_range *flat_view_lookup(const struct flat_view *fv,
					  uint64_t addr)
{
	const uint64_t *base = fv->starts;
	const struct flat_range *r;
	unsigned n = fv->nr;

	if (n == 0 || addr < base[0])
		return NULL;
	while (n > 1) {
		unsigned half = n / 2;

		base = base[half] <= addr ? base + half : base;
		n -= half;
	}
	r = &fv->ranges[base - fv->starts];
	return addr - r->start < r->size ? r : NULL;
}
