/* The guest-physical memory map of tinyvmm's machine (a PC without firmware):
 *
 *   0x0000_0000 - 0x0009_DFFF   RAM, free for the guest
 *   0x0009_E000 - 0x0009_FFFF   boot info: multiboot info, memory map, command
 *                               line, boot GDT (reserved in the memory map)
 *   0x000A_0000 - 0x000E_FFFF   ELF64 boot page tables (reserved)
 *   0x000F_0000 - 0x000F_FFFF   "isa-bios": alias of the top of the BIOS ROM
 *   0x0010_0000 - low RAM end   RAM (images usually load at 1 MiB)
 *   low RAM end - 0xFFFE_FFFF   hole for devices (PCI, LAPIC at 0xFEE0_0000)
 *   0xFFFF_0000 - 0xFFFF_FFFF   BIOS ROM (64 KiB, read-only to the guest)
 *   0x1_0000_0000 -             the rest of RAM when --mem is above 3 GiB
 */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#define LOW_RAM_MAX		0xc0000000ull	/* as QEMU's pc: 3 GiB */
#define HIGH_RAM_BASE		0x100000000ull
#define BIOS_ROM_BASE		0xffff0000ull
#define BIOS_ROM_SIZE		0x10000ull
#define ISA_BIOS_BASE		0xf0000ull
#define ISA_BIOS_SIZE		0x10000ull
#define BOOT_INFO_BASE		0x9e000ull
#define BOOT_INFO_END		0xa0000ull
#define BOOT_PT_BASE		0xa0000ull
#define BOOT_PT_END		0xf0000ull

#endif
