/* The fw_cfg I/O port and DMA interfaces (QEMU docs/specs/fw_cfg.rst). */
#include "fw_cfg.h"

#include "io.h"
#include "lib.h"

#define FW_CFG_PORT_SEL		0x510
#define FW_CFG_PORT_DATA	0x511
#define FW_CFG_PORT_DMA_HI	0x514	/* the address's high 32 bits, BE */
#define FW_CFG_PORT_DMA_LO	0x518	/* low 32 bits, BE: starts the transfer */

#define DMA_CTL_ERROR		(1u << 0)
#define DMA_CTL_READ		(1u << 1)
#define DMA_CTL_SELECT		(1u << 3)
#define DMA_POLLS		100000

#define FILE_DIR_ENTRY		64	/* be32 size, be16 select, u16, name[56] */

struct fw_cfg_dma {
	uint32_t control, length;	/* big-endian */
	uint64_t address;		/* big-endian */
} __attribute__((packed, aligned(16)));

static uint32_t be32(uint32_t v)
{
	return __builtin_bswap32(v);
}

bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_read(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return !memcmp(sig, "QEMU", 4);
}

void fw_cfg_read(uint16_t key, void *buf, uint32_t len)
{
	uint8_t *p = buf;

	outw(FW_CFG_PORT_SEL, key);
	while (len--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

int fw_cfg_dma_read(uint16_t key, void *buf, uint32_t len)
{
	static struct fw_cfg_dma d;
	uint64_t a = (uintptr_t)&d;
	uint32_t ctl = 0;

	d.control = be32((uint32_t)key << 16 | DMA_CTL_SELECT | DMA_CTL_READ);
	d.length = be32(len);
	d.address = __builtin_bswap64((uintptr_t)buf);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	outl(FW_CFG_PORT_DMA_HI, be32((uint32_t)(a >> 32)));
	outl(FW_CFG_PORT_DMA_LO, be32((uint32_t)a));
	/* The device clears the control word when done, or leaves ERROR. */
	for (int i = 0; i < DMA_POLLS; i++) {
		ctl = be32(__atomic_load_n(&d.control, __ATOMIC_ACQUIRE));
		if (!ctl || (ctl & DMA_CTL_ERROR))
			break;
	}
	return ctl ? -1 : 0;
}

uint32_t fw_cfg_dir_open(void)
{
	uint32_t n;

	fw_cfg_read(FW_CFG_FILE_DIR, &n, sizeof(n));
	return be32(n);
}

void fw_cfg_dir_next(struct fw_cfg_file *f)
{
	uint8_t e[FILE_DIR_ENTRY];
	uint16_t sel;

	for (unsigned b = 0; b < sizeof(e); b++)
		e[b] = inb(FW_CFG_PORT_DATA);
	memcpy(&f->size, e, 4);
	memcpy(&sel, e + 4, 2);
	f->size = be32(f->size);
	f->select = __builtin_bswap16(sel);
	memcpy(f->name, e + 8, sizeof(f->name));
	f->name[sizeof(f->name) - 1] = '\0';
}

bool fw_cfg_find_file(const char *name, struct fw_cfg_file *f)
{
	for (uint32_t n = fw_cfg_dir_open(); n; n--) {
		fw_cfg_dir_next(f);
		if (!strcmp(f->name, name))
			return true;
	}
	return false;
}
