/* RAM blocks, and the bounds-checked way from guest-physical to host:
 * address_space_map_ram and address_space_map_ram_iov, edge by edge. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"

Test(ramblock, size_rounded_to_a_page_and_mapped_zeroed)
{
	struct ram_block rb;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	cr_assert_eq(ram_block_init(&rb, "ram", 1), 0);
	cr_assert_eq(rb.size, page);
	cr_assert_str_eq(rb.name, "ram");
	cr_assert_eq((uintptr_t)rb.host % page, 0);
	cr_assert_eq(rb.host[page - 1], 0);
	rb.host[page - 1] = 1;
	ram_block_destroy(&rb);
	cr_assert_null(rb.host);
	ram_block_destroy(&rb);		/* twice is harmless */
}

Test(ramblock, bad_sizes_fail)
{
	struct ram_block rb;

	cr_assert_eq(ram_block_init(&rb, "ram", 0), -EINVAL);
	cr_assert_eq(ram_block_init(&rb, "ram", UINT64_MAX), -EINVAL, "would overflow rounding");
	cr_assert_lt(ram_block_init(&rb, "ram", 1ull << 62), 0, "no such address space");
	cr_assert_null(rb.host);
}

Test(ramblock, long_names_are_cut)
{
	struct ram_block rb;

	cr_assert_eq(ram_block_init(&rb, "a-name-much-longer-than-thirty-one-bytes", 4096), 0);
	cr_assert_eq(strlen(rb.name), sizeof(rb.name) - 1);
	ram_block_destroy(&rb);
}

Test(ramblock, host_is_bounds_checked_without_overflow)
{
	struct ram_block rb;

	cr_assert_eq(ram_block_init(&rb, "ram", 0x2000), 0);
	cr_assert_eq(ram_block_host(&rb, 0, 0x2000), rb.host);
	cr_assert_eq(ram_block_host(&rb, 0x1fff, 1), rb.host + 0x1fff);
	cr_assert_null(ram_block_host(&rb, 0x1fff, 2), "one byte past");
	cr_assert_null(ram_block_host(&rb, 0, 0x2001));
	cr_assert_null(ram_block_host(&rb, 0x2001, 0));
	cr_assert_null(ram_block_host(&rb, 0x10, UINT64_MAX), "offset + len wraps");
	cr_assert_null(ram_block_host(&rb, UINT64_MAX, 2), "offset + len wraps");
	ram_block_destroy(&rb);
	cr_assert_null(ram_block_host(&rb, 0, 1), "destroyed");
}

/* Layout: RAM [0x10000, 0x12000), I/O [0x12000, 0x13000), RAM (another
 * region) [0x13000, 0x14000), ROM [0x20000, 0x21000), RAM at the very
 * top [2^64 - 0x1000, 2^64). */
static struct memory_region root, ram, dev, ram2, rom, top;
static struct address_space *as;
static struct ram_block rb;

static uint64_t nop_read(void *o, uint64_t off, unsigned size)
{
	(void)o; (void)off; (void)size;
	return 0;
}

static const struct memory_region_ops nop_ops = { .read = nop_read };

static void setup(void)
{
	memory_region_init_container(&root, "root", UINT64_MAX);
	as = address_space_new("test", &root);
	cr_assert_eq(ram_block_init(&rb, "ram", 0x10000), 0);
	memory_region_init_ram(&ram, "ram", &rb, 0, 0x2000);
	memory_region_init_io(&dev, "dev", &nop_ops, NULL, 0x1000);
	memory_region_init_ram(&ram2, "ram2", &rb, 0x2000, 0x1000);
	memory_region_init_rom(&rom, "rom", &rb, 0x4000, 0x1000);
	memory_region_init_ram(&top, "top", &rb, 0x8000, 0x1000);
	memory_transaction_begin();
	memory_region_add_subregion(&root, 0x10000, &ram, 0);
	memory_region_add_subregion(&root, 0x12000, &dev, 0);
	memory_region_add_subregion(&root, 0x13000, &ram2, 0);
	memory_region_add_subregion(&root, 0x20000, &rom, 0);
	memory_region_add_subregion(&root, UINT64_MAX - 0xfff, &top, 0);
	memory_transaction_commit();
}

