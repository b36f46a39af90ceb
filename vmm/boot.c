#include "vmm/boot.h"

#include <stdbool.h>
#include <string.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "vmm/acpi.h"
#include "vmm/layout.h"
#include "vmm/loader.h"
#include "vmm/multiboot.h"

#define PAGE_SIZE		0x1000ull
#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((a) - 1))

/* The boot block's usual places (see boot.h). */
#define MB_BLOCK_BASE		0x8000ull
#define ELF64_BLOCK_TOP		0x9f000ull
#define ELF64_STACK_SIZE	0x4000ull

#define GDT_CODE		0x08
#define GDT_DATA		0x10

#define CR0_PE			(1u << 0)
#define CR0_MP			(1u << 1)
#define CR0_ET			(1u << 4)
#define CR0_NE			(1u << 5)
#define CR0_WP			(1u << 16)
#define CR0_PG			(1u << 31)
#define CR4_PAE			(1u << 5)
#define CR4_OSFXSR		(1u << 9)
#define CR4_OSXMMEXCPT		(1u << 10)
#define EFER_LME		(1u << 8)
#define EFER_LMA		(1u << 10)

#define PTE_P			(1ull << 0)
#define PTE_RW			(1ull << 1)
#define PTE_PWT			(1ull << 3)
#define PTE_PCD			(1ull << 4)
#define PTE_PS			(1ull << 7)

/* Flat 4 GiB segments; code at 0x08 and data at 0x10 in both, as QEMU's
 * multiboot loader has them. */
static const uint64_t gdt_elf64[] = {
	0,
	0x00af9a000000ffffull,	/* 0x08: 64-bit code */
	0x00cf92000000ffffull,	/* 0x10: data */
};

static const uint64_t gdt_multiboot[] = {
	0,
	0x00cf9a000000ffffull,	/* 0x08: 32-bit code */
	0x00cf92000000ffffull,	/* 0x10: data */
};

#define MB_BLOCK_SIZE		(PAGE_SIZE + MULTIBOOT_INFO_END + sizeof(gdt_multiboot))

struct named_range {
	uint64_t start, end;
	const char *what;
};

/* Guest RAM that boot data must not take, sorted by start. */
struct busy {
	struct { uint64_t start, end; } r[LOADER_MAX_SEGMENTS + BOOT_MAX_MODULES + 4];
	unsigned n;
	uint64_t limit;		/* nothing is placed at or above it */
};

static void busy_add(struct busy *b, uint64_t start, uint64_t end)
{
	unsigned i = b->n++;

	for (; i && b->r[i - 1].start > start; i--)
		b->r[i] = b->r[i - 1];
	b->r[i].start = start;
	b->r[i].end = end;
}

static bool busy_is_free(const struct busy *b, uint64_t at, uint64_t size)
{
	if (size > b->limit || at > b->limit - size)
		return false;
	for (unsigned i = 0; i < b->n; i++)
		if (b->r[i].start < at + size && at < b->r[i].end)
			return false;
	return true;
}

/* The first free page at or above @from that holds @size bytes. */
static bool busy_place(const struct busy *b, uint64_t from, uint64_t size,
		       uint64_t *at)
{
	uint64_t a = ALIGN_UP(from, PAGE_SIZE);

	for (unsigned i = 0; i < b->n && a <= b->limit; i++) {
		if (b->r[i].end <= a)
			continue;
		if (b->r[i].start >= a + size)
			break;
		a = ALIGN_UP(b->r[i].end, PAGE_SIZE);
	}
	*at = a;
	return size <= b->limit && a <= b->limit - size;
}

