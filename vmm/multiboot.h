/* Multiboot v1 (the Multiboot Specification 0.6.96), as QEMU's -kernel
 * gives it: the header an image carries, and the information tinyvmm
 * writes for it (module list, strings, modules, info, memory map) where
 * vmm/boot.h's plan put them. */
#ifndef VMM_MULTIBOOT_H
#define VMM_MULTIBOOT_H

#include <stdint.h>

struct address_space;
struct boot_config;
struct boot_layout;
struct error;

#define MULTIBOOT_HEADER_MAGIC		0x1badb002u
#define MULTIBOOT_BOOTLOADER_MAGIC	0x2badb002u
#define MULTIBOOT_SEARCH		8192	/* the header is in these first bytes */

/* Header flags. Bits 0-15 are requirements: QEMU meets 0 (page-aligned
 * modules) and 1 (memory information) always, warns about 2 (a video mode)
 * and ignores the rest, and so does tinyvmm. */
#define MULTIBOOT_VIDEO_MODE		(1u << 2)
#define MULTIBOOT_AOUT_KLUDGE		(1u << 16)

struct multiboot_header {
	uint32_t magic, flags, checksum;
	/* with MULTIBOOT_AOUT_KLUDGE: */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* The memory map and the info share one place: the map first, the info at
 * MULTIBOOT_INFO_OFFSET (QEMU: 0x9000 and 0x9500), up to MULTIBOOT_INFO_END. */
#define MULTIBOOT_INFO_OFFSET		0x500
#define MULTIBOOT_INFO_END		0x600

/* The size of the module list and the strings, placed after the image. */
uint64_t multiboot_info_size(const struct boot_config *cfg);

/* The size of module file @path (a readable regular file), or -1 naming it. */
int multiboot_module_size(const char *path, uint64_t *size, struct error *err);
/* Writes the modules, the module list, the strings, the memory map and
 * the info where @l says. */
int multiboot_write(struct address_space *as, const struct boot_layout *l,
		    const struct boot_config *cfg, struct error *err);

#endif
