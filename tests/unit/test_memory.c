/* The memory model: rendering, dispatch, size rules, listeners, RAM maps. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "memory/address_space.h"
#include "memory/flatview.h"
#include "memory/listener.h"
#include "memory/ramblock.h"
#include "memory/region.h"

/* A device that records its last access and answers with a pattern. */
struct dev {
	const char *name;
	uint64_t last_off, last_val;
	unsigned last_size, nwrites, nreads;
};

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
	struct dev *d = opaque;

	d->nreads++;
	d->last_off = off;
	d->last_size = size;
	return 0x8877665544332211ull >> (8 * (off & 7)) | ((uint64_t)size << 56);
}

static void dev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct dev *d = opaque;

	d->nwrites++;
	d->last_off = off;
	d->last_val = val;
	d->last_size = size;
}

static const struct memory_region_ops ops_any = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 8 }, .impl = { .min = 1, .max = 8 },
};

static struct memory_region root;
static struct address_space *as;

static void setup(void)
{
	memory_region_init_container(&root, "root", UINT64_MAX);
	as = address_space_new("test", &root);
}

static void teardown(void)
{
	address_space_destroy(as);
}

TestSuite(memory, .init = setup, .fini = teardown);

static const struct memory_region *who(uint64_t addr)
{
	const struct memory_region *hit;
	uint8_t b;

	address_space_rw(as, addr, &b, 1, false, &hit);
	return hit;
}

Test(memory, priority_decides_overlaps_then_insertion_order)
{
	struct memory_region a, b, c;
	struct dev da = { 0 }, db = { 0 }, dc = { 0 };

	memory_region_init_io(&a, "a", &ops_any, &da, 0x1000);
	memory_region_init_io(&b, "b", &ops_any, &db, 0x1000);
	memory_region_init_io(&c, "c", &ops_any, &dc, 0x1000);
	memory_region_add_subregion(&root, 0x1000, &a, 1);
	memory_region_add_subregion(&root, 0x1800, &b, 0);
	cr_assert_eq(who(0x1900), &a, "higher priority obscures lower");
	cr_assert_eq(who(0x2100), &b, "the rest of the lower one shows");
	memory_region_add_subregion(&root, 0x1800, &c, 0);
	cr_assert_eq(who(0x2100), &c, "equal priority: the later one wins");
	cr_assert_eq(who(0x1900), &a);
	cr_assert_null(who(0x2800));
}

Test(memory, alias_of_ram_and_of_a_container)
{
	struct ram_block rb;
	struct memory_region ram, alias, box, dev, box_alias;
	struct dev d = { 0 };
	uint8_t *h;
	uint32_t v;

	cr_assert_eq(ram_block_init(&rb, "ram", 0x10000), 0);
	h = rb.host;
	memset(h, 0, 0x10000);
	h[0x4000] = 0xab;
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x10000);
	memory_region_init_alias(&alias, "window", &ram, 0x4000, 0x1000);
	memory_region_add_subregion(&root, 0x100000, &alias, 0);
	cr_assert_eq(who(0x100000), &ram, "aliases resolve to the target");
	cr_assert_null(who(0x101000), "the window is only 4 KiB");
	cr_assert_eq(*(uint8_t *)address_space_map_ram(as, 0x100000, 1, false), 0xab);

	memory_region_init_container(&box, "box", 0x2000);
	memory_region_init_io(&dev, "dev", &ops_any, &d, 0x100);
	memory_region_add_subregion(&box, 0x1000, &dev, 0);
	memory_region_init_alias(&box_alias, "box-alias", &box, 0x800, 0x1000);
	memory_region_add_subregion(&root, 0x200000, &box_alias, 0);
	v = 0x12345678;
	cr_assert_eq(address_space_write(as, 0x200810, &v, 4), MEMTX_OK);
	cr_assert_eq(d.last_off, 0x10, "offset inside the device through the alias");
	cr_assert_eq(d.last_val, 0x12345678);
	cr_assert_null(who(0x200000), "box offset 0x800 is empty");
	memory_region_del_subregion(&root, &alias);
	memory_region_del_subregion(&root, &box_alias);
	ram_block_destroy(&rb);
}

