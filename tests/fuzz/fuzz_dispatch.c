/* libFuzzer target: a region tree built from the input, then accesses.
 * Checks that dispatch never touches memory outside the RAM blocks (ASan)
 * and that map_ram only hands out pointers inside them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"

#define NREGIONS 12
#define RAM_SIZE 0x10000


static uint64_t io_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	return off * size;
}

static void io_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	(void)opaque; (void)off; (void)v; (void)size;
}

static struct ram_block ram;

static void check_ptr(const uint8_t *p, uint64_t len)
{
	if (p && (p < ram.host || p + len > ram.host + ram.size))
		abort();
}

static void build(struct input *in, struct memory_region *root,
		  struct memory_region *r, struct memory_region_ops *ops)
{
	for (int i = 0; i < NREGIONS; i++) {
		unsigned kind = (unsigned)take(in, 1) % 5;
		uint64_t size = take(in, 2) + 1, off = take(in, 2);
		struct memory_region *parent = i && take(in, 1) % 3 == 0 ? &r[take(in, 1) % i] : root;

		switch (kind) {
		case 0:
			memory_region_init_container(&r[i], "c", size);
			break;
		case 1:
		case 2:
			/* The VMM configures RAM regions inside their block. */
			off %= RAM_SIZE;
			if (size > RAM_SIZE - off)
				size = RAM_SIZE - off;
			if (kind == 1)
				memory_region_init_ram(&r[i], "ram", &ram, off, size);
			else
				memory_region_init_rom(&r[i], "rom", &ram, off, size);
			break;
		case 3:
			memory_region_init_io(&r[i], "io", ops, NULL, size);
			break;
		default: {
			struct memory_region *target = i ? &r[take(in, 1) % i] : NULL;

			/* Aliases of leaves only: the VMM never builds a cycle. */
			if (target && target->kind != MR_CONTAINER && target->kind != MR_ALIAS)
				memory_region_init_alias(&r[i], "alias", target, off, size);
			else
				memory_region_init_container(&r[i], "c", size);
			break;
		}
		}
		if (parent->kind != MR_CONTAINER)
			parent = root;
		memory_region_add_subregion(parent, take(in, 3), &r[i], (int)(take(in, 1) % 4) - 2);
		if (take(in, 1) % 7 == 0)
			memory_region_set_enabled(&r[i], false);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memory_region root;
	struct memory_region r[NREGIONS];
	struct memory_region_ops ops = { .read = io_read, .write = io_write };
	struct input in = { data, size };
	struct address_space *as;
	uint8_t buf[64];

	if (!ram.host)
		ram_block_init(&ram, "ram", RAM_SIZE);
	ops.valid.min = 1u << (take(&in, 1) % 4);
	ops.valid.max = ops.valid.min << (take(&in, 1) % 2);
	ops.impl.min = 1u << (take(&in, 1) % 4);
	ops.impl.max = ops.impl.min << (take(&in, 1) % 2);
	ops.valid.unaligned = take(&in, 1) & 1;
	memory_region_init_container(&root, "root", UINT64_MAX);
	as = address_space_new("fuzz", &root);
	memory_transaction_begin();
	build(&in, &root, r, &ops);
	memory_transaction_commit();
	while (in.left >= 6) {
		uint64_t addr = take(&in, 3) | (take(&in, 1) % 2 ? 0xffffffffff000000ull : 0);
		uint64_t len = take(&in, 1) % sizeof(buf);
		bool write = take(&in, 1) & 1;
		struct iovec iov[4];
		int n;

		address_space_rw(as, addr, buf, len, write, NULL);
		check_ptr(address_space_map_ram(as, addr, len, write), len);
		n = address_space_map_ram_iov(as, addr, len, write, iov, 4);
		for (int i = 0; i < n; i++)
			check_ptr(iov[i].iov_base, iov[i].iov_len);
	}
	address_space_destroy(as);
	return 0;
}
