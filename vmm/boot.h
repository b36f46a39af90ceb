/* Boot: where the data tinyvmm leaves for the guest goes (boot_plan), the
 * memory map the guest is told (boot_e820), and writing it all with the
 * bootstrap vCPU's first registers (boot_prepare).
 *
 * Placement (after the image is parsed, before a byte of it is copied):
 * - the image may use any RAM but the VGA hole, the ACPI tables at the top
 *   of low RAM, and the device hole (LAPIC page, BIOS ROM, PCI); it must
 *   leave 36 bytes for the ACPI RSDP somewhere guests scan: the lowest free
 *   16-byte slot of the f-segment, else of 0xE0000-0xEFFFF, else the first
 *   KiB of the EBDA;
 * - the boot block (stack, GDT, and the multiboot info and memory map or the
 *   ELF64 page tables) goes at its usual place when the image leaves it
 *   free — multiboot: 0x8000, so the memory map is at 0x9000 and the info
 *   at 0x9500 as QEMU's; ELF64: ending at 0x9F000, below the EBDA — else at
 *   the first free page after the image;
 * - multiboot, as QEMU: the module list and the strings (module strings,
 *   command line, boot loader name) on the first free page after the
 *   image, then each module on the next free page.
 * Nothing is placed in the EBDA-to-1 MiB firmware area or above the ACPI
 * tables, and nothing over the image. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <linux/kvm.h>
#include <stdint.h>

struct address_space;
struct error;
struct guest_image;

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
	E820_NVS = 4,
};

struct e820_entry {
	uint64_t addr, len;
	uint32_t type;
};

#define BOOT_E820_MAX		8
#define BOOT_MAX_MODULES	16

struct boot_module {
	const char *path;	/* the file */
	const char *string;	/* what the guest is given: "FILE ARGS" */
	uint64_t size;		/* the file's, from multiboot_module_size */
};

/* What the guest boots with. */
struct boot_config {
	uint64_t ram_size;		/* all guest RAM (--mem) */
	uint64_t acpi_size;		/* the ACPI tables' area */
	const char *cmdline;		/* multiboot: "PATH ARGS", as QEMU */
	const struct boot_module *modules;
	unsigned nmodules;
};

/* Where everything is (guest-physical); 0: not used by this image. */
struct boot_layout {
	uint64_t low_ram_end;		/* RAM at 0 ends here (3 GiB at most) */
	uint64_t high_ram_size;		/* RAM at 4 GiB */
	uint64_t acpi;			/* the ACPI tables: [acpi, low_ram_end) */
	uint64_t rsdp;			/* the ACPI RSDP */
	uint64_t block, block_end;	/* the boot block: */
	uint64_t stack_top, gdt;
	uint64_t page_tables;		/* ELF64: PML4, PDPT, page directories */
	uint64_t mmap, mbi;		/* multiboot: memory map, info */
	uint64_t info, info_end;	/* multiboot: module list and strings */
	uint64_t modules[BOOT_MAX_MODULES];
	unsigned nmodules;
};

/* Checks @img against the machine and places the boot data. 0, or -1 with
 * a one-line message naming both ranges of a conflict. */
int boot_plan(struct boot_layout *l, const struct boot_config *cfg,
	      const struct guest_image *img, struct error *err);
/* The guest-visible memory map (RAM, reserved) in address order; returns
 * the number of entries. */
unsigned boot_e820(const struct boot_layout *l, struct e820_entry map[BOOT_E820_MAX]);
/* Writes the boot data @l places (reading the modules' files) and fills
 * @regs and @sregs (which must hold the vCPU's reset state, from
 * KVM_GET_SREGS) for @img's entry. */
int boot_prepare(struct address_space *system, const struct boot_layout *l,
		 const struct boot_config *cfg, const struct guest_image *img,
		 struct kvm_regs *regs, struct kvm_sregs *sregs, struct error *err);

#endif
