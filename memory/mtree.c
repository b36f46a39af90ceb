/* Region trees and flat views as text (QEMU's `info mtree [-f]`). See
 * mtree.h for the format. */
#include "memory/mtree.h"

#include <inttypes.h>
#include <stdlib.h>

#include "memory/flatview.h"
#include "memory/internal.h"
#include "memory/region.h"

#define ADDR_FMT	"%016" PRIx64
/* As rendering does: nesting or alias hops deeper than this are cut, so a
 * tree with a loop in it prints in finite space. */
#define MTREE_MAX_DEPTH	64

/* The regions aliases point at, each once, in the order they were met. */
struct alias_queue {
	const struct memory_region **mr;
	unsigned n, cap;
};

static const char *or_none(const char *name)
{
	return name ? name : "(none)";
}

static const char *region_name(const struct memory_region *mr)
{
	return or_none(mr ? mr->name : NULL);
}

static const char *kind_name(enum memory_region_kind kind)
{
	switch (kind) {
	case MR_CONTAINER: return "container";
	case MR_RAM: return "ram";
	case MR_ROM: return "rom";
	case MR_IO: return "i/o";
	case MR_ALIAS: break;
	}
	return "alias";
}

/* An alias is shown as the kind of what it finally points at, as QEMU
 * does; one that leads nowhere (or round in a loop) stays "alias". */
static const char *region_kind(const struct memory_region *mr)
{
	for (unsigned hops = 0; mr && mr->kind == MR_ALIAS && hops < MTREE_MAX_DEPTH; hops++)
		mr = mr->alias;
	return kind_name(mr ? mr->kind : MR_ALIAS);
}

/* The last byte of @size bytes from @start (UINT64_MAX: all 2^64). An
 * empty region shows as one byte, as in QEMU. */
static uint64_t last_byte(uint64_t start, uint64_t size)
{
	if (size == 0)
		return start;
	return start + (size == UINT64_MAX ? UINT64_MAX : size - 1);
}

static void queue_add(struct alias_queue *q, const struct memory_region *mr)
{
	if (!mr)
		return;
	for (unsigned i = 0; i < q->n; i++)
		if (q->mr[i] == mr)
			return;
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 8;
		q->mr = realloc(q->mr, q->cap * sizeof(q->mr[0]));
		if (!q->mr)
			abort();
	}
	q->mr[q->n++] = mr;
}

/* Printing order: by address, then higher priority, then larger size;
 * otherwise the list's own (deterministic) order. */
static bool prints_before(const struct memory_region *a,
			  const struct memory_region *b)
{
	if (a->addr != b->addr)
		return a->addr < b->addr;
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->size > b->size;
}

/* @mr's subregions in printing order (a stable insertion sort: lists are
 * short); NULL when it has none. */
static const struct memory_region **sorted_children(const struct memory_region *mr,
						    unsigned *n)
{
	const struct memory_region **v;
	const struct memory_region *c;
	unsigned count = 0;

	for (c = mr->subregions; c; c = c->next_sibling)
		count++;
	*n = count;
	if (!count)
		return NULL;
	v = malloc(count * sizeof(v[0]));
	if (!v)
		abort();
	count = 0;
	for (c = mr->subregions; c; c = c->next_sibling) {
		unsigned i = count++;

		for (; i > 0 && prints_before(c, v[i - 1]); i--)
			v[i] = v[i - 1];
		v[i] = c;
	}
	return v;
}

/* One line for @mr, whose first byte is at @start, then its subtree. */
static void print_region(FILE *out, const struct memory_region *mr,
			 unsigned level, uint64_t start, struct alias_queue *q)
{
	const struct memory_region **kids;
	unsigned n;

	fprintf(out, "%*s" ADDR_FMT "-" ADDR_FMT " (prio %d, %s): ", (int)(2 * level), "",
		start, last_byte(start, mr->size), mr->priority, region_kind(mr));
	if (mr->kind == MR_ALIAS) {
		fprintf(out, "alias %s @%s " ADDR_FMT "-" ADDR_FMT, region_name(mr),
			region_name(mr->alias), mr->alias_offset,
			last_byte(mr->alias_offset, mr->size));
		queue_add(q, mr->alias);
	} else {
		fputs(region_name(mr), out);
	}
	fputs(mr->enabled ? "\n" : " [disabled]\n", out);
	if (level == MTREE_MAX_DEPTH)
		return;
	kids = sorted_children(mr, &n);
	for (unsigned i = 0; i < n; i++)
		print_region(out, kids[i], level + 1, start + kids[i]->addr, q);
	free(kids);
}

void mtree_print_tree(const struct mtree_space *spaces, unsigned n, FILE *out)
{
	struct alias_queue q = { 0 };

	memory_topology_lock();
	for (unsigned i = 0; i < n; i++) {
		fprintf(out, "address-space: %s\n", or_none(spaces[i].name));
		if (spaces[i].root)
			print_region(out, spaces[i].root, 1, 0, &q);
		fputc('\n', out);
	}
	/* Printing a target may queue more: the loop sees them too. */
	for (unsigned i = 0; i < q.n; i++) {
		fprintf(out, "memory-region: %s\n", region_name(q.mr[i]));
		print_region(out, q.mr[i], 1, 0, &q);
		fputc('\n', out);
	}
	memory_topology_unlock();
	free(q.mr);
}

static void print_flat_view(FILE *out, unsigned index, const struct mtree_space *s)
{
	struct flat_view *fv = flat_view_render(s->root);

	fprintf(out, "FlatView #%u\n AS \"%s\", root: %s\n Root memory region: %s\n",
		index, or_none(s->name), region_name(s->root),
		region_name(s->root));
	if (!fv->nr)
		fputs("  No rendered FlatView\n", out);
	for (unsigned i = 0; i < fv->nr; i++) {
		const struct flat_range *r = &fv->ranges[i];

		/* A range's size is never 0 and is exact (2^64 is two). */
		fprintf(out, "  " ADDR_FMT "-" ADDR_FMT " (prio %d, %s): %s", r->start,
			r->start + (r->size - 1), r->mr->priority,
			r->readonly ? "rom" : kind_name(r->mr->kind), region_name(r->mr));
		if (r->offset_in_region)
			fprintf(out, " @" ADDR_FMT, r->offset_in_region);
		fputc('\n', out);
	}
	fputc('\n', out);
	flat_view_unref(fv);
}

void mtree_print_flat(const struct mtree_space *spaces, unsigned n, FILE *out)
{
	memory_topology_lock();
	for (unsigned i = 0; i < n; i++)
		print_flat_view(out, i, &spaces[i]);
	memory_topology_unlock();
}