static int check_segment(const struct boot_layout *l, const struct guest_image *img,
			 const struct guest_segment *s, struct error *err)
{
	const struct named_range fixed[] = {
		{ VGA_HOLE_BASE, VGA_HOLE_END, "the VGA hole" },
		{ l->acpi, l->low_ram_end, "the ACPI tables" },
		{ LAPIC_PAGE_BASE, LAPIC_PAGE_BASE + LAPIC_PAGE_SIZE, "the local APIC page" },
		{ BIOS_ROM_BASE, BIOS_ROM_BASE + BIOS_ROM_SIZE, "the BIOS ROM" },
	};
	uint64_t end = s->paddr + s->memsz;
	uint64_t high_end = HIGH_RAM_BASE + l->high_ram_size;

	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (s->paddr < fixed[i].end && fixed[i].start < end)
			return error_setf(err, "'%s': segment [%#llx, %#llx) overlaps %s "
					  "[%#llx, %#llx)", img->path,
					  (unsigned long long)s->paddr, (unsigned long long)end,
					  fixed[i].what, (unsigned long long)fixed[i].start,
					  (unsigned long long)fixed[i].end);
	if (end <= l->low_ram_end ||
	    (s->paddr >= HIGH_RAM_BASE && end <= high_end))
		return 0;
	if (l->high_ram_size)
		return error_setf(err, "'%s': segment [%#llx, %#llx) is outside guest RAM "
				  "[0, %#llx) and [%#llx, %#llx); try a larger --mem",
				  img->path, (unsigned long long)s->paddr,
				  (unsigned long long)end, (unsigned long long)l->acpi,
				  HIGH_RAM_BASE, (unsigned long long)high_end);
	return error_setf(err, "'%s': segment [%#llx, %#llx) is outside guest RAM "
			  "[0, %#llx); try a larger --mem", img->path,
			  (unsigned long long)s->paddr, (unsigned long long)end,
			  (unsigned long long)l->acpi);
}

/* The lowest 16-byte slot of [@from, @to) no segment covers, or 0. */
static uint64_t free_rsdp_slot(const struct guest_image *img, uint64_t from,
			       uint64_t to)
{
	uint64_t a = from;

	for (unsigned i = 0; i < img->nseg; i++) {
		const struct guest_segment *s = &img->seg[i];

		if (s->paddr + s->memsz <= a)
			continue;
		if (s->paddr >= a + ACPI_RSDP_SIZE)
			break;
		a = ALIGN_UP(s->paddr + s->memsz, 16);
	}
	return a + ACPI_RSDP_SIZE <= to ? a : 0;
}

/* Where guests scan: the f-segment (where SeaBIOS puts it), the rest of
 * 0xE0000-0xFFFFF, the first KiB of the EBDA. */
static int place_rsdp(struct boot_layout *l, const struct guest_image *img,
		      struct error *err)
{
	static const struct { uint64_t from, to; } areas[] = {
		{ F_SEGMENT_BASE, HIGH_MEMORY_BASE },
		{ RSDP_AREA_BASE, F_SEGMENT_BASE },
		{ EBDA_BASE, EBDA_BASE + 0x400 },
	};

	for (unsigned i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
		l->rsdp = free_rsdp_slot(img, areas[i].from, areas[i].to);
		if (l->rsdp)
			return 0;
	}
	return error_setf(err, "'%s': the image covers every place for the ACPI RSDP "
			  "([%#llx, %#llx) and [%#llx, %#llx))", img->path,
			  RSDP_AREA_BASE, HIGH_MEMORY_BASE, EBDA_BASE, EBDA_BASE + 0x400);
}

/* At @preferred when the image leaves it free, else after the image. */
static int place_block(struct boot_layout *l, struct busy *b,
		       const struct guest_image *img, uint64_t preferred,
		       uint64_t size, struct error *err)
{
	uint64_t at = preferred;

	if (!busy_is_free(b, at, size) && !busy_place(b, img->load_end, size, &at))
		return error_setf(err, "'%s': no room for the boot data (%#llx bytes) "
				  "beside the image below the ACPI tables at %#llx; "
				  "try a larger --mem", img->path,
				  (unsigned long long)size, (unsigned long long)l->acpi);
	l->block = at;
	l->block_end = at + size;
	busy_add(b, at, at + size);
	return 0;
}

/* One PML4, one PDPT, one page directory per GiB up to the end of RAM (at
 * least 4 GiB, so the device hole is mapped). */
static uint64_t page_directories(const struct boot_layout *l)
{
	return (HIGH_RAM_BASE + l->high_ram_size + (1ull << 30) - 1) >> 30;
}

/* Stack, GDT page, page tables. */
static int plan_elf64(struct boot_layout *l, struct busy *b,
		      const struct guest_image *img, struct error *err)
{
	uint64_t size = ELF64_STACK_SIZE + PAGE_SIZE + (2 + page_directories(l)) * PAGE_SIZE;

	if (place_block(l, b, img, ELF64_BLOCK_TOP - size, size, err))
		return -1;
	l->stack_top = l->block + ELF64_STACK_SIZE;
	l->gdt = l->stack_top;
	l->page_tables = l->gdt + PAGE_SIZE;
	return 0;
}

/* Stack page, memory map, info, GDT; then, after the image, the module
 * list and strings, then the modules. */
