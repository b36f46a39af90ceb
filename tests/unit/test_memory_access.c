/* address_space_rw: sections, size rules, unassigned space, ROM, counters,
 * re-entry. Devices log every callback, and tests compare the whole log. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"

struct dev {
	char log[512];
};

/* Byte k of the value read at offset o is 0xo+k (low byte of o + k), so
 * tests can tell which bytes they got. */
static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
	struct dev *d = opaque;
	size_t n = strlen(d->log);
	uint64_t v = 0;

	snprintf(d->log + n, sizeof(d->log) - n, "r%u@%#llx;", size,
		 (unsigned long long)off);
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)(uint8_t)(0xa0 + off + i) << (8 * i);
	return v;
}

static void dev_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct dev *d = opaque;
	size_t n = strlen(d->log);

	snprintf(d->log + n, sizeof(d->log) - n, "w%u@%#llx=%#llx;", size,
		 (unsigned long long)off, (unsigned long long)v);
}

static struct memory_region root;
static struct address_space *as;
static struct ram_block rb;

static void setup(void)
{
	memory_region_init_container(&root, "root", UINT64_MAX);
	as = address_space_new("test", &root);
	cr_assert_eq(ram_block_init(&rb, "ram", 0x10000), 0);
}

static void teardown(void)
{
	address_space_destroy(as);
	ram_block_destroy(&rb);
}

TestSuite(access, .init = setup, .fini = teardown);

static void map_io(struct memory_region *mr, const struct memory_region_ops *ops,
		   struct dev *d, uint64_t addr, uint64_t size)
{
	memory_region_init_io(mr, "dev", ops, d, size);
	memory_region_add_subregion(&root, addr, mr, 0);
}

#define assert_log(d, expect) \
	cr_assert_str_eq((d).log, expect, "log: %s", (d).log)

static const struct memory_region_ops ops_any = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 8 }, .impl = { .min = 1, .max = 8 },
};

static const struct memory_region_ops ops_impl4 = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 8, .unaligned = true },
	.impl = { .min = 4, .max = 4 },
};

static const struct memory_region_ops ops_strict = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 2, .max = 4 }, .impl = { .min = 2, .max = 4 },
};

Test(access, exact_sizes_reach_the_device_as_they_are)
{
	struct memory_region mr;
	struct dev d = { "" };
	uint64_t v = 0;

	map_io(&mr, &ops_any, &d, 0x1000, 0x100);
	for (unsigned size = 1; size <= 8; size *= 2)
		cr_assert_eq(address_space_read(as, 0x1010, &v, size), MEMTX_OK);
	cr_assert_eq(v, 0xb7b6b5b4b3b2b1b0ull, "the last 8-byte read, little-endian: %#llx",
		     (unsigned long long)v);
	v = 0x1122334455667788ull;
	cr_assert_eq(address_space_write(as, 0x1018, &v, 8), MEMTX_OK);
	cr_assert_eq(address_space_write(as, 0x1002, &v, 2), MEMTX_OK);
	assert_log(d, "r1@0x10;r2@0x10;r4@0x10;r8@0x10;w8@0x18=0x1122334455667788;w2@0x2=0x7788;");
}

Test(access, wider_than_implemented_is_split)
{
	struct memory_region mr;
	struct dev d = { "" };
	uint64_t v = 0x1122334455667788ull;

	map_io(&mr, &ops_impl4, &d, 0x1000, 0x100);
	cr_assert_eq(address_space_write(as, 0x1008, &v, 8), MEMTX_OK);
	assert_log(d, "w4@0x8=0x55667788;w4@0xc=0x11223344;");
	d.log[0] = '\0';
	cr_assert_eq(address_space_read(as, 0x1008, &v, 8), MEMTX_OK);
	assert_log(d, "r4@0x8;r4@0xc;");
	cr_assert_eq(v, 0xafaeadacabaaa9a8ull, "%#llx", (unsigned long long)v);
}

