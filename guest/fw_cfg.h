/* QEMU's firmware configuration device through its I/O ports (QEMU
 * docs/specs/fw_cfg.rst): a 16-bit selector at 0x510, data bytes at 0x511,
 * and the DMA interface's big-endian address register at 0x514/0x518. */
#ifndef GUEST_FW_CFG_H
#define GUEST_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_FILE_DIR		0x19

#define FW_CFG_ID_TRAD		(1u << 0)
#define FW_CFG_ID_DMA		(1u << 1)

/* One FILE_DIR entry, in host order (the directory is big-endian). */
struct fw_cfg_file {
	uint32_t size;
	uint16_t select;
	char name[56];
};

/* Whether selector 0 reads "QEMU". */
bool fw_cfg_present(void);
/* Selects @key and reads @len bytes from its start through the data port. */
void fw_cfg_read(uint16_t key, void *buf, uint32_t len);
/* The same with one DMA transfer (select + read): 0, or -1 if the device
 * flagged an error or did not complete. */
int fw_cfg_dma_read(uint16_t key, void *buf, uint32_t len);
/* Selects FILE_DIR and returns its file count; then each fw_cfg_dir_next
 * reads the next entry (no other fw_cfg access in between). */
uint32_t fw_cfg_dir_open(void);
void fw_cfg_dir_next(struct fw_cfg_file *f);
/* The file called @name: true and *@f filled, or false. */
bool fw_cfg_find_file(const char *name, struct fw_cfg_file *f);

#endif