static int plan_multiboot(struct boot_layout *l, struct busy *b,
			  const struct boot_config *cfg, const struct guest_image *img,
			  struct error *err)
{
	uint64_t size = multiboot_info_size(cfg), from;

	if (place_block(l, b, img, MB_BLOCK_BASE, MB_BLOCK_SIZE, err))
		return -1;
	l->stack_top = l->mmap = l->block + PAGE_SIZE;
	l->mbi = l->mmap + MULTIBOOT_INFO_OFFSET;
	l->gdt = l->mmap + MULTIBOOT_INFO_END;
	if (!busy_place(b, img->load_end, size, &l->info))
		return error_setf(err, "'%s': no room for the multiboot info (%#llx bytes) "
				  "after the image below the ACPI tables at %#llx; try a "
				  "larger --mem", img->path, (unsigned long long)size,
				  (unsigned long long)l->acpi);
	l->info_end = l->info + size;
	busy_add(b, l->info, l->info_end);
	from = l->info_end;
	for (unsigned i = 0; i < cfg->nmodules; i++) {
		const struct boot_module *m = &cfg->modules[i];

		if (!busy_place(b, from, m->size, &l->modules[i]))
			return error_setf(err, "module '%s' (%llu bytes) does not fit in RAM "
					  "from %#llx to the ACPI tables at %#llx; try a "
					  "larger --mem", m->path, (unsigned long long)m->size,
					  (unsigned long long)ALIGN_UP(from, PAGE_SIZE),
					  (unsigned long long)l->acpi);
		from = l->modules[i] + m->size;
		busy_add(b, l->modules[i], from);
	}
	l->nmodules = cfg->nmodules;
	return 0;
}

int boot_plan(struct boot_layout *l, const struct boot_config *cfg,
	      const struct guest_image *img, struct error *err)
{
	struct busy b = { .n = 0 };

	memset(l, 0, sizeof(*l));
	l->low_ram_end = cfg->ram_size < LOW_RAM_MAX ? cfg->ram_size : LOW_RAM_MAX;
	l->high_ram_size = cfg->ram_size - l->low_ram_end;
	if (l->low_ram_end < HIGH_MEMORY_BASE + cfg->acpi_size)
		return error_setf(err, "guest RAM of %#llx bytes is too small: 1 MiB and "
				  "the ACPI tables need %#llx",
				  (unsigned long long)cfg->ram_size,
				  (unsigned long long)(HIGH_MEMORY_BASE + cfg->acpi_size));
	if (cfg->nmodules > BOOT_MAX_MODULES)
		return error_setf(err, "at most %d multiboot modules", BOOT_MAX_MODULES);
	if (cfg->nmodules && img->format != GUEST_MULTIBOOT)
		return error_setf(err, "'%s' is not a multiboot image: it cannot take "
				  "modules (--initrd)", img->path);
	l->acpi = l->low_ram_end - cfg->acpi_size;
	for (unsigned i = 0; i < img->nseg; i++)
		if (check_segment(l, img, &img->seg[i], err))
			return -1;
	if (place_rsdp(l, img, err))
		return -1;
	b.limit = l->acpi;
	busy_add(&b, EBDA_BASE, HIGH_MEMORY_BASE);
	for (unsigned i = 0; i < img->nseg; i++)
		busy_add(&b, img->seg[i].paddr, img->seg[i].paddr + img->seg[i].memsz);
	if (img->format == GUEST_ELF64)
		return plan_elf64(l, &b, img, err);
	return plan_multiboot(l, &b, cfg, img, err);
}

unsigned boot_e820(const struct boot_layout *l, struct e820_entry map[BOOT_E820_MAX])
{
	/* As SeaBIOS reports QEMU's pc; the ACPI area is "reserved" there too. */
	const struct e820_entry all[] = {
		{ 0, EBDA_BASE, E820_RAM },
		{ EBDA_BASE, VGA_HOLE_BASE - EBDA_BASE, E820_RESERVED },
		{ F_SEGMENT_BASE, HIGH_MEMORY_BASE - F_SEGMENT_BASE, E820_RESERVED },
		{ HIGH_MEMORY_BASE, l->acpi - HIGH_MEMORY_BASE, E820_RAM },
		{ l->acpi, l->low_ram_end - l->acpi, E820_RESERVED },
		{ BIOS_ROM_BASE, BIOS_ROM_SIZE, E820_RESERVED },
		{ HIGH_RAM_BASE, l->high_ram_size, E820_RAM },
	};
	unsigned n = 0;

	_Static_assert(sizeof(all) / sizeof(all[0]) <= BOOT_E820_MAX, "map too long");
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i].len)
			map[n++] = all[i];
	return n;
}