Test(access, narrower_than_implemented_is_widened_and_the_bytes_picked)
{
	struct memory_region mr;
	struct dev d = { "" };
	uint8_t b = 0;
	uint16_t h = 0;

	map_io(&mr, &ops_impl4, &d, 0x1000, 0x100);
	cr_assert_eq(address_space_read(as, 0x1006, &b, 1), MEMTX_OK);
	cr_assert_eq(b, 0xa6, "byte 2 of the unit read at 4: %#x", b);
	cr_assert_eq(address_space_write(as, 0x1006, &(uint8_t){ 0xee }, 1), MEMTX_OK);
	cr_assert_eq(address_space_write(as, 0x1005, &(uint16_t){ 0xbbaa }, 2), MEMTX_OK);
	assert_log(d, "r4@0x4;w4@0x4=0xee0000;w4@0x4=0xbbaa00;");
	/* Across two units: two callbacks, the right bytes of each. */
	d.log[0] = '\0';
	cr_assert_eq(address_space_read(as, 0x1007, &h, 2), MEMTX_OK);
	assert_log(d, "r4@0x4;r4@0x8;");
	cr_assert_eq(h, 0xa8a7, "%#x", h);
}

Test(access, unaligned_access_to_aligned_callbacks_becomes_two)
{
	struct memory_region mr;
	struct dev d = { "" };
	uint32_t v = 0;

	map_io(&mr, &ops_impl4, &d, 0x1000, 0x100);
	cr_assert_eq(address_space_read(as, 0x1002, &v, 4), MEMTX_OK);
	cr_assert_eq(v, 0xa5a4a3a2, "%#x", v);
	cr_assert_eq(address_space_write(as, 0x1002, &(uint32_t){ 0x44332211 }, 4), MEMTX_OK);
	assert_log(d, "r4@0;r4@0x4;w4@0=0x22110000;w4@0x4=0x4433;");
}

static const struct memory_region_ops ops_impl_unaligned = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 8, .unaligned = true },
	.impl = { .min = 4, .max = 4, .unaligned = true },
};

Test(access, callbacks_that_take_unaligned_get_the_address_as_is)
{
	struct memory_region mr;
	struct dev d = { "" };
	uint8_t b = 0;
	uint64_t v = 0;

	map_io(&mr, &ops_impl_unaligned, &d, 0x1000, 0x100);
	cr_assert_eq(address_space_read(as, 0x1003, &b, 1), MEMTX_OK);
	cr_assert_eq(b, 0xa3);
	cr_assert_eq(address_space_read(as, 0x1003, &v, 8), MEMTX_OK);
	assert_log(d, "r4@0x3;r4@0x3;r4@0x7;");
	cr_assert_eq(v, 0xaaa9a8a7a6a5a4a3ull, "%#llx", (unsigned long long)v);
}

Test(access, invalid_sizes_and_alignment_are_rejected_untouched)
{
	struct memory_region mr;
	struct dev d = { "" };
	uint64_t v = 0;
	uint8_t three[3] = { 0 };

	map_io(&mr, &ops_strict, &d, 0x2000, 0x100);
	cr_assert_eq(address_space_write(as, 0x2000, &v, 1), MEMTX_ERROR, "too narrow");
	cr_assert_eq(address_space_write(as, 0x2000, &v, 8), MEMTX_ERROR, "too wide");
	cr_assert_eq(address_space_write(as, 0x2002, &v, 4), MEMTX_ERROR, "misaligned");
	cr_assert_eq(address_space_write(as, 0x2001, &v, 2), MEMTX_ERROR, "misaligned");
	cr_assert_eq(address_space_read(as, 0x2000, three, 3), MEMTX_ERROR, "not a power of 2");
	cr_assert_eq(address_space_read(as, 0x2002, &v, 4), MEMTX_ERROR);
	cr_assert_eq(v, UINT32_MAX, "a rejected read gives all-ones");
	assert_log(d, "");
	cr_assert_eq(atomic_load(&mr.reads) + atomic_load(&mr.writes), 0, "not counted");
	cr_assert_eq(address_space_write(as, 0x2004, &v, 4), MEMTX_OK);
	cr_assert_eq(address_space_read(as, 0x2006, &v, 2), MEMTX_OK);
	assert_log(d, "w4@0x4=0xffffffff;r2@0x6;");
}

/* Zeros in ops mean valid 1..4 and impl 1..4; implemented sizes above 8 are
 * taken as 8 (the callback's value is 64 bits). */
static const struct memory_region_ops ops_default = { .read = dev_read, .write = dev_write };
static const struct memory_region_ops ops_wide = {
	.read = dev_read, .write = dev_write,
	.valid = { .min = 1, .max = 16 }, .impl = { .min = 16, .max = 16 },
};

