/* Boot layout: where an image may load, where the boot data goes around it
 * (vmm/boot.h's rules), the memory map the guest is told, and what the
 * multiboot info and the first registers hold. No KVM: the plan is pure and
 * the writes go to a RAM-only address space. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/loader.h"
#include "vmm/multiboot.h"

#define MiB		(1ull << 20)
#define GiB		(1ull << 30)

static struct guest_image img;
static struct boot_config cfg;
static struct boot_layout l;
static struct error err;

/* An image of @n segments [start, end) pairs. */
static void image(enum guest_format fmt, unsigned n, const uint64_t (*r)[2])
{
	memset(&img, 0, sizeof(img));
	img.path = "g.elf";
	img.fd = -1;
	img.format = fmt;
	for (unsigned i = 0; i < n; i++)
		img.seg[i] = (struct guest_segment){ .paddr = r[i][0], .vaddr = r[i][0],
						     .memsz = r[i][1] - r[i][0] };
	img.nseg = n;
	img.entry = r[0][0];
	img.load_start = r[0][0];
	img.load_end = r[n - 1][1];
}

static void config(uint64_t ram)
{
	cfg = (struct boot_config){ .ram_size = ram, .acpi_size = ACPI_TABLES_SIZE,
				    .cmdline = "g.elf x y" };
}

static void plan_ok(void)
{
	cr_assert_eq(boot_plan(&l, &cfg, &img, &err), 0, "%s", err.msg);
}

static void plan_fails(const char *part1, const char *part2)
{
	cr_assert_eq(boot_plan(&l, &cfg, &img, &err), -1, "accepted; wanted '%s'", part1);
	cr_assert(strstr(err.msg, part1), "'%s' lacks '%s'", err.msg, part1);
	cr_assert(!part2 || strstr(err.msg, part2), "'%s' lacks '%s'", err.msg, part2);
	cr_assert(!strchr(err.msg, '\n'));
}

TestSuite(boot_layout);

Test(boot_layout, multiboot_image_at_1mib_as_qemu)
{
	const uint64_t seg[][2] = { { 0x100000, 0x1042a4 } };

	image(GUEST_MULTIBOOT, 1, seg);
	config(128 * MiB);
	plan_ok();
	cr_assert_eq(l.low_ram_end, 128 * MiB);
	cr_assert_eq(l.acpi, 128 * MiB - 0x10000);
	cr_assert_eq(l.rsdp, 0xf0000);
	cr_assert_eq(l.mmap, 0x9000);		/* QEMU's addresses */
	cr_assert_eq(l.mbi, 0x9500);
	cr_assert_eq(l.stack_top, 0x9000);
	cr_assert(l.gdt >= 0x9500 + 0x58 && l.gdt + 24 <= l.block_end);
	cr_assert_eq(l.info, 0x105000);		/* the page after the image */
	cr_assert_eq(l.info_end, 0x105000 + strlen("g.elf x y") + 1 + strlen("tinyvmm") + 1);
	cr_assert_eq(l.page_tables, 0);
}

/* ld's default script puts the ELF headers in a segment at 0xff000. */
Test(boot_layout, headers_segment_at_0xff000_is_fine)
{
	const uint64_t seg[][2] = { { 0xff000, 0xff0b0 }, { 0x100000, 0x101000 } };

	image(GUEST_ELF64, 2, seg);
	config(128 * MiB);
	plan_ok();
	cr_assert_eq(l.rsdp, 0xf0000);
	image(GUEST_MULTIBOOT, 2, seg);
	plan_ok();
	cr_assert_eq(l.info, 0x101000);
}

