/* `info mtree` and `info mtree -f` as text: each test compares the whole
 * output for a small tree with what QEMU's format gives for it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory/mtree.h"
#include "memory/ramblock.h"
#include "memory/region.h"

static const struct memory_region_ops nop_ops;

static struct memory_region root, pc_ram, ram_low, ram_high, dev, bios, pci,
			    bar, hidden, io_root, uart;
static struct ram_block ram_rb, rom_rb;

/* A small pc: RAM through two aliases (one whose offset is not its
 * address), an I/O region over RAM at a higher priority, a ROM, and a
 * container below everything holding a BAR and a disabled region. */
static void setup(void)
{
	cr_assert_eq(ram_block_init(&ram_rb, "ram", 0x10000), 0);
	cr_assert_eq(ram_block_init(&rom_rb, "rom", 0x1000), 0);
	memory_region_init_container(&root, "root", UINT64_MAX);
	memory_region_init_ram(&pc_ram, "pc.ram", &ram_rb, 0, 0x10000);
	memory_region_init_alias(&ram_low, "ram-low", &pc_ram, 0, 0x8000);
	memory_region_init_alias(&ram_high, "ram-high", &pc_ram, 0x8000, 0x4000);
	memory_region_init_io(&dev, "dev", &nop_ops, NULL, 0x100);
	memory_region_init_rom(&bios, "bios", &rom_rb, 0, 0x1000);
	memory_region_init_container(&pci, "pci", UINT64_MAX);
	memory_region_init_io(&bar, "bar", &nop_ops, NULL, 0x1000);
	memory_region_init_io(&hidden, "hidden", &nop_ops, NULL, 0x10);
	memory_region_init_container(&io_root, "io", 0x10000);
	memory_region_init_io(&uart, "serial", &nop_ops, NULL, 8);

	memory_transaction_begin();
	memory_region_add_subregion(&root, 0x10000, &ram_high, 0);
	memory_region_add_subregion(&root, 0xf000, &bios, 0);
	memory_region_add_subregion(&root, 0x4000, &dev, 1);
	memory_region_add_subregion(&root, 0, &pci, -1);
	memory_region_add_subregion(&root, 0, &ram_low, 0);
	memory_region_add_subregion(&pci, 0x9000, &bar, 0);
	memory_region_add_subregion(&pci, 0xa000, &hidden, 0);
	memory_region_set_enabled(&hidden, false);
	memory_region_add_subregion(&io_root, 0x3f8, &uart, 0);
	memory_transaction_commit();
}

static void teardown(void)
{
	ram_block_destroy(&ram_rb);
	ram_block_destroy(&rom_rb);
}

TestSuite(mtree, .init = setup, .fini = teardown);

static char *capture_tree(const struct mtree_space *s, unsigned n, bool flat)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	if (flat)
		mtree_print_flat(s, n, f);
	else
		mtree_print_tree(s, n, f);
	fclose(f);
	return buf;
}

#define assert_text(got, expect) do {					\
	char *got_ = (got);						\
	cr_assert_str_eq(got_, expect, "got:\n%s", got_);		\
	free(got_);							\
} while (0)

static const struct mtree_space system_space = { "system", &root };

Test(mtree, tree_with_aliases_priorities_and_a_disabled_region)
{
	assert_text(capture_tree(&system_space, 1, false),
		"address-space: system\n"
		"  0000000000000000-ffffffffffffffff (prio 0, container): root\n"
		"    0000000000000000-0000000000007fff (prio 0, ram): alias ram-low @pc.ram 0000000000000000-0000000000007fff\n"
		"    0000000000000000-ffffffffffffffff (prio -1, container): pci\n"
		"      0000000000009000-0000000000009fff (prio 0, i/o): bar\n"
		"      000000000000a000-000000000000a00f (prio 0, i/o): hidden [disabled]\n"
		"    0000000000004000-00000000000040ff (prio 1, i/o): dev\n"
		"    000000000000f000-000000000000ffff (prio 0, rom): bios\n"
		"    0000000000010000-0000000000013fff (prio 0, ram): alias ram-high @pc.ram 0000000000008000-000000000000bfff\n"
		"\n"
		"memory-region: pc.ram\n"
		"  0000000000000000-000000000000ffff (prio 0, ram): pc.ram\n"
		"\n");
}