Test(access, default_and_oversized_sizes)
{
	struct memory_region a, b;
	struct dev da = { "" }, db = { "" };
	uint8_t buf[16];

	map_io(&a, &ops_default, &da, 0x1000, 0x100);
	map_io(&b, &ops_wide, &db, 0x2000, 0x100);
	cr_assert_eq(address_space_read(as, 0x1001, buf, 1), MEMTX_OK);
	cr_assert_eq(address_space_read(as, 0x1004, buf, 4), MEMTX_OK);
	cr_assert_eq(address_space_read(as, 0x1000, buf, 8), MEMTX_ERROR);
	cr_assert_eq(address_space_read(as, 0x1002, buf, 4), MEMTX_ERROR);
	assert_log(da, "r1@0x1;r4@0x4;");
	memset(buf, 0x11, sizeof(buf));
	cr_assert_eq(address_space_write(as, 0x2000, buf, 16), MEMTX_OK);
	cr_assert_eq(address_space_read(as, 0x2001, buf, 1), MEMTX_OK);
	assert_log(db, "w8@0=0x1111111111111111;w8@0x8=0x1111111111111111;r8@0;");
	cr_assert_eq(buf[0], 0xa1);
}

Test(access, io_accesses_are_counted_per_access)
{
	struct memory_region mr;
	struct dev d = { "" };
	uint64_t v = 0;
	char out[256] = "";
	FILE *f;

	map_io(&mr, &ops_impl4, &d, 0x1000, 0x100);
	address_space_read(as, 0x1000, &v, 8);		/* two callbacks, one access */
	address_space_read(as, 0x1000, &v, 1);
	address_space_write(as, 0x1000, &v, 4);
	cr_assert_eq(atomic_load(&mr.reads), 2);
	cr_assert_eq(atomic_load(&mr.writes), 1);
	address_space_read(as, 0x5000, &v, 1);
	f = fmemopen(out, sizeof(out) - 1, "w");
	address_space_print_stats(as, f);
	fclose(f);
	cr_assert_str_eq(out, "test: unassigned 1 reads, 0 writes\n  dev: 2 reads, 1 writes\n");
}

Test(access, ram_to_ram_across_sections)
{
	struct memory_region r1, r2, r3;
	uint8_t in[0x30], out[0x30];

	memory_region_init_ram(&r1, "r1", &rb, 0, 0x1000);
	memory_region_init_ram(&r2, "r2", &rb, 0x8000, 0x10);
	memory_region_init_ram(&r3, "r3", &rb, 0x4000, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &r1, 0);
	memory_region_add_subregion(&root, 0x11000, &r2, 0);
	memory_region_add_subregion(&root, 0x11010, &r3, 0);
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i + 1);
	cr_assert_eq(address_space_write(as, 0x10ff8, in, sizeof(in)), MEMTX_OK);
	cr_assert_arr_eq(rb.host + 0xff8, in, 8);
	cr_assert_arr_eq(rb.host + 0x8000, in + 8, 0x10);
	cr_assert_arr_eq(rb.host + 0x4000, in + 0x18, 0x18);
	cr_assert_eq(address_space_read(as, 0x10ff8, out, sizeof(out)), MEMTX_OK);
	cr_assert_arr_eq(out, in, sizeof(in));
}

Test(access, ram_to_io_and_io_to_io)
{
	struct memory_region ram, a, b;
	struct dev da = { "" }, db = { "" };
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const struct memory_region *hit;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	map_io(&a, &ops_any, &da, 0x11000, 0x4);
	map_io(&b, &ops_any, &db, 0x11004, 0x4);
	cr_assert_eq(address_space_rw(as, 0x10ffc, buf, 8, true, &hit), MEMTX_OK);
	cr_assert_eq(hit, &ram, "the region of the first byte");
	cr_assert_arr_eq(rb.host + 0xffc, buf, 4);
	assert_log(da, "w4@0=0x8070605;");
	cr_assert_eq(address_space_rw(as, 0x11000, buf, 8, false, &hit), MEMTX_OK);
	cr_assert_eq(hit, &a);
	assert_log(da, "w4@0=0x8070605;r4@0;");
	assert_log(db, "r4@0;");
	cr_assert_eq(buf[0], 0xa0);
	cr_assert_eq(buf[4], 0xa0);
}