Test(boot_layout, rsdp_goes_where_the_image_is_not)
{
	const uint64_t low_f[][2] = { { 0xf0000, 0xf0024 }, { 0x100000, 0x101000 } };
	const uint64_t f_seg[][2] = { { 0xf0000, 0x101000 } };
	const uint64_t e_f_seg[][2] = { { 0xdfff0, 0x101000 } };
	const uint64_t all[][2] = { { 0x9fc00, 0xa0000 }, { 0xc0000, 0x101000 } };
	const uint64_t almost[][2] = { { 0x9fc00, 0x9fff0 }, { 0xc0000, 0x101000 } };

	config(128 * MiB);
	image(GUEST_ELF64, 2, low_f);
	plan_ok();
	cr_assert_eq(l.rsdp, 0xf0030);		/* 16-byte aligned after it */
	image(GUEST_ELF64, 1, f_seg);
	plan_ok();
	cr_assert_eq(l.rsdp, 0xe0000);
	image(GUEST_ELF64, 1, e_f_seg);
	plan_ok();
	cr_assert_eq(l.rsdp, 0x9fc00);		/* the first KiB of the EBDA */
	image(GUEST_ELF64, 2, all);
	plan_fails("every place for the ACPI RSDP", "[0x9fc00, 0xa0000)");
	image(GUEST_ELF64, 2, almost);
	plan_fails("every place for the ACPI RSDP", NULL);	/* 16 bytes left: too few */
}

Test(boot_layout, elf64_block_below_the_ebda)
{
	const uint64_t seg[][2] = { { 0x400000, 0x401000 } };

	image(GUEST_ELF64, 1, seg);
	config(128 * MiB);
	plan_ok();
	/* 16 KiB stack, GDT page, PML4, PDPT, 4 page directories. */
	cr_assert_eq(l.block_end, 0x9f000);
	cr_assert_eq(l.block, 0x9f000 - 0x4000 - 0x1000 - 6 * 0x1000);
	cr_assert_eq(l.stack_top, l.block + 0x4000);
	cr_assert_eq(l.gdt, l.stack_top);
	cr_assert_eq(l.page_tables, l.gdt + 0x1000);
	cr_assert_eq(l.mbi, 0);
	config(64 * GiB);			/* RAM to 65 GiB: 65 page directories */
	plan_ok();
	cr_assert_eq(l.block_end, 0x9f000);
	cr_assert_eq(l.block_end - l.page_tables, 67 * 0x1000);
}

Test(boot_layout, image_over_low_memory_moves_the_block_after_it)
{
	const uint64_t elf64[][2] = { { 0x0, 0x9f000 } };
	const uint64_t mb[][2] = { { 0x1000, 0x9f000 } };

	config(128 * MiB);
	image(GUEST_ELF64, 1, elf64);
	plan_ok();
	cr_assert_eq(l.block, 0x100000);	/* past the EBDA..1 MiB area */
	image(GUEST_MULTIBOOT, 1, mb);
	plan_ok();
	cr_assert_eq(l.block, 0x100000);
	cr_assert_eq(l.mbi, 0x101500);
	cr_assert_eq(l.info, 0x9f000);		/* small: the free page below the EBDA */
}

Test(boot_layout, huge_images)
{
	const uint64_t to_acpi[][2] = { { 0x100000, 128 * MiB - 0x10000 } };
	const uint64_t high[][2] = { { 0x100000, 0x200000 }, { 4 * GiB, 12 * GiB } };

	config(128 * MiB);
	image(GUEST_ELF64, 1, to_acpi);
	plan_ok();				/* the block fits in low memory */
	image(GUEST_MULTIBOOT, 1, to_acpi);
	plan_fails("no room for the multiboot info", "0x7ff0000");
	config(11 * GiB);			/* 3 GiB low, 8 GiB from 4 GiB */
	image(GUEST_ELF64, 2, high);
	plan_ok();
}

Test(boot_layout, segments_over_what_is_not_ram)
{
	const uint64_t lapic[][2] = { { 0xfedff000, 0xfee00010 } };
	const uint64_t acpi[][2] = { { 0x7fe0000, 0x7ff0010 } };
	const uint64_t vga[][2] = { { 0x9f000, 0xa0001 } };
	const uint64_t rom[][2] = { { 0xffff0000, 0xffff0010 } };
	const uint64_t past[][2] = { { 0x7000000, 0x9000000 } };
	const uint64_t past_high[][2] = { { 0x17ffff000, 0x180001000 } };
	const uint64_t hole[][2] = { { 0xc0000000, 0xc0001000 } };

	config(128 * MiB);
	image(GUEST_ELF64, 1, lapic);
	plan_fails("segment [0xfedff000, 0xfee00010) overlaps the local APIC page "
		   "[0xfee00000, 0xfee01000)", NULL);
	image(GUEST_ELF64, 1, acpi);
	plan_fails("segment [0x7fe0000, 0x7ff0010) overlaps the ACPI tables "
		   "[0x7ff0000, 0x8000000)", NULL);
	image(GUEST_ELF64, 1, vga);
	plan_fails("overlaps the VGA hole [0xa0000, 0xc0000)", NULL);
	image(GUEST_ELF64, 1, rom);
	plan_fails("overlaps the BIOS ROM [0xffff0000, 0x100000000)", NULL);
	image(GUEST_ELF64, 1, past);
	plan_fails("overlaps the ACPI tables", NULL);
	config(5 * GiB);
	image(GUEST_ELF64, 1, past_high);
	plan_fails("segment [0x17ffff000, 0x180001000) is outside guest RAM "
		   "[0, 0xbfff0000) and [0x100000000, 0x180000000)", "--mem");
	image(GUEST_ELF64, 1, hole);
	plan_fails("outside guest RAM", NULL);
	config(2 * MiB);
	image(GUEST_ELF64, 1, (const uint64_t[][2]){ { 0x400000, 0x401000 } });
	plan_fails("segment [0x400000, 0x401000) is outside guest RAM [0, 0x1f0000)", NULL);
}

