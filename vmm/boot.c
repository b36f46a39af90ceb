#include "vmm/boot.h"

#include <string.h>

#include "devices/error.h"
#include "memory/address_space.h"
#include "vmm/layout.h"
#include "vmm/loader.h"

/* Boot info area (see layout.h). */
#define MB_INFO_ADDR		BOOT_INFO_BASE
#define MB_MMAP_ADDR		(BOOT_INFO_BASE + 0x100)
#define MB_NAME_ADDR		(BOOT_INFO_BASE + 0x300)
#define BOOT_GDT_ADDR		(BOOT_INFO_BASE + 0x400)
#define MB_CMDLINE_ADDR		(BOOT_INFO_BASE + 0x1000)
#define MB_CMDLINE_MAX		0x1000
#define ELF64_STACK_TOP		BOOT_INFO_BASE	/* grows down into free RAM */

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u
#define MBI_MEM			(1u << 0)
#define MBI_CMDLINE		(1u << 2)
#define MBI_MMAP		(1u << 6)
#define MBI_LOADER_NAME		(1u << 9)
#define E820_RAM		1
#define E820_RESERVED		2

#define GDT_CODE64		0x08
#define GDT_DATA		0x10
#define GDT_CODE32		0x18

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

struct multiboot_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct multiboot_mmap_entry {
	uint32_t size;		/* of the rest of the entry: 20 */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

static const uint64_t boot_gdt[] = {
	0,
	0x00af9a000000ffffull,	/* 0x08: 64-bit code */
	0x00cf92000000ffffull,	/* 0x10: flat data */
	0x00cf9a000000ffffull,	/* 0x18: 32-bit flat code */
};

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

static int write_gdt(struct address_space *as, struct kvm_sregs *sregs,
		     struct error *err)
{
	void *gdt = boot_map(as, BOOT_GDT_ADDR, sizeof(boot_gdt), err);

	if (!gdt)
		return -1;
	memcpy(gdt, boot_gdt, sizeof(boot_gdt));
	sregs->gdt.base = BOOT_GDT_ADDR;
	sregs->gdt.limit = sizeof(boot_gdt) - 1;
	return 0;
}

/* Identity map with 2 MiB pages of [0, max(4 GiB, end of RAM)); the device
 * hole is mapped uncached. One PML4, one PDPT, one page directory per GiB. */
static int write_page_tables(struct address_space *as, const struct boot_ram *ram,
			     uint64_t *cr3, struct error *err)
{
	uint64_t top = HIGH_RAM_BASE + ram->high_size;
	uint64_t npd = (top + (1ull << 30) - 1) >> 30;
	uint64_t size = (2 + npd) * 4096;
	uint64_t *pml4, *pdpt, *pd;

	if (BOOT_PT_BASE + size > BOOT_PT_END)
		return error_setf(err, "guest RAM too large for the boot page tables");
	pml4 = boot_map(as, BOOT_PT_BASE, size, err);
	if (!pml4)
		return -1;
	memset(pml4, 0, size);
	pdpt = pml4 + 512;
	pd = pdpt + 512;
	pml4[0] = (BOOT_PT_BASE + 0x1000) | PTE_P | PTE_RW;
	for (uint64_t g = 0; g < npd; g++)
		pdpt[g] = (BOOT_PT_BASE + 0x2000 + g * 0x1000) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < npd * 512; i++) {
		uint64_t addr = i << 21;
		bool hole = addr >= ram->low_size && addr < HIGH_RAM_BASE;

		pd[i] = addr | PTE_P | PTE_RW | PTE_PS |
			(hole ? PTE_PCD | PTE_PWT : 0);
	}
	*cr3 = BOOT_PT_BASE;
	return 0;
}

static int boot_elf64(struct address_space *as, const struct guest_image *img,
		      const struct boot_ram *ram, struct kvm_regs *regs,
		      struct kvm_sregs *sregs, struct error *err)
{
	uint64_t cr3;