/* An I/O access crossing its range's end is cut there; each part follows
 * the device's rules on its own. */
Test(access, io_access_cut_at_the_end_of_its_range)
{
	struct memory_region a, b;
	struct dev da = { "" }, db = { "" };
	uint8_t buf[8] = { 0 };
	const struct memory_region *hit;

	map_io(&a, &ops_any, &da, 0x1000, 0x100);
	memory_region_init_io(&b, "b", &ops_strict, &db, 0x10);
	memory_region_add_subregion(&root, 0x1010, &b, 1);	/* a hole in a */
	cr_assert_eq(address_space_read(as, 0x100c, buf, 8), MEMTX_OK);
	assert_log(da, "r4@0xc;");
	assert_log(db, "r4@0;");
	cr_assert_eq(address_space_read(as, 0x101e, buf, 4), MEMTX_OK);
	assert_log(db, "r4@0;r2@0xe;");
	assert_log(da, "r4@0xc;r2@0x20;");
	/* One byte left for b: b rejects it, a's part is still done. */
	cr_assert_eq(address_space_rw(as, 0x100f, buf, 2, false, &hit), MEMTX_ERROR);
	cr_assert_eq(hit, &a);
	assert_log(da, "r4@0xc;r2@0x20;r1@0xf;");
	cr_assert_eq(buf[0], 0xaf);
	cr_assert_eq(buf[1], 0xff);
	/* Into nothing. */
	cr_assert_eq(address_space_read(as, 0x10fe, buf, 4), MEMTX_DECODE_ERROR);
	assert_log(da, "r4@0xc;r2@0x20;r1@0xf;r2@0xfe;");
	cr_assert_eq(buf[2], 0xff);
	cr_assert_eq(buf[3], 0xff);
}

Test(access, unassigned_reads_all_ones_writes_dropped_both_counted)
{
	struct memory_region ram;
	uint8_t buf[0x20];
	const struct memory_region *hit = (void *)1;
	char out[256] = "";
	FILE *f;

	memory_region_init_ram(&ram, "ram", &rb, 0, 0x10);
	memory_region_add_subregion(&root, 0x1010, &ram, 0);
	memset(rb.host, 0x5a, 0x10);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(address_space_rw(as, 0x1000, buf, 0x20, false, &hit), MEMTX_DECODE_ERROR);
	cr_assert_null(hit);
	for (int i = 0; i < 0x20; i++)
		cr_assert_eq(buf[i], i >= 0x10 ? 0x5a : 0xff, "byte %d", i);
	cr_assert_eq(address_space_write(as, 0x1018, buf, 0x10), MEMTX_DECODE_ERROR);
	cr_assert_eq(rb.host[0xf], 0xff, "the RAM part is written");
	f = fmemopen(out, sizeof(out) - 1, "w");
	address_space_print_stats(as, f);
	fclose(f);
	cr_assert_str_eq(out, "test: unassigned 1 reads, 1 writes\n");
}

Test(access, rom_reads_but_drops_writes)
{
	struct memory_region rom;
	uint32_t v = 0xdeadbeef, r = 0;

	memcpy(rb.host, "ROM!", 4);
	memory_region_init_rom(&rom, "rom", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, 0xffff0000, &rom, 0);
	cr_assert_eq(address_space_write(as, 0xffff0000, &v, 4), MEMTX_OK);
	cr_assert_eq(memcmp(rb.host, "ROM!", 4), 0, "contents unchanged");
	cr_assert_eq(address_space_read(as, 0xffff0000, &r, 4), MEMTX_OK);
	cr_assert_eq(memcmp(&r, "ROM!", 4), 0);
}

Test(access, zero_length_is_a_no_op)
{
	struct memory_region mr;
	struct dev d = { "" };
	const struct memory_region *hit = &mr;

	map_io(&mr, &ops_any, &d, 0x1000, 0x100);
	cr_assert_eq(address_space_rw(as, 0x1000, NULL, 0, false, &hit), MEMTX_OK);
	cr_assert_null(hit);
	cr_assert_eq(address_space_rw(as, UINT64_MAX, NULL, 0, true, NULL), MEMTX_OK);
	cr_assert_eq(address_space_rw(as, 0x5000, NULL, 0, true, NULL), MEMTX_OK);
	assert_log(d, "");
	cr_assert_eq(atomic_load(&mr.reads), 0);
}