Test(memory, containers_nested_three_deep_and_clipped)
{
	struct memory_region c1, c2, c3, dev;
	struct dev d = { 0 };
	uint8_t b = 1;

	memory_region_init_container(&c1, "c1", 0x10000);
	memory_region_init_container(&c2, "c2", 0x1000);
	memory_region_init_container(&c3, "c3", 0x800);
	memory_region_init_io(&dev, "dev", &ops_any, &d, 0x1000);
	memory_transaction_begin();
	memory_region_add_subregion(&c3, 0x100, &dev, 0);
	memory_region_add_subregion(&c2, 0x200, &c3, 0);
	memory_region_add_subregion(&c1, 0x3000, &c2, 0);
	memory_region_add_subregion(&root, 0x40000, &c1, 0);
	memory_transaction_commit();
	cr_assert_eq(address_space_write(as, 0x43300, &b, 1), MEMTX_OK);
	cr_assert_eq(d.last_off, 0);
	cr_assert_eq(who(0x439ff), &dev, "last byte inside c3");
	cr_assert_null(who(0x43a00), "clipped to c3's 0x800 bytes");
	memory_region_del_subregion(&root, &c1);
}

Test(memory, disable_and_enable)
{
	struct memory_region low, high;
	struct dev dl = { 0 }, dh = { 0 };

	memory_region_init_io(&low, "low", &ops_any, &dl, 0x1000);
	memory_region_init_io(&high, "high", &ops_any, &dh, 0x1000);
	memory_region_add_subregion(&root, 0x5000, &low, 0);
	memory_region_add_subregion(&root, 0x5000, &high, 1);
	cr_assert_eq(who(0x5000), &high);
	memory_region_set_enabled(&high, false);
	cr_assert_eq(who(0x5000), &low, "a disabled region uncovers what is below");
	memory_region_set_enabled(&low, false);
	cr_assert_null(who(0x5000));
	memory_region_set_enabled(&high, true);
	cr_assert_eq(who(0x5000), &high);
}

/* A listener that writes down every call. */
struct fake_listener {
	struct memory_listener l;
	char log[1024];
};

static void fl_log(struct memory_listener *l, const char *what,
		   const struct flat_range *r)
{
	struct fake_listener *f = (struct fake_listener *)l;
	size_t n = strlen(f->log);

	snprintf(f->log + n, sizeof(f->log) - n, "%s %#llx+%#llx%s;", what,
		 (unsigned long long)(r ? r->start : 0), (unsigned long long)(r ? r->size : 0),
		 r && r->readonly ? " ro" : "");
}

static void fl_add(struct memory_listener *l, const struct flat_range *r) { fl_log(l, "add", r); }
static void fl_del(struct memory_listener *l, const struct flat_range *r) { fl_log(l, "del", r); }
static void fl_begin(struct memory_listener *l)
{
	size_t n = strlen(((struct fake_listener *)l)->log);

	snprintf(((struct fake_listener *)l)->log + n, 1024 - n, "begin;");
}
static void fl_commit(struct memory_listener *l)
{
	size_t n = strlen(((struct fake_listener *)l)->log);

	snprintf(((struct fake_listener *)l)->log + n, 1024 - n, "commit;");
}