static const struct boot_module two_modules[] = {
	{ "a", "a args a1", 0x11 },
	{ "b", "b", 0x1388 },
};

/* As QEMU: module list and strings after the image, then each module on
 * the next free page. */
Test(boot_layout, modules_page_aligned_after_the_info)
{
	const uint64_t seg[][2] = { { 0x100000, 0x1042a4 } };

	image(GUEST_MULTIBOOT, 1, seg);
	config(128 * MiB);
	cfg.modules = two_modules;
	cfg.nmodules = 2;
	plan_ok();
	cr_assert_eq(l.info, 0x105000);
	cr_assert_eq(l.info_end, 0x105000 + 2 * 16 + sizeof("a args a1") + sizeof("b") +
		     sizeof("g.elf x y") + sizeof("tinyvmm"));
	cr_assert_eq(l.nmodules, 2);
	cr_assert_eq(l.modules[0], 0x106000);
	cr_assert_eq(l.modules[1], 0x107000);
}

Test(boot_layout, modules_that_do_not_fit)
{
	const uint64_t seg[][2] = { { 0x100000, 0x101000 } };
	const struct boot_module big[] = { { "big", "big", 127 * MiB } };

	image(GUEST_MULTIBOOT, 1, seg);
	config(128 * MiB);
	cfg.modules = big;
	cfg.nmodules = 1;
	plan_fails("module 'big'", "does not fit");
	image(GUEST_ELF64, 1, seg);
	cfg.modules = two_modules;
	cfg.nmodules = 2;
	plan_fails("not a multiboot image", NULL);
}

static void expect_e820(uint64_t ram, const struct e820_entry *want, unsigned n)
{
	const uint64_t seg[][2] = { { 0x100000, 0x101000 } };
	struct e820_entry map[BOOT_E820_MAX];

	image(GUEST_ELF64, 1, seg);
	config(ram);
	plan_ok();
	cr_assert_eq(boot_e820(&l, map), n, "ram %#llx", (unsigned long long)ram);
	for (unsigned i = 0; i < n; i++)
		cr_assert(map[i].addr == want[i].addr && map[i].len == want[i].len &&
			  map[i].type == want[i].type,
			  "ram %#llx entry %u: %#llx+%#llx type %u", (unsigned long long)ram,
			  i, (unsigned long long)map[i].addr, (unsigned long long)map[i].len,
			  map[i].type);
}

#define LOW_ENTRIES \
	{ 0, 0x9fc00, E820_RAM }, { 0x9fc00, 0x400, E820_RESERVED }, \
	{ 0xf0000, 0x10000, E820_RESERVED }

