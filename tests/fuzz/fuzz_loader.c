/* libFuzzer target: the whole input is a guest file for the image loader
 * (ELF64, multiboot ELF32, a.out kludge), placed by the boot plan as the
 * machine does. Whatever it holds, loading must fail cleanly or put bytes
 * only inside guest RAM (ASan would see anything else), and an accepted
 * image never overlaps the boot data placed around it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
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

static void check_disjoint(const struct guest_image *img, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < img->nseg; i++)
		if (start < img->seg[i].paddr + img->seg[i].memsz && img->seg[i].paddr < end)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_image img;
	struct boot_config cfg = { .ram_size = 16 << 20, .acpi_size = ACPI_TABLES_SIZE,
				   .cmdline = "guest" };
	struct boot_layout l;
	struct error err;

	if (!as)
		setup();
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	if (loader_open(path, &img, &err))
		return 0;
	if (!boot_plan(&l, &cfg, &img, &err)) {
		check_disjoint(&img, l.block, l.block_end);
		check_disjoint(&img, l.info, l.info_end);
		check_disjoint(&img, l.rsdp, l.rsdp + ACPI_RSDP_SIZE);
		loader_copy(&img, as, &err);
	}
	loader_close(&img);
	return 0;
}