static void *boot_map(struct address_space *as, uint64_t gpa, uint64_t len,
		      struct error *err)
{
	void *p = address_space_map_ram(as, gpa, len, true);

	if (!p)
		error_setf(err, "boot data at %#llx does not fit in guest RAM",
			   (unsigned long long)gpa);
	return p;
}

static void set_segment(struct kvm_segment *s, uint16_t sel, bool code, bool l)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = code ? 0xb : 0x3, .present = 1, .s = 1, .g = 1,
		.db = !l, .l = l,
	};
}

static int write_gdt(struct address_space *as, uint64_t gpa, const uint64_t *gdt,
		     size_t size, struct kvm_sregs *sregs, struct error *err)
{
	void *p = boot_map(as, gpa, size, err);

	if (!p)
		return -1;
	memcpy(p, gdt, size);
	sregs->gdt.base = gpa;
	sregs->gdt.limit = (uint16_t)(size - 1);
	return 0;
}

/* Identity map with 2 MiB pages; the device hole is mapped uncached. */
static int write_page_tables(struct address_space *as, const struct boot_layout *l,
			     struct error *err)
{
	uint64_t base = l->page_tables, npd = page_directories(l);
	uint64_t size = (2 + npd) * PAGE_SIZE;
	uint64_t *pml4 = boot_map(as, base, size, err), *pdpt, *pd;

	if (!pml4)
		return -1;
	memset(pml4, 0, size);
	pdpt = pml4 + 512;
	pd = pdpt + 512;
	pml4[0] = (base + PAGE_SIZE) | PTE_P | PTE_RW;
	for (uint64_t g = 0; g < npd; g++)
		pdpt[g] = (base + (2 + g) * PAGE_SIZE) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < npd * 512; i++) {
		uint64_t addr = i << 21;
		bool hole = addr >= l->low_ram_end && addr < HIGH_RAM_BASE;

		pd[i] = addr | PTE_P | PTE_RW | PTE_PS | (hole ? PTE_PCD | PTE_PWT : 0);
	}
	return 0;
}

static int boot_elf64(struct address_space *as, const struct boot_layout *l,
		      const struct guest_image *img, struct kvm_regs *regs,
		      struct kvm_sregs *sregs, struct error *err)
{
	if (write_gdt(as, l->gdt, gdt_elf64, sizeof(gdt_elf64), sregs, err) ||
	    write_page_tables(as, l, err))
		return -1;
	set_segment(&sregs->cs, GDT_CODE, true, true);
	set_segment(&sregs->ds, GDT_DATA, false, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs->cr3 = l->page_tables;
	sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer = EFER_LME | EFER_LMA;
	memset(regs, 0, sizeof(*regs));
	regs->rip = img->entry;
	regs->rsp = l->stack_top;
	regs->rflags = 0x2;
	return 0;
}

/* The multiboot v1 machine state: flat 32-bit protected mode, paging off. */
static int boot_multiboot(struct address_space *as, const struct boot_layout *l,
			  const struct boot_config *cfg, const struct guest_image *img,
			  struct kvm_regs *regs, struct kvm_sregs *sregs,
			  struct error *err)
{
	if (multiboot_write(as, l, cfg, err) ||
	    write_gdt(as, l->gdt, gdt_multiboot, sizeof(gdt_multiboot), sregs, err))
		return -1;
	set_segment(&sregs->cs, GDT_CODE, true, false);
	set_segment(&sregs->ds, GDT_DATA, false, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->cr0 = CR0_PE | CR0_ET;
	sregs->cr4 = 0;
	sregs->efer = 0;
	memset(regs, 0, sizeof(*regs));
	regs->rip = img->entry;
	regs->rax = MULTIBOOT_BOOTLOADER_MAGIC;
	regs->rbx = l->mbi;
	regs->rsp = l->stack_top;
	regs->rflags = 0x2;
	return 0;
}

int boot_prepare(struct address_space *system, const struct boot_layout *l,
		 const struct boot_config *cfg, const struct guest_image *img,
		 struct kvm_regs *regs, struct kvm_sregs *sregs, struct error *err)
{
	if (img->format == GUEST_ELF64)
		return boot_elf64(system, l, img, regs, sregs, err);
	return boot_multiboot(system, l, cfg, img, regs, sregs, err);
}