Test(boot_layout, e820_maps)
{
	const struct e820_entry m2[] = {
		LOW_ENTRIES, { 0x100000, 0xf0000, E820_RAM },
		{ 0x1f0000, 0x10000, E820_RESERVED }, { 0xffff0000, 0x10000, E820_RESERVED },
	};
	const struct e820_entry m128[] = {
		LOW_ENTRIES, { 0x100000, 0x7ef0000, E820_RAM },
		{ 0x7ff0000, 0x10000, E820_RESERVED }, { 0xffff0000, 0x10000, E820_RESERVED },
	};
	const struct e820_entry m3g[] = {
		LOW_ENTRIES, { 0x100000, 0xbfef0000, E820_RAM },
		{ 0xbfff0000, 0x10000, E820_RESERVED }, { 0xffff0000, 0x10000, E820_RESERVED },
	};
	const struct e820_entry m5g[] = {
		LOW_ENTRIES, { 0x100000, 0xbfef0000, E820_RAM },
		{ 0xbfff0000, 0x10000, E820_RESERVED }, { 0xffff0000, 0x10000, E820_RESERVED },
		{ 0x100000000, 0x80000000, E820_RAM },
	};

	expect_e820(2 * MiB, m2, 6);
	expect_e820(128 * MiB, m128, 6);
	expect_e820(3 * GiB, m3g, 6);
	expect_e820(5 * GiB, m5g, 7);
}

Test(boot_layout, ram_too_small)
{
	const uint64_t seg[][2] = { { 0x1000, 0x2000 } };

	image(GUEST_ELF64, 1, seg);
	config(1 * MiB);
	plan_fails("too small", NULL);
}

/* ---- writing: a RAM-only machine of 16 MiB ---- */

#define RAM_SIZE	(16 * MiB)

static struct ram_block ram;
static struct memory_region root, ram_mr;
static struct address_space *as;
static char mod_path[2][64];

static void ram_setup(void)
{
	cr_assert_eq(ram_block_init(&ram, "ram", RAM_SIZE), 0);
	memory_region_init_container(&root, "root", UINT64_MAX);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, RAM_SIZE);
	memory_region_add_subregion(&root, 0, &ram_mr, 0);
	as = address_space_new("system", &root);
}

static void ram_teardown(void)
{
	address_space_destroy(as);
	memory_region_del_subregion(&root, &ram_mr);
	ram_block_destroy(&ram);
	for (int i = 0; i < 2; i++)
		if (mod_path[i][0])
			unlink(mod_path[i]);
}

TestSuite(boot_write, .init = ram_setup, .fini = ram_teardown);

static void *gpa(uint64_t a)
{
	void *p = address_space_map_ram(as, a, 1, false);

	cr_assert_not_null(p, "%#llx", (unsigned long long)a);
	return p;
}

static uint32_t u32_at(uint64_t a)
{
	uint32_t v;

	memcpy(&v, gpa(a), 4);
	return v;
}

static void make_module(int i, const char *bytes, size_t n)
{
	FILE *f;

	strcpy(mod_path[i], "/tmp/tinyvmm-module-XXXXXX");
	close(mkstemp(mod_path[i]));
	f = fopen(mod_path[i], "wb");
	cr_assert_eq(fwrite(bytes, 1, n, f), n);
	fclose(f);
}

static void prepare(struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	memset(sregs, 0, sizeof(*sregs));
	cr_assert_eq(boot_prepare(as, &l, &cfg, &img, regs, sregs, &err), 0, "%s", err.msg);
}