Test(memory, listener_sees_exactly_the_ram_changes)
{
	struct ram_block rb, romb;
	struct memory_region ram, rom, bar, dev;
	struct dev d = { 0 };
	struct fake_listener f = { .l = { .begin = fl_begin, .commit = fl_commit,
					  .region_add = fl_add, .region_del = fl_del } };

	cr_assert_eq(ram_block_init(&rb, "ram", 0x100000), 0);
	cr_assert_eq(ram_block_init(&romb, "rom", 0x1000), 0);
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x100000);
	memory_region_add_subregion(&root, 0, &ram, 0);
	address_space_add_listener(as, &f.l);
	cr_assert_str_eq(f.log, "begin;add 0+0x100000;commit;", "replay on register");

	f.log[0] = '\0';
	memory_region_init_io(&dev, "dev", &ops_any, &d, 0x1000);
	memory_region_add_subregion(&root, 0x200000, &dev, 0);
	cr_assert_str_eq(f.log, "", "I/O regions are not the listener's business");

	memory_region_init_rom(&rom, "rom", &romb, 0, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &rom, 1);
	cr_assert_str_eq(f.log, "begin;del 0+0x100000;add 0+0x10000;add 0x10000+0x1000 ro;"
			 "add 0x11000+0xef000;commit;", "ROM splits the RAM: %s", f.log);

	/* A BAR-like move inside a transaction: one del and one add. */
	f.log[0] = '\0';
	memory_region_init_alias(&bar, "bar", &ram, 0, 0x1000);
	memory_region_add_subregion(&root, 0x300000, &bar, 0);
	f.log[0] = '\0';
	memory_transaction_begin();
	memory_region_set_enabled(&bar, false);
	memory_region_set_address(&bar, 0x400000);
	memory_region_set_enabled(&bar, true);
	cr_assert_str_eq(f.log, "", "nothing until the commit");
	cr_assert_not_null(address_space_map_ram(as, 0x300000, 1, false),
			   "nor does the view change");
	memory_transaction_commit();
	cr_assert_str_eq(f.log, "begin;del 0x300000+0x1000;add 0x400000+0x1000;commit;",
			 "%s", f.log);
	cr_assert_null(address_space_map_ram(as, 0x300000, 1, false));

	f.log[0] = '\0';
	memory_region_set_address(&bar, 0x400000);
	cr_assert_str_eq(f.log, "", "no change, no calls");
	address_space_remove_listener(as, &f.l);
	memory_region_del_subregion(&root, &bar);
	memory_region_del_subregion(&root, &rom);
	memory_region_del_subregion(&root, &ram);
	memory_region_del_subregion(&root, &dev);
	cr_assert_str_eq(f.log, "", "removed listeners hear nothing");
	ram_block_destroy(&rb);
	ram_block_destroy(&romb);
}

Test(memory, accesses_straddle_sections)
{
	struct ram_block rb;
	struct memory_region r1, r2, dev;
	struct dev d = { 0 };
	uint8_t buf[16], out[16];

	cr_assert_eq(ram_block_init(&rb, "ram", 0x2000), 0);
	memory_region_init_ram(&r1, "r1", &rb, 0, 0x1000);
	memory_region_init_ram(&r2, "r2", &rb, 0x1000, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &r1, 0);
	memory_region_add_subregion(&root, 0x20000, &r2, 0);	/* not adjacent in GPA */
	memory_region_add_subregion(&root, 0x11000, &r2, 0);	/* moved: now adjacent */
	for (int i = 0; i < 16; i++)
		buf[i] = (uint8_t)(i + 1);
	cr_assert_eq(address_space_write(as, 0x10ff8, buf, 16), MEMTX_OK);
	cr_assert_arr_eq(rb.host + 0xff8, buf, 16, "RAM to RAM");
	cr_assert_eq(address_space_read(as, 0x10ff8, out, 16), MEMTX_OK);
	cr_assert_arr_eq(out, buf, 16);

	memory_region_init_io(&dev, "dev", &ops_any, &d, 0x100);
	memory_region_add_subregion(&root, 0x12000, &dev, 0);
	cr_assert_eq(address_space_write(as, 0x11ffc, buf, 8), MEMTX_OK);
	cr_assert_arr_eq(rb.host + 0x1ffc, buf, 4, "RAM part");
	cr_assert_eq(d.last_off, 0);
	cr_assert_eq(d.last_size, 4, "I/O part");
	cr_assert_eq(d.last_val, 0x08070605);
	memory_region_del_subregion(&root, &r1);
	memory_region_del_subregion(&root, &r2);
	memory_region_del_subregion(&root, &dev);
	ram_block_destroy(&rb);
}

