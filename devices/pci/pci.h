/* PCI: one bus (bus 0), configuration mechanism #1 at 0xCF8/0xCFC, type-0
 * config headers with read-only masks, BAR sizing and mapping, capability
 * lists (PCI Local Bus 3.0, chapter 6).
 *
 * A device embeds struct pci_device, fills its identity with
 * pci_device_init, registers BARs and capabilities, then is plugged into a
 * slot. Config space is a byte array plus a write mask: a guest write
 * changes only the bits the mask allows, so read-only fields (IDs, class,
 * header type, BAR type bits) and the BAR size (its low address bits) are
 * enforced by data, not by code. The core maps a BAR's region into the bus's
 * memory or I/O container only while the command register enables that
 * space and the BAR holds a usable address; the device hears of each change.
 *
 * INTx (PCI 3.0, 2.2.6 and 6.2.2): a device with an Interrupt Pin drives one
 * level-triggered line, which the board connects (pci_connect_intx) and
 * names in the Interrupt Line register, as firmware would. The device says
 * what it wants (pci_set_irq); that is the status register's Interrupt
 * Status bit, and the line carries it unless the command register's
 * Interrupt Disable bit is set. Only changes reach the line. Several
 * devices may share one input: the board ORs their lines.
 *
 * Config accesses through 0xCF8/0xCFC come from vCPU threads and are
 * serialized by the bus lock; the device hooks run under it. A device sets
 * its INTx level from any thread, under its own lock if it likes: lock
 * order bus lock, device lock, then d->config_lock (held while the line's
 * handler runs), then the line receiver's.
 *
 * The chipset's reset control register (0xCF9) shares the CONFIG_ADDRESS
 * ports, which decode by width: a dword at 0xCF8 is the latch, a byte at
 * 0xCF9 the RCR (bit 1 kept; a 1 in bit 2 resets the machine through
 * env->system_event). */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/irq.h"
#include "memory/region.h"

#define PCI_CONFIG_SIZE		256
#define PCI_SLOTS		32
#define PCI_NUM_BARS		6

/* Type-0 header. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09	/* class code: 0x09..0x0b */
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

/* Interrupt Pin values: 0 none, 1..4 INTA#..INTD#. */
#define PCI_INTERRUPT_PIN_A	1

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_COMMAND_PARITY	0x0040
#define PCI_COMMAND_SERR	0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT	0x0008	/* INTx wanted (read-only) */
#define PCI_STATUS_CAP_LIST	0x0010
/* Error bits: write 1 to clear. */
#define PCI_STATUS_W1C		0xf900

/* BAR type bits (the low bits of the BAR, read-only). */
#define PCI_BAR_IO		0x01
#define PCI_BAR_MEM32		0x00
#define PCI_BAR_MEM64		0x04
#define PCI_BAR_PREFETCH	0x08

/* Capability IDs. */
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

#define PCI_CAP_START		0x40	/* first byte after the header */

struct device_env;
struct pci_bus;
struct pci_device;

struct pci_bar {
	uint64_t size;			/* 0: not implemented */
	uint8_t type;			/* PCI_BAR_* */
	struct memory_region *mr;
	bool mapped;			/* in the bus's container now */
	uint64_t addr;			/* where, when mapped */
};

struct pci_device {
	const char *name;
	struct pci_bus *bus;
	int slot;			/* -1 until plugged */
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];	/* bits the guest may change */
	uint8_t w1cmask[PCI_CONFIG_SIZE];	/* bits a 1 clears */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t cap_last;		/* last capability in the list, 0: none */
	uint8_t cap_free;		/* next free config byte */

	/* config[] changes from two sides: guest writes (under the bus lock)
	 * and the device's INTx level (from its own threads). This lock
	 * serializes them and what the line carries. */
	pthread_mutex_t config_lock;
	struct irq_line intx;		/* where INTx goes (the board says) */
	bool intx_out;			/* the line's level now */

	/* Optional. After the core applied a guest config write (MSI-X
	 * enable, virtio's own caps...). */
	void (*config_write)(struct pci_device *d, unsigned off, uint32_t val,
			     unsigned size);
	/* Optional. After a BAR was mapped (at @addr), moved or unmapped. */
	void (*bar_update)(struct pci_device *d, int bar, bool mapped,
			   uint64_t addr);
	void *opaque;
};

