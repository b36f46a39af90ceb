/* What the boot loader told us (multiboot v1). */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u

struct multiboot_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;		/* 1: available RAM */
} __attribute__((packed));

#define MBI_MEM		(1u << 0)
#define MBI_CMDLINE	(1u << 2)
#define MBI_MMAP	(1u << 6)
#define MBI_LOADER_NAME	(1u << 9)

#define MAPPED_TOP	(8ull << 30)	/* start.S maps the low 8 GiB */

extern uint32_t boot_magic;
extern const struct multiboot_info *boot_mbi;

/* The available RAM range containing @addr, or 0 if none: *end set. */
int boot_ram_range(uint64_t addr, uint64_t *start, uint64_t *end);
/* The first available RAM range at or above @addr. */
int boot_ram_above(uint64_t addr, uint64_t *start, uint64_t *end);

/* Whether any available RAM overlaps [start, start + len); if so *end is
 * the end of the first such range. */
bool boot_ram_overlaps(uint64_t start, uint64_t len, uint64_t *end);
/* Whether @word is one of the space-separated words of the multiboot
 * command line (the first is the kernel's file name on tinyvmm and QEMU). */
bool boot_cmdline_has(const char *word);
/* Booted by tinyvmm (its multiboot loader name), not by QEMU. */
bool boot_on_tinyvmm(void);

#endif