static const struct memory_region_ops ops_4only = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 8 }, .impl = { .min = 4, .max = 4 },
};

static const struct memory_region_ops ops_strict = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 2, .max = 4 }, .impl = { .min = 2, .max = 4 },
};

Test(memory, size_rules_split_widen_reject)
{
	struct memory_region a, b;
	struct dev da = { 0 }, db = { 0 };
	uint64_t v = 0x1122334455667788ull;
	uint8_t byte;
	uint32_t w;

	memory_region_init_io(&a, "a", &ops_4only, &da, 0x100);
	memory_region_init_io(&b, "b", &ops_strict, &db, 0x100);
	memory_region_add_subregion(&root, 0x1000, &a, 0);
	memory_region_add_subregion(&root, 0x2000, &b, 0);

	cr_assert_eq(address_space_write(as, 0x1008, &v, 8), MEMTX_OK);
	cr_assert_eq(da.nwrites, 2, "8 bytes split into two 4-byte writes");
	cr_assert_eq(da.last_off, 0xc);
	cr_assert_eq(da.last_val, 0x11223344);

	cr_assert_eq(address_space_read(as, 0x1006, &byte, 1), MEMTX_OK);
	cr_assert_eq(da.last_off, 4, "widened to the aligned 4-byte unit");
	cr_assert_eq(da.last_size, 4);
	cr_assert_eq(byte, 0x77, "byte 2 of the unit read at 4");
	cr_assert_eq(address_space_write(as, 0x1006, &(uint8_t){ 0xee }, 1), MEMTX_OK);
	cr_assert_eq(da.last_val, 0xee0000, "shifted into place, the rest zero");

	db.nwrites = 0;
	cr_assert_eq(address_space_write(as, 0x2000, &byte, 1), MEMTX_ERROR, "too narrow");
	cr_assert_eq(address_space_write(as, 0x2000, &v, 8), MEMTX_ERROR, "too wide");
	cr_assert_eq(address_space_write(as, 0x2002, &w, 4), MEMTX_ERROR, "misaligned");
	cr_assert_eq(db.nwrites, 0, "rejected accesses never reach the device");
	cr_assert_eq(address_space_write(as, 0x2004, &w, 4), MEMTX_OK);
	cr_assert_eq(db.nwrites, 1);
	memory_region_del_subregion(&root, &a);
	memory_region_del_subregion(&root, &b);
}

/* Found by fuzz_dispatch: ops claiming 16-byte accesses overflowed the
 * 64-bit value passed to the callback. */
static const struct memory_region_ops ops_wide = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 16 }, .impl = { .min = 16, .max = 16 },
};

Test(memory, implemented_sizes_are_at_most_8_bytes)
{
	struct memory_region w;
	struct dev d = { 0 };
	uint8_t buf[16];

	memory_region_init_io(&w, "wide", &ops_wide, &d, 0x100);
	memory_region_add_subregion(&root, 0x3000, &w, 0);
	memset(buf, 0x11, sizeof(buf));
	cr_assert_eq(address_space_write(as, 0x3000, buf, 16), MEMTX_OK);
	cr_assert_eq(d.nwrites, 2, "split into two 8-byte writes");
	cr_assert_eq(d.last_size, 8);
	cr_assert_eq(address_space_read(as, 0x3001, buf, 1), MEMTX_OK);
	cr_assert_eq(d.last_size, 8, "widened to 8, not 16");
	memory_region_del_subregion(&root, &w);
}

Test(memory, unassigned_reads_all_ones_and_are_counted)
{
	uint32_t v = 0;
	char out[512] = "";
	FILE *f;

	cr_assert_eq(address_space_read(as, 0xdead0000, &v, 4), MEMTX_DECODE_ERROR);
	cr_assert_eq(v, 0xffffffff);
	cr_assert_eq(address_space_write(as, 0xdead0000, &v, 4), MEMTX_DECODE_ERROR);
	v = 0;
	cr_assert_eq(address_space_read(as, UINT64_MAX, &v, 4), MEMTX_DECODE_ERROR, "wraps");
	cr_assert_eq(v, 0xffffffff);
	f = fmemopen(out, sizeof(out) - 1, "w");
	address_space_print_stats(as, f);
	fclose(f);
	cr_assert_str_eq(out, "test: unassigned 2 reads, 1 writes\n");
}