struct pci_bus {
	struct pci_device *devices[PCI_SLOTS];
	struct memory_region *mem;	/* memory BARs go here */
	struct memory_region *io;	/* I/O BARs go here */
	pthread_mutex_t lock;		/* the latch and config accesses */
	uint32_t config_address;	/* the 0xCF8 latch */
	uint8_t rcr;			/* the reset control register, 0xCF9 */
	/* The machine, which a reset through 0xCF9 asks (system_event). The
	 * board sets it after pci_bus_init; NULL: such a reset does nothing. */
	const struct device_env *env;
	struct memory_region cf8, cfc;
	struct pci_device host_bridge;	/* 00:00.0 */
};

/* Set up @bus: 0xCF8 and 0xCFC (4 ports each) at their places in @io, BARs
 * to be mapped (at priority 0) into @mem and @io, the host bridge at slot 0.
 * @mem should sit below RAM in the system tree, so that a BAR the guest
 * puts over RAM cannot hide it. */
void pci_bus_init(struct pci_bus *bus, struct memory_region *mem,
		  struct memory_region *io);
/* Unplug @d: its BARs are unmapped, its INTx lowered, its slot is free. */
void pci_bus_remove_device(struct pci_bus *bus, struct pci_device *d);
/* Unplug every device and unmap the config ports. */
void pci_bus_destroy(struct pci_bus *bus);

/* Identity: vendor, device, 24-bit class code (class << 16 | subclass << 8
 * | prog-if), revision; subsystem IDs default to vendor/device. Sets the
 * writable bits of the header (command, cache line, latency, interrupt
 * line) and the status W1C bits. No Interrupt Pin: a device with INTx sets
 * PCI_INTERRUPT_PIN itself (it stays read-only). */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t revision);
/* Plug @d into @slot (-1: the first free one). Returns the slot or -1. */
int pci_bus_add_device(struct pci_bus *bus, struct pci_device *d, int slot);

/* The board: @d's INTx drives @line (NULL: nowhere), and its Interrupt Line
 * register says @irq, as firmware leaves it. Before the guest runs; a line
 * that is high moves with the connection. */
void pci_connect_intx(struct pci_device *d, const struct irq_line *line,
		      uint8_t irq);
/* The device wants its INTx asserted (@level) or not. Any thread. */
void pci_set_irq(struct pci_device *d, bool level);

/* BAR @bar (a 64-bit one takes @bar + 1 too) decoding @mr, whose size is the
 * BAR size: a power of two, >= 16 for memory, >= 4 and <= 256 for I/O.
 * Before plugging. Returns 0 or -1. */
int pci_register_bar(struct pci_device *d, int bar, uint8_t type,
		     struct memory_region *mr);
/* The address the guest programmed in @bar (whether mapped or not). */
uint64_t pci_bar_address(const struct pci_device *d, int bar);

/* Append a capability of @size bytes (ID and next included) to the list:
 * returns its config offset (dword aligned, >= 0x40) or -1 when it does not
 * fit. The body is zero and read-only: set it with pci_set_* and open
 * fields with pci_set_wmask. */
int pci_add_capability(struct pci_device *d, uint8_t id, unsigned size);
/* The config offset of the first capability with @id, or 0. */
unsigned pci_find_capability(const struct pci_device *d, uint8_t id);

/* Device-side config access (no masks): @size 1, 2 or 4 bytes, LE. */
void pci_set(struct pci_device *d, unsigned off, unsigned size, uint32_t val);
uint32_t pci_get(const struct pci_device *d, unsigned off, unsigned size);
void pci_set_wmask(struct pci_device *d, unsigned off, unsigned size,
		   uint32_t mask);

/* Guest-side config access, as mechanism #1 delivers it: @off + @size past
 * the end reads as ones and writes nothing there. Writes honour the masks
 * and re-map BARs when BARs or the command register changed. */
uint32_t pci_config_read(struct pci_device *d, unsigned off, unsigned size);
void pci_config_write(struct pci_device *d, unsigned off, uint32_t val,
		      unsigned size);

#endif
