/* Image loader: good images (ELF64, multiboot ELF32, the a.out kludge in a
 * flat binary or an ELF) load exactly; every bad one is refused with a
 * message naming the problem, before guest RAM is touched. Where the image
 * may go in the machine is test_boot_layout's. */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/loader.h"

#define RAM_SIZE	(16u << 20)
#define DATA_OFF	0x1000

static struct ram_block ram;
static struct memory_region root, ram_mr;
static struct address_space *as;
static char path[64];

static void setup(void)
{
	cr_assert_eq(ram_block_init(&ram, "ram", RAM_SIZE), 0);
	memory_region_init_container(&root, "root", UINT64_MAX);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, RAM_SIZE);
	memory_region_add_subregion(&root, 0, &ram_mr, 0);
	as = address_space_new("system", &root);
	strcpy(path, "/tmp/tinyvmm-loader-XXXXXX");
	close(mkstemp(path));
}

static void teardown(void)
{
	address_space_destroy(as);
	memory_region_del_subregion(&root, &ram_mr);
	ram_block_destroy(&ram);
	unlink(path);
}

TestSuite(loader, .init = setup, .fini = teardown);

struct seg {
	uint64_t paddr, vaddr, filesz, memsz, offset;
};

/* An image: header, program headers, then payload bytes at DATA_OFF. */
struct image {
	uint8_t bytes[2 * DATA_OFF];
	size_t size;
};

static void image_elf64(struct image *im, uint16_t machine, uint64_t entry,
			const struct seg *s, int n)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)im->bytes;
	Elf64_Phdr *ph = (Elf64_Phdr *)(im->bytes + sizeof(*eh));

	memset(im, 0, sizeof(*im));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = machine;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = (uint16_t)n;
	for (int i = 0; i < n; i++)
		ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = s[i].offset,
				      .p_vaddr = s[i].vaddr, .p_paddr = s[i].paddr,
				      .p_filesz = s[i].filesz, .p_memsz = s[i].memsz };
	for (int i = 0; i < DATA_OFF; i++)
		im->bytes[DATA_OFF + i] = (uint8_t)(i * 7 + 1);
	im->size = sizeof(im->bytes);
}

static void image_elf32(struct image *im, uint16_t machine, uint32_t entry,
			uint32_t paddr, uint32_t size)
{
	Elf32_Ehdr *eh = (Elf32_Ehdr *)im->bytes;
	Elf32_Phdr *ph = (Elf32_Phdr *)(im->bytes + sizeof(*eh));

	memset(im, 0, sizeof(*im));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = machine;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	*ph = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = DATA_OFF,
			    .p_vaddr = paddr, .p_paddr = paddr,
			    .p_filesz = size, .p_memsz = size };
	im->size = sizeof(im->bytes);
}

static void put_multiboot_header(struct image *im, uint32_t flags)
{
	uint32_t *h = (uint32_t *)(im->bytes + DATA_OFF);

	h[0] = 0x1badb002;
	h[1] = flags;
	h[2] = -(0x1badb002 + flags);
}

static void write_image(const struct image *im)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(im->bytes, 1, im->size, f), im->size);
	fclose(f);
}

static int load_file(const char *file, struct guest_image *img, struct error *err)
{
	int ret = loader_open(file, img, err);

	if (ret)
		return ret;
	cr_assert_geq(img->fd, 0);
	ret = loader_copy(img, as, err);
	loader_close(img);
	cr_assert_eq(img->fd, -1);
	return ret;
}

static int load(struct guest_image *img, struct error *err)
{
	return load_file(path, img, err);
}

static void expect_error(const char *part)
{
	struct guest_image img;
	struct error err = { "" };

	cr_assert_eq(load(&img, &err), -1, "accepted; wanted '%s'", part);
	cr_assert(strstr(err.msg, part), "'%s' lacks '%s'", err.msg, part);
	cr_assert(!strchr(err.msg, '\n'));
}