Test(mtree, flat_view_shows_the_winner_of_each_range_and_its_offset)
{
	assert_text(capture_tree(&system_space, 1, true),
		"FlatView #0\n"
		" AS \"system\", root: root\n"
		" Root memory region: root\n"
		"  0000000000000000-0000000000003fff (prio 0, ram): pc.ram\n"
		"  0000000000004000-00000000000040ff (prio 1, i/o): dev\n"
		"  0000000000004100-0000000000007fff (prio 0, ram): pc.ram @0000000000004100\n"
		"  0000000000009000-0000000000009fff (prio 0, i/o): bar\n"
		"  000000000000f000-000000000000ffff (prio 0, rom): bios\n"
		"  0000000000010000-0000000000013fff (prio 0, ram): pc.ram @0000000000008000\n"
		"\n");
}

Test(mtree, enabling_a_region_shows_in_both_views)
{
	char *text;

	memory_region_set_enabled(&hidden, true);
	text = capture_tree(&system_space, 1, false);
	cr_assert_not_null(strstr(text, "(prio 0, i/o): hidden\n"), "%s", text);
	cr_assert_null(strstr(text, "[disabled]"), "%s", text);
	free(text);
	text = capture_tree(&system_space, 1, true);
	cr_assert_not_null(strstr(text, "  0000000000009000-0000000000009fff (prio 0, i/o): bar\n"
				   "  000000000000a000-000000000000a00f (prio 0, i/o): hidden\n"
				   "  000000000000f000"), "%s", text);
	free(text);
}

Test(mtree, two_spaces_are_numbered_and_an_empty_view_says_so)
{
	struct memory_region empty;
	const struct mtree_space spaces[] = {
		{ "io", &io_root }, { "nothing", &empty },
	};

	memory_region_init_container(&empty, "empty", 0x1000);
	assert_text(capture_tree(spaces, 2, true),
		"FlatView #0\n"
		" AS \"io\", root: io\n"
		" Root memory region: io\n"
		"  00000000000003f8-00000000000003ff (prio 0, i/o): serial\n"
		"\n"
		"FlatView #1\n"
		" AS \"nothing\", root: empty\n"
		" Root memory region: empty\n"
		"  No rendered FlatView\n"
		"\n");
	assert_text(capture_tree(spaces, 2, false),
		"address-space: io\n"
		"  0000000000000000-000000000000ffff (prio 0, container): io\n"
		"    00000000000003f8-00000000000003ff (prio 0, i/o): serial\n"
		"\n"
		"address-space: nothing\n"
		"  0000000000000000-0000000000000fff (prio 0, container): empty\n"
		"\n");
}

/* Same address: the higher priority first, then the larger region (even
 * when the smaller one was added later and so comes first in the list),
 * never a larger region of lower priority first. */
Test(mtree, siblings_at_one_address_by_priority_then_size)
{
	struct memory_region c, a, b, big, small, huge;
	const struct mtree_space s = { "s", &c };

	memory_region_init_container(&c, "c", 0x100);
	memory_region_init_io(&a, "a", &nop_ops, NULL, 0x10);
	memory_region_init_io(&b, "b", &nop_ops, NULL, 0x10);
	memory_region_init_io(&big, "big", &nop_ops, NULL, 0x20);
	memory_region_init_io(&small, "small", &nop_ops, NULL, 0x8);
	memory_region_init_io(&huge, "huge", &nop_ops, NULL, 0x40);
	memory_region_add_subregion(&c, 0x10, &big, 3);
	memory_region_add_subregion(&c, 0x10, &small, 3);
	memory_region_add_subregion(&c, 0x10, &a, 2);
	memory_region_add_subregion(&c, 0x10, &huge, 1);
	memory_region_add_subregion(&c, 0, &b, 0);
	assert_text(capture_tree(&s, 1, false),
		"address-space: s\n"
		"  0000000000000000-00000000000000ff (prio 0, container): c\n"
		"    0000000000000000-000000000000000f (prio 0, i/o): b\n"
		"    0000000000000010-000000000000002f (prio 3, i/o): big\n"
		"    0000000000000010-0000000000000017 (prio 3, i/o): small\n"
		"    0000000000000010-000000000000001f (prio 2, i/o): a\n"
		"    0000000000000010-000000000000004f (prio 1, i/o): huge\n"
		"\n");
	assert_text(capture_tree(&s, 1, true),
		"FlatView #0\n"
		" AS \"s\", root: c\n"
		" Root memory region: c\n"
		"  0000000000000000-000000000000000f (prio 0, i/o): b\n"
		"  0000000000000010-0000000000000017 (prio 3, i/o): small\n"
		"  0000000000000018-000000000000002f (prio 3, i/o): big @0000000000000008\n"
		"  0000000000000030-000000000000004f (prio 1, i/o): huge @0000000000000020\n"
		"\n");
}

