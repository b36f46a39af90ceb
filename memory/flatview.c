/* Rendering a region tree into a flat view, as QEMU's render_memory_region:
 * walk the tree with the highest priority first, and let each terminal
 * region fill only the gaps that nothing rendered before it covers. */
#include "memory/flatview.h"

#include <stdlib.h>
#include <string.h>

#include "memory/internal.h"
#include "memory/ramblock.h"
#include "memory/region.h"

/* Signed 128-bit positions: a region may end at 2^64, and an alias whose
 * offset exceeds its own address puts its target's offset 0 below zero. */
typedef __int128 s128;

#define TWO_64		((s128)1 << 64)
#define MAX_DEPTH	64	/* nesting + alias hops rendered; deeper is cut */

/* The ranges so far, sorted, live in buf[head, head + nr): with room on
 * both sides an insertion moves whichever part is shorter. Rendering goes
 * newest sibling first, and regions are mostly added in address order, so
 * most insertions are at the front. */
struct render {
	struct flat_range *buf;
	unsigned head, nr, cap;
	/* The regions being rendered, outermost first: meeting one of them
	 * again means an alias loop, which is cut rather than followed. */
	const struct memory_region *path[MAX_DEPTH];
	unsigned depth;
};

static struct flat_range *range_at(const struct render *r, unsigned i)
{
	return &r->buf[r->head + i];
}

static s128 max128(s128 a, s128 b)
{
	return a > b ? a : b;
}

static s128 min128(s128 a, s128 b)
{
	return a < b ? a : b;
}

static s128 range_end(const struct flat_range *r)
{
	return (s128)r->start + r->size;
}

/* How many bytes of @mr can be shown: UINT64_MAX means all 2^64, and RAM
 * never reaches past its block, so no host pointer can leave it. */
static s128 region_extent(const struct memory_region *mr)
{
	s128 size = mr->size == UINT64_MAX ? TWO_64 : (s128)mr->size;

	if (mr->kind != MR_RAM && mr->kind != MR_ROM)
		return size;
	if (!mr->ram || !mr->ram->host || mr->ram_offset > mr->ram->size)
		return 0;
	return min128(size, (s128)(mr->ram->size - mr->ram_offset));
}

/* Makes room on both sides of the ranges, growing the buffer when they
 * fill half of it. */
static void recenter(struct render *r)
{
	unsigned head;

	if (r->nr + 2 > r->cap / 2) {
		r->cap = r->cap ? 2 * r->cap : 32;
		r->buf = realloc(r->buf, r->cap * sizeof(r->buf[0]));
		if (!r->buf)
			abort();
	}
	head = (r->cap - r->nr) / 2;
	memmove(&r->buf[head], &r->buf[r->head], r->nr * sizeof(r->buf[0]));
	r->head = head;
}

/* Opens a slot at @pos and returns it. */
static struct flat_range *view_insert(struct render *r, unsigned pos)
{
	if (r->head == 0 || r->head + r->nr == r->cap)
		recenter(r);
	if (pos < r->nr - pos) {
		r->head--;
		if (pos)
			memmove(range_at(r, 0), range_at(r, 1), pos * sizeof(r->buf[0]));
	} else if (pos < r->nr) {
		memmove(range_at(r, pos + 1), range_at(r, pos),
			(r->nr - pos) * sizeof(r->buf[0]));
	}
	r->nr++;
	return range_at(r, pos);
}

/* Inserts [start, end) of @mr (whose offset 0 is at @base) at @pos; returns
 * how many ranges that took. A whole 2^64 does not fit a range's size. */
static unsigned add_piece(struct render *r, unsigned pos, struct memory_region *mr,
			  s128 base, s128 start, s128 end)
{
	struct flat_range *fr;

	if (end - start > (s128)UINT64_MAX) {
		s128 mid = start + (TWO_64 >> 1);

		return add_piece(r, pos, mr, base, start, mid) +
		       add_piece(r, pos + 1, mr, base, mid, end);
	}
	fr = view_insert(r, pos);
	fr->start = (uint64_t)start;
	fr->size = (uint64_t)(end - start);
	fr->mr = mr;
	fr->offset_in_region = (uint64_t)(start - base);
	fr->readonly = mr->kind == MR_ROM;
	fr->host = NULL;
	if (mr->ram)	/* RAM, ROM, or an I/O region's DMA RAM */
		fr->host = mr->ram->host + mr->ram_offset + fr->offset_in_region;
	return 1;
}