Test(loader, elf64_loads_segments_and_zeroes_bss)
{
	struct seg s[] = {
		{ 0x400000, 0x400000, 0x100, 0x2000, DATA_OFF },
		{ 0x800000, 0x800000, 0x10, 0x10, DATA_OFF + 0x200 },
	};
	struct image im;
	struct guest_image img;
	struct error err;
	uint8_t *h = address_space_map_ram(as, 0x400000, 0x2000, false);

	memset(h, 0xee, 0x2000);
	image_elf64(&im, EM_X86_64, 0x400010, s, 2);
	write_image(&im);
	cr_assert_eq(load(&img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.format, GUEST_ELF64);
	cr_assert_eq(img.entry, 0x400010);
	cr_assert_eq(img.load_start, 0x400000);
	cr_assert_eq(img.load_end, 0x800010);
	cr_assert_arr_eq(h, im.bytes + DATA_OFF, 0x100);
	for (int i = 0x100; i < 0x2000; i++)
		cr_assert_eq(h[i], 0, "bss byte %#x", i);
	cr_assert_arr_eq(address_space_map_ram(as, 0x800000, 0x10, false),
			 im.bytes + DATA_OFF + 0x200, 0x10);
}

Test(loader, entry_is_translated_to_physical)
{
	struct seg s[] = { { 0x200000, 0xffffffff80000000ull, 0x100, 0x100, DATA_OFF } };
	struct image im;
	struct guest_image img;
	struct error err;

	image_elf64(&im, EM_X86_64, 0xffffffff80000040ull, s, 1);
	write_image(&im);
	cr_assert_eq(load(&img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.entry, 0x200040);
}

Test(loader, multiboot_elf32)
{
	struct image im;
	struct guest_image img;
	struct error err;

	image_elf32(&im, EM_386, 0x100000, 0x100000, 0x100);
	put_multiboot_header(&im, 0x3);
	write_image(&im);
	cr_assert_eq(load(&img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.format, GUEST_MULTIBOOT);
	cr_assert_eq(img.multiboot_flags, 0x3);
	cr_assert_eq(img.entry, 0x100000);
}

/* As QEMU: a video mode (bit 2) and the other requirement bits do not
 * stop the boot; the flags are kept for the caller to warn about. */
Test(loader, multiboot_requirement_flags_are_accepted)
{
	struct image im;
	struct guest_image img;
	struct error err;

	image_elf32(&im, EM_386, 0x100000, 0x100000, 0x100);
	put_multiboot_header(&im, 0xfffc);
	write_image(&im);
	cr_assert_eq(load(&img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.multiboot_flags, 0xfffc);
	cr_assert(!img.aout_kludge);
}

/* Multiboot header with the a.out kludge fields, at @off of the file. */
static void put_aout_header(struct image *im, size_t off, uint32_t header_addr,
			    uint32_t load_addr, uint32_t load_end, uint32_t bss_end,
			    uint32_t entry)
{
	uint32_t *h = (uint32_t *)(im->bytes + off);
	uint32_t flags = 0x10003;

	h[0] = 0x1badb002;
	h[1] = flags;
	h[2] = -(0x1badb002 + flags);
	h[3] = header_addr;
	h[4] = load_addr;
	h[5] = load_end;
	h[6] = bss_end;
	h[7] = entry;
}

/* A flat binary: bytes 0x7 * i + 1 from offset 0x40; the header at 0x100. */
static void image_flat(struct image *im)
{
	memset(im, 0, sizeof(*im));
	for (int i = 0; i < 0x1000; i++)
		im->bytes[0x40 + i] = (uint8_t)(i * 7 + 1);
	im->size = 0x1040;
}

Test(loader, aout_kludge_flat_binary)
{
	struct image im;
	struct guest_image img;
	struct error err;
	uint8_t *h = address_space_map_ram(as, 0x200000, 0x1000, false);

	memset(h, 0xee, 0x1000);
	image_flat(&im);
	/* File offset 0x40 loads at 0x200000: 0x300 bytes, then bss to 0x800. */
	put_aout_header(&im, 0x100, 0x2000c0, 0x200000, 0x200300, 0x200800, 0x200010);
	write_image(&im);
	cr_assert_eq(load(&img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.format, GUEST_MULTIBOOT);
	cr_assert(img.aout_kludge);
	cr_assert_eq(img.entry, 0x200010);
	cr_assert_eq(img.nseg, 1);
	cr_assert_eq(img.load_start, 0x200000);
	cr_assert_eq(img.load_end, 0x200800);
	cr_assert_arr_eq(h, im.bytes + 0x40, 0x300);
	for (int i = 0x300; i < 0x800; i++)
		cr_assert_eq(h[i], 0, "bss byte %#x", i);
	cr_assert_eq(h[0x800], 0xee, "past bss_end_addr");
}

Test(loader, aout_kludge_load_end_zero_loads_to_the_end_of_the_file)
{
	struct image im;
	struct guest_image img;
	struct error err;

	image_flat(&im);
	put_aout_header(&im, 0x100, 0x2000c0, 0x200000, 0, 0, 0x200000);
	write_image(&im);
	cr_assert_eq(load(&img, &err), 0, "%s", err.msg);
	cr_assert_eq(img.seg[0].filesz, 0x1000);
	cr_assert_eq(img.seg[0].memsz, 0x1000);
	cr_assert_arr_eq(address_space_map_ram(as, 0x200000, 0x1000, false),
			 im.bytes + 0x40, 0x1000);
}

/* QEMU loads an ELF that sets flag 16 by the header's addresses too. */
Test(loader, aout_kludge_wins_over_elf_headers)
{
	struct image im;
	struct guest_image img;
	struct error err;

	image_elf32(&im, EM_386, 0x100000, 0x100000, 0x100);
	put_aout_header(&im, DATA_OFF, 0x300000, 0x300000, 0x300100, 0x300200, 0x300020);
	write_image(&im);
	cr_assert_eq(load(&img, &err), 0, "%s", err.msg);
	cr_assert(img.aout_kludge);
	cr_assert_eq(img.entry, 0x300020);
	cr_assert_eq(img.load_start, 0x300000);
	cr_assert_eq(img.load_end, 0x300200);
	cr_assert_arr_eq(address_space_map_ram(as, 0x300000, 0x100, false),
			 im.bytes + DATA_OFF, 0x100);
}

Test(loader, bad_aout_kludge)
{
	struct image im;

	image_flat(&im);
	put_aout_header(&im, 0x100, 0x200000, 0x200010, 0x200300, 0, 0x200010);
	write_image(&im);
	expect_error("do not fit the header");		/* load_addr > header_addr */
	put_aout_header(&im, 0x100, 0x201000, 0x200000, 0x200300, 0, 0x201000);
	write_image(&im);
	expect_error("do not fit the header");		/* before the file's start */
	put_aout_header(&im, 0x100, 0x2000c0, 0x200000, 0x1ff000, 0, 0x200000);
	write_image(&im);
	expect_error("below load_addr");
	put_aout_header(&im, 0x100, 0x2000c0, 0x200000, 0x202000, 0, 0x200000);
	write_image(&im);
	expect_error("beyond the end of the file");
	put_aout_header(&im, 0x100, 0x2000c0, 0x200000, 0x200300, 0x200100, 0x200000);
	write_image(&im);
	expect_error("bss_end_addr");
	put_aout_header(&im, 0x100, 0x2000c0, 0x200000, 0x200300, 0x200400, 0x200400);
	write_image(&im);
	expect_error("entry_addr");
	put_aout_header(&im, 0x100, 0x2000c0, 0x200000, 0x200300, 0, 0x200000);
	im.size = 0x110;			/* the address fields cut off */
	write_image(&im);
	expect_error("cut short");
}

Test(loader, flat_binary_needs_the_aout_kludge)
{
	struct image im;

	image_flat(&im);
	put_multiboot_header(&im, 0x3);		/* at DATA_OFF, no flag 16 */
	write_image(&im);
	expect_error("no load addresses (flag 16");
}

Test(loader, elf32_without_multiboot)
{
	struct image im;

	image_elf32(&im, EM_386, 0x100000, 0x100000, 0x100);
	write_image(&im);
	expect_error("without a multiboot header");
}

Test(loader, wrong_machine)
{
	struct seg s[] = { { 0x400000, 0x400000, 0x100, 0x100, DATA_OFF } };
	struct image im;

	image_elf64(&im, EM_AARCH64, 0x400000, s, 1);
	write_image(&im);
	expect_error("not x86");
	image_elf32(&im, EM_ARM, 0x100000, 0x100000, 0x100);
	write_image(&im);
	expect_error("not x86");
}

Test(loader, not_an_executable)
{
	struct seg s[] = { { 0x400000, 0x400000, 0x100, 0x100, DATA_OFF } };
	struct image im;

	image_elf64(&im, EM_X86_64, 0x400000, s, 1);
	((Elf64_Ehdr *)im.bytes)->e_type = ET_DYN;
	write_image(&im);
	expect_error("not an executable");
}

Test(loader, bad_files)
{
	struct image im = { .size = 0 };
	struct guest_image img;
	struct error err;

	write_image(&im);
	expect_error("is empty");
	memcpy(im.bytes, "#!/bin/sh\necho hi\n", 18);
	im.size = 18;
	write_image(&im);
	expect_error("not an ELF file");
	cr_assert_eq(load_file("/nonexistent/guest.elf", &img, &err), -1);
	cr_assert(strstr(err.msg, "cannot open"));
	cr_assert_eq(load_file("/tmp", &img, &err), -1);
	cr_assert(strstr(err.msg, "not a regular file"));
}

Test(loader, truncated_file)
{
	struct seg s[] = { { 0x400000, 0x400000, 0x100, 0x100, DATA_OFF } };
	struct image im;

	image_elf64(&im, EM_X86_64, 0x400000, s, 1);
	im.size = 40;			/* inside the ELF header */
	write_image(&im);
	expect_error("truncated or corrupt");
	im.size = sizeof(Elf64_Ehdr) + 10;	/* inside the program headers */
	write_image(&im);
	expect_error("truncated or corrupt");
	im.size = DATA_OFF + 0x80;	/* inside the segment's bytes */
	write_image(&im);
	expect_error("beyond the end of the file");
}

Test(loader, bad_segments)
{
	struct image im;
	struct seg filesz_big[] = { { 0x400000, 0x400000, 0x200, 0x100, DATA_OFF } };
	struct seg outside[] = { { RAM_SIZE - 0x80, RAM_SIZE - 0x80, 0x100, 0x100, DATA_OFF } };
	struct seg huge[] = { { 0x400000, 0x400000, 0x100, 1ull << 62, DATA_OFF } };
	struct seg wraps[] = { { 0xfffffffffffff000ull, 0x400000, 0x100, 0x2000, DATA_OFF } };
	struct seg overlap[] = { { 0x400000, 0x400000, 0x100, 0x1000, DATA_OFF },
				 { 0x400800, 0x400800, 0x100, 0x100, DATA_OFF } };
	struct seg off_huge[] = { { 0x400000, 0x400000, 0x100, 0x100, UINT64_MAX - 0x10 } };

	image_elf64(&im, EM_X86_64, 0x400000, filesz_big, 1);
	write_image(&im);
	expect_error("p_filesz");
	image_elf64(&im, EM_X86_64, RAM_SIZE - 0x80, outside, 1);
	write_image(&im);
	expect_error("outside guest RAM");
	image_elf64(&im, EM_X86_64, 0x400000, huge, 1);
	write_image(&im);
	expect_error("outside guest RAM");
	image_elf64(&im, EM_X86_64, 0x400000, wraps, 1);
	write_image(&im);
	expect_error("wraps");
	image_elf64(&im, EM_X86_64, 0x400000, overlap, 2);
	write_image(&im);
	expect_error("overlap");
	image_elf64(&im, EM_X86_64, 0x400000, off_huge, 1);
	write_image(&im);
	expect_error("beyond the end of the file");
}

Test(loader, entry_outside_segments)
{
	struct seg s[] = { { 0x400000, 0x400000, 0x100, 0x100, DATA_OFF } };
	struct image im;

	image_elf64(&im, EM_X86_64, 0x500000, s, 1);
	write_image(&im);
	expect_error("entry point");
}

Test(loader, no_loadable_segment)
{
	struct image im;

	image_elf64(&im, EM_X86_64, 0x400000, NULL, 0);
	write_image(&im);
	expect_error("no loadable segment");
}

Test(loader, bad_image_leaves_ram_untouched)
{
	struct seg s[] = { { 0x400000, 0x400000, 0x100, 0x100, DATA_OFF },
			   { RAM_SIZE - 0x10, RAM_SIZE - 0x10, 0x100, 0x100, DATA_OFF } };
	struct image im;
	uint8_t *h = address_space_map_ram(as, 0x400000, 0x100, false);

	memset(h, 0x5a, 0x100);
	image_elf64(&im, EM_X86_64, 0x400000, s, 2);
	write_image(&im);
	expect_error("outside guest RAM");
	for (int i = 0; i < 0x100; i++)
		cr_assert_eq(h[i], 0x5a);
}