/* A subregion loop (a VMM bug, never the guest's doing) prints in finite
 * space: nesting is cut at the depth rendering cuts it. */
Test(mtree, subregion_loop_is_cut)
{
	struct memory_region x, y;
	const struct mtree_space s = { "s", &x };
	char *text;
	unsigned lines = 0;

	memory_region_init_container(&x, "x", 0x100);
	memory_region_init_container(&y, "y", 0x100);
	memory_region_add_subregion(&x, 0, &y, 0);
	memory_region_add_subregion(&y, 0, &x, 0);
	text = capture_tree(&s, 1, false);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 1 + 64 + 1, "header, 64 levels, blank line");
	free(text);
}

/* An alias of an alias shows the final target's kind; both targets are
 * listed once each, however many aliases point at them. */
Test(mtree, alias_chains_list_each_target_once)
{
	struct memory_region c, inner, outer, again;
	const struct mtree_space s = { "s", &c };

	memory_region_init_container(&c, "c", 0x100000);
	memory_region_init_alias(&inner, "inner", &bios, 0x800, 0x800);
	memory_region_init_alias(&outer, "outer", &inner, 0x100, 0x100);
	memory_region_init_alias(&again, "again", &bios, 0, 0x10);
	memory_region_add_subregion(&c, 0x1000, &outer, 0);
	memory_region_add_subregion(&c, 0x2000, &again, 0);
	assert_text(capture_tree(&s, 1, false),
		"address-space: s\n"
		"  0000000000000000-00000000000fffff (prio 0, container): c\n"
		"    0000000000001000-00000000000010ff (prio 0, rom): alias outer @inner 0000000000000100-00000000000001ff\n"
		"    0000000000002000-000000000000200f (prio 0, rom): alias again @bios 0000000000000000-000000000000000f\n"
		"\n"
		"memory-region: inner\n"
		"  0000000000000000-00000000000007ff (prio 0, rom): alias inner @bios 0000000000000800-0000000000000fff\n"
		"\n"
		"memory-region: bios\n"
		"  0000000000000000-0000000000000fff (prio 0, rom): bios\n"
		"\n");
	assert_text(capture_tree(&s, 1, true),
		"FlatView #0\n"
		" AS \"s\", root: c\n"
		" Root memory region: c\n"
		"  0000000000001000-00000000000010ff (prio 0, rom): bios @0000000000000900\n"
		"  0000000000002000-000000000000200f (prio 0, rom): bios\n"
		"\n");
}

/* A loop of aliases prints in finite space: each target once. */
Test(mtree, alias_loop_terminates)
{
	struct memory_region c, x, y;
	const struct mtree_space s = { "s", &c };

	memory_region_init_container(&c, "c", 0x100);
	memory_region_init_alias(&x, "x", &y, 0, 0x10);
	memory_region_init_alias(&y, "y", &x, 0, 0x10);
	memory_region_add_subregion(&c, 0, &x, 0);
	assert_text(capture_tree(&s, 1, false),
		"address-space: s\n"
		"  0000000000000000-00000000000000ff (prio 0, container): c\n"
		"    0000000000000000-000000000000000f (prio 0, alias): alias x @y 0000000000000000-000000000000000f\n"
		"\n"
		"memory-region: y\n"
		"  0000000000000000-000000000000000f (prio 0, alias): alias y @x 0000000000000000-000000000000000f\n"
		"\n"
		"memory-region: x\n"
		"  0000000000000000-000000000000000f (prio 0, alias): alias x @y 0000000000000000-000000000000000f\n"
		"\n");
}
