/* Rendering a region tree into a flat view: every test compares the whole
 * view, range by range, with what QEMU's render_memory_region would give. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "memory/address_space.h"
#include "memory/flatview.h"
#include "memory/ramblock.h"
#include "memory/region.h"

static uint64_t nop_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque; (void)off; (void)size;
	return 0;
}

static const struct memory_region_ops nop_ops = { .read = nop_read };

static struct memory_region root;
static struct ram_block rb;

static void setup(void)
{
	memory_region_init_container(&root, "root", UINT64_MAX);
	cr_assert_eq(ram_block_init(&rb, "ram", 0x10000), 0);
}

static void teardown(void)
{
	ram_block_destroy(&rb);
}

TestSuite(render, .init = setup, .fini = teardown);

/* "start+size name@offset" per range, ';' separated; "ro" for ROM. */
static const char *dump(struct memory_region *r)
{
	static char out[4096];
	struct flat_view *fv = flat_view_render(r);
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < fv->nr; i++) {
		const struct flat_range *fr = &fv->ranges[i];

		n += snprintf(out + n, sizeof(out) - n, "%#llx+%#llx %s@%#llx%s;",
			      (unsigned long long)fr->start, (unsigned long long)fr->size,
			      fr->mr->name, (unsigned long long)fr->offset_in_region,
			      fr->readonly ? " ro" : "");
		if (fr->host)
			cr_assert_eq(fr->host, fr->mr->ram->host + fr->mr->ram_offset +
				     fr->offset_in_region, "host of %s", fr->mr->name);
		cr_assert_eq(fv->starts[i], fr->start);
		if (i)
			cr_assert_geq(fr->start, fv->ranges[i - 1].start + fv->ranges[i - 1].size,
				      "sorted and disjoint");
	}
	flat_view_unref(fv);
	return out;
}

#define assert_view(expect) do {					\
	const char *got_ = dump(&root);					\
	cr_assert_str_eq(got_, expect, "view: %s", got_);		\
} while (0)

static void io(struct memory_region *mr, const char *name, uint64_t size)
{
	memory_region_init_io(mr, name, &nop_ops, NULL, size);
}

Test(render, empty_tree_is_an_empty_view)
{
	struct flat_view *fv = flat_view_render(&root);

	assert_view("");
	cr_assert_eq(fv->nr, 0);
	cr_assert_null(flat_view_lookup(fv, 0));
	cr_assert_null(flat_view_lookup(fv, UINT64_MAX));
	flat_view_unref(fv);
}

Test(render, higher_priority_obscures_lower)
{
	struct memory_region a, b;

	io(&a, "a", 0x1000);
	io(&b, "b", 0x1000);
	memory_region_add_subregion(&root, 0x1800, &b, 0);
	memory_region_add_subregion(&root, 0x1000, &a, 1);
	assert_view("0x1000+0x1000 a@0;0x2000+0x800 b@0x800;");
	memory_region_add_subregion(&root, 0x1000, &a, -1);	/* re-added lower */
	assert_view("0x1000+0x800 a@0;0x1800+0x1000 b@0;");
}

Test(render, equal_priority_the_later_added_wins)
{
	struct memory_region a, b;

	io(&a, "a", 0x1000);
	io(&b, "b", 0x1000);
	memory_region_add_subregion(&root, 0x1000, &a, 0);
	memory_region_add_subregion(&root, 0x1800, &b, 0);
	assert_view("0x1000+0x800 a@0;0x1800+0x1000 b@0;");
	memory_region_add_subregion(&root, 0x1000, &a, 0);	/* added again: later */
	assert_view("0x1000+0x1000 a@0;0x2000+0x800 b@0x800;");
}

/* Priority only orders siblings: a container's children compete inside it,
 * and the container competes with its own siblings. */
Test(render, priority_is_among_siblings_only)
{
	struct memory_region box, inner, e;

	memory_region_init_container(&box, "box", 0x2000);
	io(&inner, "inner", 0x2000);
	io(&e, "e", 0x1000);
	memory_region_add_subregion(&box, 0, &inner, 100);
	memory_region_add_subregion(&root, 0x10000, &box, 0);
	memory_region_add_subregion(&root, 0x10800, &e, 1);
	assert_view("0x10000+0x800 inner@0;0x10800+0x1000 e@0;0x11800+0x800 inner@0x1800;");
}

/* A container covers only what its subregions cover: a lower-priority
 * sibling shows through its holes. */