Test(memory, rom_keeps_its_contents)
{
	struct ram_block rb;
	struct memory_region rom;
	uint32_t v = 0xdeadbeef, r = 0;

	cr_assert_eq(ram_block_init(&rb, "rom", 0x1000), 0);
	memcpy(rb.host, "ROM!", 4);
	memory_region_init_rom(&rom, "rom", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, 0xffff0000, &rom, 0);
	cr_assert_eq(address_space_write(as, 0xffff0000, &v, 4), MEMTX_OK);
	cr_assert_eq(address_space_read(as, 0xffff0000, &r, 4), MEMTX_OK);
	cr_assert_eq(memcmp(&r, "ROM!", 4), 0);
	cr_assert_not_null(address_space_map_ram(as, 0xffff0000, 4, false));
	cr_assert_null(address_space_map_ram(as, 0xffff0000, 4, true), "not writable");
	memory_region_del_subregion(&root, &rom);
	ram_block_destroy(&rb);
}

Test(memory, map_ram_bounds)
{
	struct ram_block rb;
	struct memory_region ram, top, dev;
	struct dev d = { 0 };
	struct iovec iov[4];

	cr_assert_eq(ram_block_init(&rb, "ram", 0x3000), 0);
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x2000);
	memory_region_init_ram(&top, "top", &rb, 0x2000, 0x1000);
	memory_region_init_io(&dev, "dev", &ops_any, &d, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	memory_region_add_subregion(&root, 0x12000, &dev, 0);
	memory_region_add_subregion(&root, UINT64_MAX - 0xfff, &top, 0);

	cr_assert_eq(address_space_map_ram(as, 0x10000, 0x2000, true), rb.host);
	cr_assert_null(address_space_map_ram(as, 0x10000, 0x2001, true), "one byte past");
	cr_assert_null(address_space_map_ram(as, 0x11fff, 2, true), "into I/O");
	cr_assert_null(address_space_map_ram(as, 0x10000, 0, true), "empty");
	cr_assert_null(address_space_map_ram(as, 0xfff0, 0x20, true), "before RAM");
	cr_assert_null(address_space_map_ram(as, UINT64_MAX - 0xf, 0x20, true), "wraps");
	cr_assert_eq(address_space_map_ram(as, UINT64_MAX - 0xfff, 0x1000, true),
		     rb.host + 0x2000, "up to the last byte of the address space");

	cr_assert_eq(address_space_map_ram_iov(as, 0x10ff0, 0x20, true, iov, 4), 1,
		     "one flat range, one iovec");
	cr_assert_eq(iov[0].iov_base, rb.host + 0xff0);
	cr_assert_eq(address_space_map_ram_iov(as, 0x11ff0, 0x20, true, iov, 4), -1, "into I/O");
	cr_assert_eq(address_space_map_ram_iov(as, UINT64_MAX - 0xf, 0x20, true, iov, 4), -1,
		     "wraps");
	memory_region_del_subregion(&root, &dev);
	memory_region_init_alias(&dev, "alias", &ram, 0x1000, 0x1000);
	memory_region_add_subregion(&root, 0x12000, &dev, 0);
	cr_assert_eq(address_space_map_ram_iov(as, 0x11ff0, 0x20, true, iov, 4), 2,
		     "two ranges of RAM");
	cr_assert_eq(address_space_map_ram_iov(as, 0x11ff0, 0x20, true, iov, 1), -1,
		     "more iovecs than allowed");
	memory_region_del_subregion(&root, &dev);
	memory_region_del_subregion(&root, &ram);
	memory_region_del_subregion(&root, &top);
	ram_block_destroy(&rb);
}

/* Concurrency: tests/unit/test_memory_threads.c. */
