/* PCI on bus 0 through configuration mechanism #1 (ports 0xCF8/0xCFC):
 * enumeration, BAR sizing and assignment, capability lists. PCI Local Bus
 * Specification 3.0, sections 3.2.2.3.2 and 6.2.5. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_FUNCS		64	/* functions on bus 0 we keep */

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_CLASS_REV		0x08
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c	/* the ISA IRQ firmware routed INTx to */
#define PCI_INTERRUPT_PIN	0x3d	/* 1-4: INTA-INTD, 0: none */

#define PCI_CMD_IO		(1u << 0)
#define PCI_CMD_MEMORY		(1u << 1)
#define PCI_CMD_MASTER		(1u << 2)
#define PCI_CMD_INTX_DISABLE	(1u << 10)
#define PCI_STATUS_CAP_LIST	(1u << 4)
#define PCI_HEADER_MULTI_FN	0x80

#define PCI_CAP_MSIX		0x11
#define PCI_CAP_VENDOR		0x09

/* Where the guest puts the BARs that nobody assigned (tinyvmm runs no
 * BIOS): memory below the local and I/O APICs, I/O above the legacy ports. */
#define PCI_MEM_BASE		0xc0000000ull
#define PCI_MEM_LIMIT		0xfe000000ull
#define PCI_IO_BASE		0xc000u
#define PCI_IO_LIMIT		0x10000u

struct pci_bar {
	uint64_t addr;		/* 0: not implemented, or left unassigned */
	uint64_t size;		/* 0: not implemented */
	bool io, mem64, prefetch;
	bool firmware;		/* found assigned (kept), not assigned by us */
};

struct pci_dev {
	uint8_t slot, fn, header;
	uint16_t vendor, device;
	uint32_t class_rev;
	struct pci_bar bar[6];	/* a 64-bit BAR i leaves bar[i + 1] empty */
};

uint8_t pci_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_read32(const struct pci_dev *d, unsigned off);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/* Scans bus 0 (once; later calls return the same list), sizes every BAR
 * and assigns those at address 0. Returns the number of functions found. */
unsigned pci_scan(void);
struct pci_dev *pci_func(unsigned i);
/* Prints one "# pci ..." line per function and BAR. */
void pci_print(void);
/* The next function after index *@from with @vendor and one of the @n
 * device IDs in @ids, or NULL; *@from is updated. */
struct pci_dev *pci_find(unsigned *from, uint16_t vendor, const uint16_t *ids,
			 unsigned n);
/* Memory and I/O decoding and bus mastering on (the function's driver). */
void pci_enable(const struct pci_dev *d);
/* The offset of the next capability with @id after the one at @after (0:
 * from the start of the list), or 0 if none. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after);

#endif