Test(render, lower_priority_shows_through_a_container_s_holes)
{
	struct memory_region low, box, dev;

	memory_region_init_ram(&low, "low", &rb, 0, 0x10000);
	memory_region_init_container(&box, "box", 0x10000);
	io(&dev, "dev", 0x1000);
	memory_region_add_subregion(&box, 0x1000, &dev, 0);
	memory_region_add_subregion(&root, 0, &low, 0);
	memory_region_add_subregion(&root, 0, &box, 1);
	assert_view("0+0x1000 low@0;0x1000+0x1000 dev@0;0x2000+0xe000 low@0x2000;");
}

Test(render, containers_nested_three_deep_add_offsets_and_clip)
{
	struct memory_region c1, c2, c3, dev, big;

	memory_region_init_container(&c1, "c1", 0x10000);
	memory_region_init_container(&c2, "c2", 0x1000);
	memory_region_init_container(&c3, "c3", 0x800);
	io(&dev, "dev", 0x1000);
	io(&big, "big", 0x100000);
	memory_transaction_begin();
	memory_region_add_subregion(&c3, 0x100, &dev, 0);
	memory_region_add_subregion(&c2, 0x200, &c3, 0);
	memory_region_add_subregion(&c1, 0x3000, &c2, 0);
	memory_region_add_subregion(&c1, 0xf000, &big, 0);
	memory_region_add_subregion(&root, 0x40000, &c1, 0);
	memory_transaction_commit();
	/* dev at 0x40000 + 0x3000 + 0x200 + 0x100, clipped by c3 to 0x700
	 * bytes; big clipped by c1 to its last 0x1000 bytes. */
	assert_view("0x43300+0x700 dev@0;0x4f000+0x1000 big@0;");
}

Test(render, a_subregion_past_its_parent_s_end_is_invisible)
{
	struct memory_region box, dev;

	memory_region_init_container(&box, "box", 0x1000);
	io(&dev, "dev", 0x100);
	memory_region_add_subregion(&box, 0x1000, &dev, 0);
	memory_region_add_subregion(&root, 0x5000, &box, 0);
	assert_view("");
}

Test(render, disabled_regions_hide_their_subtree)
{
	struct memory_region box, dev, low, al;

	memory_region_init_container(&box, "box", 0x1000);
	io(&dev, "dev", 0x1000);
	io(&low, "low", 0x1000);
	memory_region_add_subregion(&box, 0, &dev, 0);
	memory_region_add_subregion(&root, 0x1000, &box, 1);
	memory_region_add_subregion(&root, 0x1000, &low, 0);
	memory_region_init_alias(&al, "al", &box, 0, 0x1000);
	memory_region_add_subregion(&root, 0x8000, &al, 0);
	assert_view("0x1000+0x1000 dev@0;0x8000+0x1000 dev@0;");
	memory_region_set_enabled(&box, false);
	assert_view("0x1000+0x1000 low@0;");
	memory_region_set_enabled(&box, true);
	memory_region_set_enabled(&dev, false);
	assert_view("0x1000+0x1000 low@0;");
	memory_region_set_enabled(&dev, true);
	assert_view("0x1000+0x1000 dev@0;0x8000+0x1000 dev@0;");
}

Test(render, ram_and_rom_carry_host_and_readonly)
{
	struct memory_region ram, rom;

	memory_region_init_ram(&ram, "ram", &rb, 0x2000, 0x1000);
	memory_region_init_rom(&rom, "rom", &rb, 0x8000, 0x1000);
	memory_region_add_subregion(&root, 0x100000, &ram, 0);
	memory_region_add_subregion(&root, 0xfffff000, &rom, 0);
	assert_view("0x100000+0x1000 ram@0;0xfffff000+0x1000 rom@0 ro;");
	/* dump() checked host == block + ram_offset + offset_in_region. */
	struct flat_view *fv = flat_view_render(&root);

	cr_assert_eq(fv->ranges[0].host, rb.host + 0x2000);
	cr_assert_eq(fv->ranges[1].host, rb.host + 0x8000);
	cr_assert_not(fv->ranges[0].readonly);
	flat_view_unref(fv);
}

Test(render, alias_resolves_to_its_target_with_offset)
{
	struct memory_region ram, al;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x10000);
	memory_region_init_alias(&al, "window", &ram, 0x4000, 0x1000);
	memory_region_add_subregion(&root, 0x100000, &al, 0);
	assert_view("0x100000+0x1000 ram@0x4000;");
}