/* Index of the first range ending after @pos (ranges are disjoint, so their
 * ends are sorted too). */
static unsigned first_ending_after(const struct render *r, s128 pos)
{
	unsigned lo = 0, hi = r->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (range_end(range_at(r, mid)) <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Fills the parts of [start, end) that nothing covers yet with @mr. */
static void fill_gaps(struct render *r, struct memory_region *mr, s128 base,
		      s128 start, s128 end)
{
	unsigned i = first_ending_after(r, start);

	while (start < end) {
		s128 next = i < r->nr ? (s128)range_at(r, i)->start : end;

		if (next > start) {
			s128 piece_end = min128(next, end);

			i += add_piece(r, i, mr, base, start, piece_end);
			start = piece_end;
		} else {
			start = range_end(range_at(r, i++));
		}
	}
}

static bool on_path(const struct render *r, const struct memory_region *mr)
{
	for (unsigned i = 0; i < r->depth; i++)
		if (r->path[i] == mr)
			return true;
	return false;
}

/* @base: where @mr's offset 0 lands; [clip_start, clip_end): what of it is
 * visible through its ancestors (always inside [0, 2^64)). */
static void render_region(struct render *r, struct memory_region *mr, s128 base,
			  s128 clip_start, s128 clip_end)
{
	s128 start, end;

	if (!mr || !mr->enabled || r->depth == MAX_DEPTH || on_path(r, mr))
		return;
	start = max128(base, clip_start);
	end = min128(base + region_extent(mr), clip_end);
	if (start >= end)
		return;
	r->path[r->depth++] = mr;
	switch (mr->kind) {
	case MR_ALIAS:
		render_region(r, mr->alias, base - (s128)mr->alias_offset, start, end);
		break;
	case MR_CONTAINER:
		for (struct memory_region *c = mr->subregions; c; c = c->next_sibling)
			render_region(r, c, base + (s128)c->addr, start, end);
		break;
	default:
		fill_gaps(r, mr, base, start, end);
		break;
	}
	r->depth--;
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
		    range_end(prev) == cur->start &&
		    prev->offset_in_region + prev->size == cur->offset_in_region &&
		    cur->size <= UINT64_MAX - prev->size) {
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
	struct render r = { 0 };

	if (!fv)
		abort();
	atomic_init(&fv->refcount, 1);
	render_region(&r, root, 0, 0, TWO_64);
	if (r.nr)
		memmove(r.buf, range_at(&r, 0), r.nr * sizeof(r.buf[0]));
	fv->ranges = r.buf;
	fv->nr = r.nr;
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

/* acq_rel: every user's last reads of the view happen before the free. */
void flat_view_unref(struct flat_view *fv)
{
	if (fv && atomic_fetch_sub_explicit(&fv->refcount, 1, memory_order_acq_rel) == 1) {
		free(fv->ranges);
		free(fv->starts);
		free(fv);
	}
}

/* Index of the last range starting at or below @addr, or -1: a branch-free
 * binary search over the packed starts (8 per cache line), since random
 * addresses would make a branchy search mispredict at every level. */
static long last_starting_at_or_below(const struct flat_view *fv, uint64_t addr)
{
	const uint64_t *base = fv->starts;
	unsigned n = fv->nr;

	if (n == 0 || addr < base[0])
		return -1;
	while (n > 1) {
		unsigned half = n / 2;

		base = base[half] <= addr ? base + half : base;
		n -= half;
	}
	return base - fv->starts;
}

const struct flat_range *flat_view_lookup(const struct flat_view *fv,
					  uint64_t addr)
{
	long i = last_starting_at_or_below(fv, addr);
	const struct flat_range *r;

	if (i < 0)
		return NULL;
	r = &fv->ranges[i];
	return addr - r->start < r->size ? r : NULL;
}

uint64_t flat_view_gap_after(const struct flat_view *fv, uint64_t addr)
{
	unsigned next = (unsigned)(last_starting_at_or_below(fv, addr) + 1);

	return next < fv->nr ? fv->ranges[next].start - addr : 0;
}