Test(access, wrapping_past_2_64_is_an_error_and_does_nothing)
{
	struct memory_region top, low;
	struct dev dt = { "" }, dl = { "" };
	uint32_t v = 0;
	const struct memory_region *hit;

	map_io(&top, &ops_any, &dt, UINT64_MAX - 0xff, 0x100);
	map_io(&low, &ops_any, &dl, 0, 0x100);
	cr_assert_eq(address_space_rw(as, UINT64_MAX - 1, &v, 4, false, &hit),
		     MEMTX_DECODE_ERROR);
	cr_assert_null(hit);
	cr_assert_eq(v, UINT32_MAX);
	cr_assert_eq(address_space_write(as, UINT64_MAX, &v, 2), MEMTX_DECODE_ERROR);
	assert_log(dt, "");
	assert_log(dl, "");
	/* Ending exactly at 2^64 is fine. */
	cr_assert_eq(address_space_read(as, UINT64_MAX - 3, &v, 4), MEMTX_OK);
	cr_assert_eq(address_space_read(as, UINT64_MAX, &v, 1), MEMTX_OK);
	assert_log(dt, "r4@0xfc;r1@0xff;");
}

static uint64_t null_ops_probe;
static const struct memory_region_ops ops_none = { .valid = { 1, 8, false } };

Test(access, missing_callbacks_read_zero_and_ignore_writes)
{
	struct memory_region mr;
	uint32_t v = 0xffffffff;

	memory_region_init_io(&mr, "none", &ops_none, &null_ops_probe, 0x10);
	memory_region_add_subregion(&root, 0x1000, &mr, 0);
	cr_assert_eq(address_space_read(as, 0x1000, &v, 4), MEMTX_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(address_space_write(as, 0x1000, &v, 4), MEMTX_OK);
	cr_assert_eq(atomic_load(&mr.writes), 1);
}

/* A device that, on its first read, moves another region (a commit: a new
 * view is published) and then accesses the address space again, as a
 * device doing DMA after a BAR write would. The outer access must go on
 * with the view it started with, which must still be alive (ASan). */
static struct memory_region mover_other;
static int reentered;

static uint64_t reentrant_read(void *opaque, uint64_t off, unsigned size)
{
	uint8_t b;

	(void)opaque;
	if (!reentered++) {
		memory_region_set_address(&mover_other, 0x90000);
		cr_assert_eq(address_space_read(as, 0x90000, &b, 1), MEMTX_OK);
		cr_assert_eq(b, 0x77, "the inner access sees the new view");
		cr_assert_not_null(address_space_map_ram(as, 0x90000, 1, false));
	}
	return off + size;
}

static const struct memory_region_ops ops_reentrant = {
	.read = reentrant_read, .valid = { 1, 8, false }, .impl = { 1, 8, false },
};

Test(access, callbacks_may_change_the_tree_and_re_enter)
{
	struct memory_region a, b;
	uint8_t buf[8];
	const struct memory_region *hit;

	memset(rb.host, 0x77, 0x1000);
	memory_region_init_ram(&mover_other, "other", &rb, 0, 0x1000);
	memory_region_add_subregion(&root, 0x80000, &mover_other, 0);
	memory_region_init_io(&a, "a", &ops_reentrant, NULL, 0x1000);
	memory_region_init_io(&b, "b", &ops_reentrant, NULL, 0x1000);
	memory_region_add_subregion(&root, 0x20000, &a, 0);
	memory_region_add_subregion(&root, 0x21000, &b, 0);
	cr_assert_eq(address_space_rw(as, 0x20ffc, buf, 8, false, &hit), MEMTX_OK);
	cr_assert_eq(hit, &a);
	cr_assert_eq(reentered, 2, "both sections reached their device");
	cr_assert_eq(buf[0] | buf[1] << 8, 0x1000, "a's value: offset + size");
	cr_assert_eq(buf[4], 4, "b's value");
	cr_assert_eq(address_space_read(as, 0x80000, buf, 1), MEMTX_DECODE_ERROR,
		     "the move is visible to later accesses");
	cr_assert_eq(address_space_read(as, 0x90000, buf, 1), MEMTX_OK);
}