/* The target's offset 0 lands below address 0: must still render. */
Test(render, alias_offset_larger_than_its_address)
{
	struct memory_region ram, al;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x10000);
	memory_region_init_alias(&al, "window", &ram, 0x4000, 0x1000);
	memory_region_add_subregion(&root, 0x1000, &al, 0);
	assert_view("0x1000+0x1000 ram@0x4000;");
	memory_region_add_subregion(&root, 0, &al, 0);
	assert_view("0+0x1000 ram@0x4000;");
}

Test(render, alias_of_an_alias_composes_offsets)
{
	struct memory_region ram, a1, a2;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x10000);
	memory_region_init_alias(&a1, "a1", &ram, 0x2000, 0x4000);
	memory_region_init_alias(&a2, "a2", &a1, 0x1000, 0x2000);
	memory_region_add_subregion(&root, 0x50000, &a2, 0);
	assert_view("0x50000+0x2000 ram@0x3000;");
	/* a2's window runs past a1's end: clipped to what a1 shows. */
	memory_region_del_subregion(&root, &a2);
	memory_region_init_alias(&a2, "a2", &a1, 0x3000, 0x4000);
	memory_region_add_subregion(&root, 0x50000, &a2, 0);
	assert_view("0x50000+0x1000 ram@0x5000;");
}

Test(render, alias_of_a_container_with_subregions)
{
	struct memory_region box, d1, d2, al;

	memory_region_init_container(&box, "box", 0x4000);
	io(&d1, "d1", 0x1000);
	io(&d2, "d2", 0x1000);
	memory_region_add_subregion(&box, 0, &d1, 0);
	memory_region_add_subregion(&box, 0x2000, &d2, 0);
	memory_region_init_alias(&al, "al", &box, 0x800, 0x2000);
	memory_region_add_subregion(&root, 0x100000, &al, 0);
	/* The window [0x800, 0x2800) of box. The box itself is not mapped. */
	assert_view("0x100000+0x800 d1@0x800;0x101800+0x800 d2@0;");
}

Test(render, alias_window_clipped_by_the_alias_s_parent)
{
	struct memory_region ram, box, al;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x10000);
	memory_region_init_container(&box, "box", 0x1800);
	memory_region_init_alias(&al, "al", &ram, 0x100, 0x4000);
	memory_region_add_subregion(&box, 0x800, &al, 0);
	memory_region_add_subregion(&root, 0x20000, &box, 0);
	assert_view("0x20800+0x1000 ram@0x100;");
}

/* Neighbours merge only when they are one piece of the same region. */
Test(render, contiguous_pieces_merge_others_do_not)
{
	struct memory_region ram, a1, a2, a3, hole;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x10000);
	memory_region_init_alias(&a1, "a1", &ram, 0, 0x1000);
	memory_region_init_alias(&a2, "a2", &ram, 0x1000, 0x1000);
	memory_region_init_alias(&a3, "a3", &ram, 0x3000, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &a1, 0);
	memory_region_add_subregion(&root, 0x11000, &a2, 0);
	memory_region_add_subregion(&root, 0x12000, &a3, 0);
	assert_view("0x10000+0x2000 ram@0;0x12000+0x1000 ram@0x3000;");

	/* A region split by a disabled one is whole again. */
	memory_region_del_subregion(&root, &a1);
	memory_region_del_subregion(&root, &a2);
	memory_region_del_subregion(&root, &a3);
	io(&hole, "hole", 0x1000);
	memory_region_add_subregion(&root, 0, &ram, 0);
	memory_region_add_subregion(&root, 0x4000, &hole, 1);
	assert_view("0+0x4000 ram@0;0x4000+0x1000 hole@0;0x5000+0xb000 ram@0x5000;");
	memory_region_set_enabled(&hole, false);
	assert_view("0+0x10000 ram@0;");
}

Test(render, ram_never_shows_past_its_block)
{
	struct memory_region ram, far;

	memory_region_init_ram(&ram, "ram", &rb, 0xf000, 0x4000);
	memory_region_init_ram(&far, "far", &rb, 0x20000, 0x1000);
	memory_region_add_subregion(&root, 0x100000, &ram, 0);
	memory_region_add_subregion(&root, 0x200000, &far, 0);
	assert_view("0x100000+0x1000 ram@0;");
}

