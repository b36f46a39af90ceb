/* libFuzzer target: the whole input is a guest file for the ELF loader.
 * Whatever it holds, loading must fail cleanly or put bytes only inside
 * guest RAM (ASan would see anything else). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/loader.h"

static struct address_space *as;
static int fd = -1;
static char path[64];

static void setup(void)
{
	static struct ram_block ram;
	static struct memory_region root, ram_mr;

	ram_block_init(&ram, "ram", 16 << 20);
	memory_region_init_container(&root, "root", UINT64_MAX);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, 16 << 20);
	memory_region_add_subregion(&root, 0, &ram_mr, 0);
	as = address_space_new("system", &root);
	fd = memfd_create("guest", 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct loader_reserved res[] = { { 0x9e000, 0x100000, "boot data" } };
	struct guest_image img;
	struct error err;

	if (!as)
		setup();
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	loader_load(path, as, res, 1, &img, &err);
	return 0;
}