Test(boot_write, multiboot_info_modules_and_registers)
{
	const uint64_t seg[][2] = { { 0x100000, 0x1042a4 } };
	struct boot_module mods[2];
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t mbi, mods_addr, mmap;

	make_module(0, "MODULE-A-CONTENT\n", 17);
	make_module(1, "bb", 2);
	mods[0] = (struct boot_module){ mod_path[0], "first args", 0 };
	mods[1] = (struct boot_module){ mod_path[1], "second", 0 };
	for (int i = 0; i < 2; i++)
		cr_assert_eq(multiboot_module_size(mods[i].path, &mods[i].size, &err), 0);
	cr_assert_eq(mods[0].size, 17);
	image(GUEST_MULTIBOOT, 1, seg);
	config(RAM_SIZE);
	cfg.modules = mods;
	cfg.nmodules = 2;
	plan_ok();
	prepare(&regs, &sregs);

	cr_assert_eq(regs.rax, 0x2badb002);
	cr_assert_eq(regs.rbx, 0x9500);
	cr_assert_eq(regs.rsp, 0x9000);
	cr_assert_eq(regs.rip, 0x100000);
	cr_assert_eq(sregs.cs.selector, 0x08);
	cr_assert(sregs.cs.db && !sregs.cs.l);
	cr_assert_eq(sregs.ds.selector, 0x10);
	cr_assert_eq(sregs.cr0, 0x11);		/* PE | ET, as QEMU */
	cr_assert_eq(sregs.gdt.base, l.gdt);

	mbi = regs.rbx;
	cr_assert_eq(u32_at(mbi), 0x24f);	/* QEMU's flags */
	cr_assert_eq(u32_at(mbi + 4), 639);
	cr_assert_eq(u32_at(mbi + 8), (RAM_SIZE - 0x10000 - MiB) >> 10);
	cr_assert_eq(u32_at(mbi + 12), 0x8000ffff);
	cr_assert_str_eq(gpa(u32_at(mbi + 16)), "g.elf x y");
	cr_assert_eq(u32_at(mbi + 20), 2);
	mods_addr = u32_at(mbi + 24);
	cr_assert_eq(mods_addr, 0x105000);
	cr_assert_eq(u32_at(mods_addr), 0x106000);
	cr_assert_eq(u32_at(mods_addr + 4), 0x106000 + 17);
	cr_assert_str_eq(gpa(u32_at(mods_addr + 8)), "first args");
	cr_assert_eq(u32_at(mods_addr + 16), 0x107000);
	cr_assert_eq(u32_at(mods_addr + 20), 0x107002);
	cr_assert_str_eq(gpa(u32_at(mods_addr + 24)), "second");
	cr_assert_arr_eq(gpa(0x106000), "MODULE-A-CONTENT\n", 17);
	cr_assert_arr_eq(gpa(0x107000), "bb", 2);
	cr_assert_str_eq(gpa(u32_at(mbi + 64)), "tinyvmm");
	mmap = u32_at(mbi + 48);
	cr_assert_eq(mmap, 0x9000);
	cr_assert_eq(u32_at(mbi + 44), 6 * 24);
	cr_assert_eq(u32_at(mmap), 20);		/* size, then [0, 639 KiB) RAM */
	cr_assert_eq(u32_at(mmap + 12), 0x9fc00);
	cr_assert_eq(u32_at(mmap + 20), 1);
}

Test(boot_write, module_that_changed_size_is_refused)
{
	const uint64_t seg[][2] = { { 0x100000, 0x101000 } };
	struct boot_module mod;
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	make_module(0, "12345678", 8);
	mod = (struct boot_module){ mod_path[0], mod_path[0], 4 };	/* planned: 4 */
	image(GUEST_MULTIBOOT, 1, seg);
	config(RAM_SIZE);
	cfg.modules = &mod;
	cfg.nmodules = 1;
	plan_ok();
	cr_assert_eq(boot_prepare(as, &l, &cfg, &img, &regs, &sregs, &err), -1);
	cr_assert(strstr(err.msg, "changed size"), "%s", err.msg);
	cr_assert_eq(multiboot_module_size("/nonexistent/mod", &mod.size, &err), -1);
	cr_assert(strstr(err.msg, "cannot open module '/nonexistent/mod'"), "%s", err.msg);
}

Test(boot_write, elf64_page_tables_gdt_and_registers)
{
	const uint64_t seg[][2] = { { 0x400000, 0x401000 } };
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t pml4, pdpt, pd3;

	image(GUEST_ELF64, 1, seg);
	config(RAM_SIZE);
	plan_ok();
	prepare(&regs, &sregs);
	cr_assert_eq(regs.rip, 0x400000);
	cr_assert_eq(regs.rsp, l.stack_top);
	cr_assert_eq(sregs.cr3, l.page_tables);
	cr_assert_eq(sregs.cs.selector, 0x08);
	cr_assert(sregs.cs.l);
	memcpy(&pml4, gpa(l.page_tables), 8);
	cr_assert_eq(pml4 & ~0xfffull, l.page_tables + 0x1000);
	memcpy(&pdpt, gpa(l.page_tables + 0x1000 + 3 * 8), 8);	/* the 4th GiB */
	cr_assert_eq(pdpt & ~0xfffull, l.page_tables + 5 * 0x1000);
	memcpy(&pd3, gpa(l.page_tables + 5 * 0x1000 + 511 * 8), 8);
	cr_assert_eq(pd3 & ~0xfffull, 0xffe00000);
	cr_assert(pd3 & 0x18, "the device hole is uncached");
	cr_assert_eq(*(uint64_t *)gpa(l.gdt + 8), 0x00af9a000000ffffull);
}