static void teardown(void)
{
	address_space_destroy(as);
	ram_block_destroy(&rb);
}

TestSuite(map, .init = setup, .fini = teardown);

Test(map, inside_one_range)
{
	cr_assert_eq(address_space_map_ram(as, 0x10000, 0x2000, true), rb.host);
	cr_assert_eq(address_space_map_ram(as, 0x11fff, 1, true), rb.host + 0x1fff,
		     "ends exactly at the range's end");
	cr_assert_eq(address_space_map_ram(as, 0x13800, 0x10, false), rb.host + 0x2800);
}

Test(map, one_byte_past_or_before_fails)
{
	cr_assert_null(address_space_map_ram(as, 0x10000, 0x2001, true));
	cr_assert_null(address_space_map_ram(as, 0xffff, 2, true));
	cr_assert_null(address_space_map_ram(as, 0x14000, 1, true), "unassigned");
}

Test(map, straddling_into_io_fails)
{
	cr_assert_null(address_space_map_ram(as, 0x11fff, 2, false));
	cr_assert_null(address_space_map_ram(as, 0x12000, 1, false), "I/O is not RAM");
}

/* Two RAM ranges next to each other are still two: map_ram vouches for
 * one range only, map_ram_iov is the way across. */
Test(map, straddling_two_ram_ranges_needs_the_iov_form)
{
	struct memory_region al;
	struct iovec iov[2];

	memory_region_del_subregion(&root, &dev);
	memory_region_init_alias(&al, "al", &ram2, 0, 0x1000);
	memory_region_add_subregion(&root, 0x12000, &al, 0);
	cr_assert_null(address_space_map_ram(as, 0x11ff0, 0x20, true));
	cr_assert_eq(address_space_map_ram_iov(as, 0x11ff0, 0x20, true, iov, 2), 2);
	cr_assert_eq(iov[0].iov_base, rb.host + 0x1ff0);
	cr_assert_eq(iov[0].iov_len, 0x10);
	cr_assert_eq(iov[1].iov_base, rb.host + 0x2000);
	cr_assert_eq(iov[1].iov_len, 0x10);
}

Test(map, rom_only_for_reading)
{
	struct iovec iov[1];

	cr_assert_eq(address_space_map_ram(as, 0x20000, 0x1000, false), rb.host + 0x4000);
	cr_assert_null(address_space_map_ram(as, 0x20000, 1, true));
	cr_assert_eq(address_space_map_ram_iov(as, 0x20000, 4, false, iov, 1), 1);
	cr_assert_eq(address_space_map_ram_iov(as, 0x20000, 4, true, iov, 1), -1);
}

/* The last byte of the address space is mappable; nothing wraps to 0. */
Test(map, top_of_the_address_space_and_wrap)
{
	struct iovec iov[2];

	cr_assert_eq(address_space_map_ram(as, UINT64_MAX - 0xfff, 0x1000, true),
		     rb.host + 0x8000, "ends exactly at 2^64");
	cr_assert_eq(address_space_map_ram(as, UINT64_MAX, 1, true), rb.host + 0x8fff);
	cr_assert_null(address_space_map_ram(as, UINT64_MAX, 2, true), "wraps");
	cr_assert_null(address_space_map_ram(as, UINT64_MAX - 0xf, 0x20, true), "wraps");
	cr_assert_null(address_space_map_ram(as, 0x10000, UINT64_MAX, true), "wraps");
	cr_assert_null(address_space_map_ram(as, UINT64_MAX - 0xfff, UINT64_MAX, false));
	cr_assert_eq(address_space_map_ram_iov(as, UINT64_MAX - 0xfff, 0x1000, true, iov, 2), 1);
	cr_assert_eq(iov[0].iov_len, 0x1000);
	cr_assert_eq(address_space_map_ram_iov(as, UINT64_MAX, 2, true, iov, 2), -1);
	cr_assert_eq(address_space_map_ram_iov(as, 0x10000, UINT64_MAX, true, iov, 2), -1);
}

