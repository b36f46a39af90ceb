/* The guest-physical memory map of tinyvmm's machine, a PC as QEMU's pc
 * machine and its firmware (SeaBIOS) leave it for a -kernel boot:
 *
 *   0x0000_0000 - 0x0009_FBFF   RAM (mem_lower = 639 KiB)
 *   0x0009_FC00 - 0x0009_FFFF   RAM, the EBDA (reserved in the memory map)
 *   0x000A_0000 - 0x000B_FFFF   VGA hole: unassigned
 *   0x000C_0000 - 0x000F_FFFF   RAM, the BIOS area ("shadow RAM"); the
 *                               f-segment 0xF0000- is reserved in the map
 *   0x0010_0000 - ACPI tables   RAM (images usually load at 1 MiB)
 *   ACPI tables - low RAM end   the ACPI tables, the top 64 KiB of low RAM
 *                               (as SeaBIOS puts them; reserved in the map)
 *   low RAM end - 0xFFFE_FFFF   hole for devices (PCI, LAPIC at 0xFEE0_0000)
 *   0xFFFF_0000 - 0xFFFF_FFFF   BIOS ROM (64 KiB, read-only to the guest)
 *   0x1_0000_0000 -             the rest of RAM when --mem is above 3 GiB
 *
 * What tinyvmm writes for a guest (boot info, page tables, modules, the
 * ACPI RSDP) is placed around the image: see vmm/boot.h.
 */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#define LOW_RAM_MAX		0xc0000000ull	/* as QEMU's pc: 3 GiB */
#define EBDA_BASE		0x9fc00ull	/* as SeaBIOS reports it */
#define VGA_HOLE_BASE		0xa0000ull	/* unassigned: no VGA */
#define VGA_HOLE_END		0xc0000ull
#define RSDP_AREA_BASE		0xe0000ull	/* where guests scan for the RSDP */
#define F_SEGMENT_BASE		0xf0000ull
#define HIGH_MEMORY_BASE	0x100000ull	/* 1 MiB */
#define LAPIC_PAGE_BASE		0xfee00000ull
#define LAPIC_PAGE_SIZE		0x1000ull
#define HIGH_RAM_BASE		0x100000000ull
#define BIOS_ROM_BASE		0xffff0000ull
#define BIOS_ROM_SIZE		0x10000ull

#endif