Test(render, regions_reach_the_top_of_the_address_space)
{
	struct memory_region top, all;

	memory_region_init_ram(&top, "top", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, UINT64_MAX - 0xfff, &top, 1);
	assert_view("0xfffffffffffff000+0x1000 top@0;");
	/* All 2^64 bytes: two ranges, since a size is 64 bits. */
	io(&all, "all", UINT64_MAX);
	memory_region_add_subregion(&root, 0, &all, 0);
	assert_view("0+0xfffffffffffff000 all@0;0xfffffffffffff000+0x1000 top@0;");
	memory_region_del_subregion(&root, &top);
	assert_view("0+0x8000000000000000 all@0;"
		    "0x8000000000000000+0x8000000000000000 all@0x8000000000000000;");
	struct flat_view *fv = flat_view_render(&root);

	cr_assert_eq(flat_view_lookup(fv, UINT64_MAX), &fv->ranges[1]);
	cr_assert_eq(flat_view_lookup(fv, 0), &fv->ranges[0]);
	flat_view_unref(fv);
}

Test(render, a_region_past_2_64_is_clipped)
{
	struct memory_region dev;

	io(&dev, "dev", 0x2000);
	memory_region_add_subregion(&root, UINT64_MAX - 0xfff, &dev, 0);
	assert_view("0xfffffffffffff000+0x1000 dev@0;");
}

Test(render, zero_sized_regions_show_nothing)
{
	struct memory_region dev;

	io(&dev, "dev", 0);
	memory_region_add_subregion(&root, 0x1000, &dev, 0);
	assert_view("");
}

/* An alias that (through containers) shows a region it is inside of: the
 * loop is cut where it closes, and what is outside it still renders. */
Test(render, alias_loops_are_cut)
{
	struct memory_region box, self, dev, me, al;

	memory_region_init_container(&box, "box", 0x4000);
	io(&dev, "dev", 0x1000);
	memory_region_init_alias(&self, "self", &box, 0, 0x4000);
	memory_region_add_subregion(&box, 0, &dev, 1);
	memory_region_add_subregion(&box, 0x1000, &self, 0);
	memory_region_add_subregion(&root, 0x10000, &box, 0);
	assert_view("0x10000+0x1000 dev@0;");
	/* The same box seen through an alias from outside: the loop is cut
	 * inside it again, dev is shown once more. */
	memory_region_init_alias(&al, "al", &box, 0, 0x4000);
	memory_region_add_subregion(&root, 0x20000, &al, 0);
	assert_view("0x10000+0x1000 dev@0;0x20000+0x1000 dev@0;");
	memory_region_init_alias(&me, "me", &me, 0, 0x1000);
	memory_region_add_subregion(&root, 0x30000, &me, 0);
	assert_view("0x10000+0x1000 dev@0;0x20000+0x1000 dev@0;");
}

Test(render, lookup_finds_every_range_and_nothing_else)
{
	struct memory_region d[64];
	char names[64][16];
	struct flat_view *fv;

	memory_transaction_begin();
	for (int i = 0; i < 64; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d", i);
		io(&d[i], names[i], 0x100);
		memory_region_add_subregion(&root, 0x1000 * (uint64_t)(i + 1), &d[i], 0);
	}
	memory_transaction_commit();
	fv = flat_view_render(&root);
	cr_assert_eq(fv->nr, 64);
	cr_assert_null(flat_view_lookup(fv, 0));
	cr_assert_null(flat_view_lookup(fv, UINT64_MAX));
	for (int i = 0; i < 64; i++) {
		uint64_t base = 0x1000 * (uint64_t)(i + 1);

		cr_assert_eq(flat_view_lookup(fv, base)->mr, &d[i]);
		cr_assert_eq(flat_view_lookup(fv, base + 0xff)->mr, &d[i]);
		cr_assert_null(flat_view_lookup(fv, base + 0x100));
		cr_assert_null(flat_view_lookup(fv, base - 1));
	}
	flat_view_unref(fv);
}

/* Changes are seen on the outermost commit only. */
Test(render, transactions_nest)
{
	struct address_space *as = address_space_new("as", &root);
	struct memory_region dev;
	const struct memory_region *hit;
	uint8_t b;

	io(&dev, "dev", 0x1000);
	memory_transaction_begin();
	memory_transaction_begin();
	memory_region_add_subregion(&root, 0x1000, &dev, 0);
	memory_transaction_commit();
	address_space_rw(as, 0x1000, &b, 1, false, &hit);
	cr_assert_null(hit, "inner commit publishes nothing");
	memory_transaction_commit();
	address_space_rw(as, 0x1000, &b, 1, false, &hit);
	cr_assert_eq(hit, &dev);
	address_space_destroy(as);
}
