/* QEMU's firmware configuration device (fw_cfg), x86 I/O port interface, as
 * QEMU's docs/specs/fw_cfg.rst describes it: the board puts items (numbers,
 * blobs, named files) under 16-bit selector keys; the guest selects one at
 * port 0x510 and reads it byte by byte at 0x511, or has it copied into RAM
 * by DMA through the address register at 0x514. Everything is read-only to
 * the guest. The board makes exactly one (it is not a -device). */
#ifndef DEVICES_NVRAM_FW_CFG_H
#define DEVICES_NVRAM_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

struct device;
struct error;

#define TYPE_FW_CFG_IO		"fw_cfg_io"

#define FW_CFG_IO_BASE		0x510	/* selector; data at +1 */
#define FW_CFG_DMA_IO_BASE	0x514	/* DMA address, 64-bit big-endian */

/* Selector keys (QEMU's FW_CFG_* numbers). */
#define FW_CFG_SIGNATURE	0x00	/* "QEMU": the device provides it */
#define FW_CFG_ID		0x01	/* feature bits: the device provides it */
#define FW_CFG_UUID		0x02
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NOGRAPHIC	0x04
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MACHINE_ID	0x06
#define FW_CFG_KERNEL_ADDR	0x07
#define FW_CFG_KERNEL_SIZE	0x08
#define FW_CFG_KERNEL_CMDLINE	0x09
#define FW_CFG_INITRD_ADDR	0x0a
#define FW_CFG_INITRD_SIZE	0x0b
#define FW_CFG_BOOT_DEVICE	0x0c
#define FW_CFG_NUMA		0x0d
#define FW_CFG_BOOT_MENU	0x0e
#define FW_CFG_MAX_CPUS		0x0f
#define FW_CFG_KERNEL_ENTRY	0x10
#define FW_CFG_KERNEL_DATA	0x11
#define FW_CFG_INITRD_DATA	0x12
#define FW_CFG_CMDLINE_ADDR	0x13
#define FW_CFG_CMDLINE_SIZE	0x14
#define FW_CFG_CMDLINE_DATA	0x15
#define FW_CFG_SETUP_ADDR	0x16
#define FW_CFG_SETUP_SIZE	0x17
#define FW_CFG_SETUP_DATA	0x18
#define FW_CFG_FILE_DIR		0x19	/* the device provides it */
#define FW_CFG_FILE_FIRST	0x20	/* files get keys from here up */
#define FW_CFG_FILE_SLOTS	0x20	/* at most this many files */
#define FW_CFG_WRITE_CHANNEL	0x4000	/* selector bit: ignored (no data writes) */
#define FW_CFG_ARCH_LOCAL	0x8000	/* architecture-specific keys */

/* x86's architecture-specific keys. */
#define FW_CFG_ACPI_TABLES	(FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES	(FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE	(FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE	(FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET		(FW_CFG_ARCH_LOCAL + 4)

/* File names are NUL-terminated in 56 bytes. */
#define FW_CFG_MAX_FILE_PATH	56

/* The board's side: each copies what it is given and returns 0, or -1 with
 * one line in @err (a key already set or not an item key, an item of 4 GiB
 * or more, a file name too long or taken, too many files, no memory).
 * Before or after realize; @fw is a TYPE_FW_CFG_IO device. Numbers are
 * stored little-endian, as QEMU does. An item key is below
 * FW_CFG_FILE_FIRST, optionally with FW_CFG_ARCH_LOCAL. */
int fw_cfg_add_bytes(struct device *fw, uint16_t key, const void *data,
		     size_t len, struct error *err);
int fw_cfg_add_i16(struct device *fw, uint16_t key, uint16_t v,
		   struct error *err);
int fw_cfg_add_i32(struct device *fw, uint16_t key, uint32_t v,
		   struct error *err);
int fw_cfg_add_i64(struct device *fw, uint16_t key, uint64_t v,
		   struct error *err);
/* A named item in FW_CFG_FILE_DIR, under the next free key from
 * FW_CFG_FILE_FIRST up. */
int fw_cfg_add_file(struct device *fw, const char *name, const void *data,
		    size_t len, struct error *err);

#endif