	if (write_gdt(as, sregs, err) || write_page_tables(as, ram, &cr3, err))
		return -1;
	set_segment(&sregs->cs, GDT_CODE64, true, true);
	set_segment(&sregs->ds, GDT_DATA, false, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs->cr3 = cr3;
	sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer = EFER_LME | EFER_LMA;
	memset(regs, 0, sizeof(*regs));
	regs->rip = img->entry;
	regs->rsp = ELF64_STACK_TOP;
	regs->rflags = 0x2;
	return 0;
}

static unsigned fill_mmap(struct multiboot_mmap_entry *e, const struct boot_ram *ram)
{
	const struct { uint64_t addr, len; uint32_t type; } map[] = {
		{ 0, BOOT_INFO_BASE, E820_RAM },
		{ BOOT_INFO_BASE, 0x100000 - BOOT_INFO_BASE, E820_RESERVED },
		{ 0x100000, ram->low_size - 0x100000, E820_RAM },
		{ BIOS_ROM_BASE, BIOS_ROM_SIZE, E820_RESERVED },
		{ HIGH_RAM_BASE, ram->high_size, E820_RAM },
	};
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].len)
			e[n++] = (struct multiboot_mmap_entry){ 20, map[i].addr,
								map[i].len, map[i].type };
	return n;
}

static int write_multiboot_info(struct address_space *as,
				const struct boot_ram *ram, const char *cmdline,
				struct error *err)
{
	size_t cmd_len = strlen(cmdline) + 1;
	struct multiboot_info *mbi = boot_map(as, MB_INFO_ADDR, sizeof(*mbi), err);
	struct multiboot_mmap_entry *mmap = boot_map(as, MB_MMAP_ADDR, 8 * sizeof(*mmap), err);
	char *name = boot_map(as, MB_NAME_ADDR, 8, err);
	char *cmd = boot_map(as, MB_CMDLINE_ADDR, MB_CMDLINE_MAX, err);

	if (!mbi || !mmap || !name || !cmd)
		return -1;
	if (cmd_len > MB_CMDLINE_MAX)
		return error_setf(err, "guest command line longer than %d bytes",
				  MB_CMDLINE_MAX - 1);
	memset(mbi, 0, sizeof(*mbi));
	mbi->flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
	mbi->mem_lower = BOOT_INFO_BASE >> 10;
	mbi->mem_upper = (uint32_t)((ram->low_size - 0x100000) >> 10);
	mbi->mmap_addr = MB_MMAP_ADDR;
	mbi->mmap_length = fill_mmap(mmap, ram) * sizeof(*mmap);
	memcpy(name, "tinyvmm", 8);
	mbi->boot_loader_name = MB_NAME_ADDR;
	memcpy(cmd, cmdline, cmd_len);
	mbi->cmdline = MB_CMDLINE_ADDR;
	return 0;
}

/* The multiboot v1 machine state: flat 32-bit protected mode, paging off. */
static int boot_multiboot(struct address_space *as, const struct guest_image *img,
			  const struct boot_ram *ram, const char *cmdline,
			  struct kvm_regs *regs, struct kvm_sregs *sregs,
			  struct error *err)
{
	if (write_multiboot_info(as, ram, cmdline, err) || write_gdt(as, sregs, err))
		return -1;
	set_segment(&sregs->cs, GDT_CODE32, true, false);
	set_segment(&sregs->ds, GDT_DATA, false, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->cr0 = CR0_PE | CR0_ET;
	sregs->cr4 = 0;
	sregs->efer = 0;
	memset(regs, 0, sizeof(*regs));
	regs->rip = img->entry;
	regs->rax = MULTIBOOT_BOOTLOADER_MAGIC;
	regs->rbx = MB_INFO_ADDR;
	regs->rflags = 0x2;
	return 0;
}

int boot_prepare(struct address_space *system, const struct guest_image *img,
		 const struct boot_ram *ram, const char *cmdline,
		 struct kvm_regs *regs, struct kvm_sregs *sregs,
		 struct error *err)
{
	if (img->format == GUEST_ELF64)
		return boot_elf64(system, img, ram, regs, sregs, err);
	return boot_multiboot(system, img, ram, cmdline, regs, sregs, err);
}