/* len 0: no pointer to vouch for (NULL); no iovec needed (0). */
Test(map, zero_length)
{
	struct iovec iov[1];

	cr_assert_null(address_space_map_ram(as, 0x10000, 0, true));
	cr_assert_eq(address_space_map_ram_iov(as, 0x10000, 0, true, iov, 1), 0);
	cr_assert_eq(address_space_map_ram_iov(as, 0x12000, 0, true, NULL, 0), 0);
}

Test(map, iov_fails_on_any_byte_that_is_not_ram)
{
	struct iovec iov[4];

	cr_assert_eq(address_space_map_ram_iov(as, 0x11ff0, 0x20, true, iov, 4), -1, "into I/O");
	cr_assert_eq(address_space_map_ram_iov(as, 0x13ff0, 0x20, true, iov, 4), -1,
		     "into unassigned");
	cr_assert_eq(address_space_map_ram_iov(as, 0xfff0, 0x20, true, iov, 4), -1,
		     "from unassigned");
}

Test(map, iov_count_limit)
{
	struct memory_region al;
	struct iovec iov[3];

	memory_region_del_subregion(&root, &dev);
	memory_region_init_alias(&al, "al", &rom, 0, 0x1000);
	memory_region_add_subregion(&root, 0x12000, &al, 0);
	/* ram | rom (through al) | ram2: three ranges. */
	cr_assert_eq(address_space_map_ram_iov(as, 0x11000, 0x3000, false, iov, 3), 3);
	cr_assert_eq(iov[0].iov_base, rb.host + 0x1000);
	cr_assert_eq(iov[0].iov_len, 0x1000);
	cr_assert_eq(iov[1].iov_base, rb.host + 0x4000);
	cr_assert_eq(iov[2].iov_base, rb.host + 0x2000);
	cr_assert_eq(iov[2].iov_len, 0x1000);
	cr_assert_eq(address_space_map_ram_iov(as, 0x11000, 0x3000, false, iov, 2), -1,
		     "more than max_iov needed");
	cr_assert_eq(address_space_map_ram_iov(as, 0x11000, 0x10, false, iov, 0), -1);
	cr_assert_eq(address_space_map_ram_iov(as, 0x11000, 0x3000, true, iov, 3), -1,
		     "the ROM in the middle");
}

static unsigned dma_io_reads;

static uint64_t count_read(void *o, uint64_t off, unsigned size)
{
	(void)o; (void)off; (void)size;
	dma_io_reads++;
	return 0x77;
}

static const struct memory_region_ops count_ops = { .read = count_read };

/* An I/O region with DMA RAM over RAM (a debugger's watched page): the
 * CPU's accesses reach the callbacks, DMA the RAM below, and the listener
 * (KVM's memslots) sees a hole there. */
Test(map, io_region_with_dma_ram)
{
	struct memory_region watch;
	uint8_t byte = 0;

	memory_region_init_io(&watch, "watch", &count_ops, NULL, 0x1000);
	memory_region_set_dma_ram(&watch, &rb, 0x1000);
	memory_region_add_subregion(&root, 0x11000, &watch, 10);
	cr_assert_eq(address_space_map_ram(as, 0x11000, 0x1000, true), rb.host + 0x1000);
	cr_assert_eq(address_space_map_ram(as, 0x10000, 0x1000, true), rb.host);
	cr_assert_null(address_space_map_ram(as, 0x10fff, 2, true), "two ranges now");
	dma_io_reads = 0;
	rb.host[0x1000] = 0x11;
	cr_assert_eq(address_space_read(as, 0x11000, &byte, 1), MEMTX_OK);
	cr_assert_eq(byte, 0x77, "the CPU's read went to the callback");
	cr_assert_eq(dma_io_reads, 1);
	memory_region_del_subregion(&root, &watch);
	cr_assert_eq(address_space_read(as, 0x11000, &byte, 1), MEMTX_OK);
	cr_assert_eq(byte, 0x11, "RAM again");
	cr_assert_eq(dma_io_reads, 1);
}
