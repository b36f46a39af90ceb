/* PCI bus 0: configuration mechanism #1, enumeration, BAR sizing and
 * assignment, capability lists. Bus 0 only: neither tinyvmm nor the QEMU
 * machines the guest runs on put devices behind bridges. */
#include "pci.h"

#include "boot.h"
#include "io.h"
#include "lib.h"
#include "tap.h"

#define PCI_CONFIG_ADDR	0xcf8
#define PCI_CONFIG_DATA	0xcfc
#define PCI_CAP_LIMIT	48	/* (256 - 64) / 4: more means a loop */

static struct pci_dev funcs[PCI_MAX_FUNCS];
static unsigned nfuncs;
static bool scanned;
static uint64_t next_mem = PCI_MEM_BASE;
static uint32_t next_io = PCI_IO_BASE;

/* ---- configuration space ---- */

static void select_reg(const struct pci_dev *d, unsigned off)
{
	outl(PCI_CONFIG_ADDR, 0x80000000u | (uint32_t)d->slot << 11 |
	     (uint32_t)d->fn << 8 | (off & 0xfc));
}

uint8_t pci_read8(const struct pci_dev *d, unsigned off)
{
	select_reg(d, off);
	return inb(PCI_CONFIG_DATA + (off & 3));
}

uint16_t pci_read16(const struct pci_dev *d, unsigned off)
{
	select_reg(d, off);
	return inw(PCI_CONFIG_DATA + (off & 2));
}

uint32_t pci_read32(const struct pci_dev *d, unsigned off)
{
	select_reg(d, off);
	return inl(PCI_CONFIG_DATA);
}

void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	select_reg(d, off);
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	select_reg(d, off);
	outl(PCI_CONFIG_DATA, v);
}

/* ---- BAR sizing ---- */

/* Writes all-ones to the BAR register at @off, returns what sticks, and
 * puts the original value back. */
static uint32_t probe_mask(const struct pci_dev *d, unsigned off, uint32_t orig)
{
	uint32_t mask;

	pci_write32(d, off, 0xffffffffu);
	mask = pci_read32(d, off);
	pci_write32(d, off, orig);
	return mask;
}

/* Sizes BAR @i; returns how many BAR registers it takes (2: 64-bit). */
static unsigned size_bar(struct pci_dev *d, unsigned i, unsigned nbars)
{
	struct pci_bar *b = &d->bar[i];
	unsigned off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_read32(d, off), mask = probe_mask(d, off, lo);
	uint64_t hi = 0, hmask = 0xffffffffu;

	if (!mask)
		return 1;	/* not implemented */
	if (lo & 1) {
		/* I/O: the upper 16 bits may be hardwired to 0. */
		b->io = true;
		b->size = (uint32_t)~((mask | 0xffff0000u) & ~3u) + 1;
		b->addr = lo & ~3u;
	} else {
		b->mem64 = ((lo >> 1) & 3) == 2 && i + 1 < nbars;
		b->prefetch = lo & 8;
		if (b->mem64) {
			hi = pci_read32(d, off + 4);
			hmask = probe_mask(d, off + 4, (uint32_t)hi);
		}
		b->size = ~(hmask << 32 | (mask & ~0xfu)) + 1;
		if (!b->mem64)
			b->size &= 0xffffffffu;
		b->addr = hi << 32 | (lo & ~0xfu);
	}
	/* Sizes are powers of two; anything else is a broken BAR. */
	if (b->size & (b->size - 1))
		*b = (struct pci_bar){ 0 };
	b->firmware = b->addr != 0;
	return b->mem64 ? 2 : 1;
}

static unsigned bar_count(const struct pci_dev *d)
{
	switch (d->header & 0x7f) {
	case 0:
		return 6;
	case 1:
		return 2;	/* PCI-to-PCI bridge */
	default:
		return 0;
	}
}

/* Decoding stays off while the BARs hold all-ones, so that the probe
 * does not briefly map the device over RAM or another device. */
static void size_bars(struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	unsigned n = bar_count(d);

	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
	for (unsigned i = 0; i < n; i += size_bar(d, i, n))
		;
	pci_write16(d, PCI_COMMAND, cmd);
}

/* ---- BAR assignment ---- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The end of a memory BAR that is already placed and overlaps
 * [a, a + size), or 0. */
static uint64_t bar_overlap(uint64_t a, uint64_t size)
{
	for (unsigned f = 0; f < nfuncs; f++)
		for (unsigned i = 0; i < 6; i++) {
			const struct pci_bar *b = &funcs[f].bar[i];

			if (b->size && !b->io && b->addr &&
			    a < b->addr + b->size && b->addr < a + size)
				return b->addr + b->size;
		}
	return 0;
}

/* Naturally aligned space in [PCI_MEM_BASE, PCI_MEM_LIMIT) that overlaps
 * neither RAM (the memory map) nor a BAR the firmware placed; 0 if full. */
static uint64_t alloc_mem(uint64_t size)
{
	uint64_t a = align_up(next_mem, size), end;

	while (a + size <= PCI_MEM_LIMIT && a >= next_mem) {
		if (boot_ram_overlaps(a, size, &end) || (end = bar_overlap(a, size)))
			a = align_up(end, size);
		else {
			next_mem = a + size;
			return a;
		}
	}
	return 0;
}

static uint64_t alloc_io(uint64_t size)
{
	uint64_t a = align_up(next_io, size);

	if (a + size > PCI_IO_LIMIT)
		return 0;
	next_io = (uint32_t)(a + size);
	return a;
}

static void assign_bar(struct pci_dev *d, unsigned i)
{
	struct pci_bar *b = &d->bar[i];
	unsigned off = PCI_BAR0 + 4 * i;
	uint64_t a;

	if (!b->size || b->addr)
		return;
	a = b->io ? alloc_io(b->size) : alloc_mem(b->size);
	if (!a) {
		tap_diag("pci %02x.%x: no room for BAR%u (%#llx bytes)", d->slot, d->fn,
			 i, (unsigned long long)b->size);
		return;
	}
	/* The type bits are read-only: writing the address alone is enough. */
	pci_write32(d, off, (uint32_t)a);
	if (b->mem64)
		pci_write32(d, off + 4, (uint32_t)(a >> 32));
	b->addr = a;
}

/* ---- enumeration ---- */

static void add_func(uint8_t slot, uint8_t fn)
{
	struct pci_dev *d = &funcs[nfuncs];

	if (nfuncs == PCI_MAX_FUNCS)
		return;
	*d = (struct pci_dev){ .slot = slot, .fn = fn };
	d->vendor = pci_read16(d, PCI_VENDOR_ID);
	if (d->vendor == 0xffff)
		return;
	d->device = pci_read16(d, PCI_DEVICE_ID);
	d->class_rev = pci_read32(d, PCI_CLASS_REV);
	d->header = pci_read8(d, PCI_HEADER_TYPE);
	size_bars(d);
	nfuncs++;
}

/* Functions 1-7 exist only where function 0 says it is multi-function. */
static void scan_slot(uint8_t slot)
{
	unsigned first = nfuncs;

	add_func(slot, 0);
	if (nfuncs == first || !(funcs[first].header & PCI_HEADER_MULTI_FN))
		return;
	for (uint8_t fn = 1; fn < 8; fn++)
		add_func(slot, fn);
}

unsigned pci_scan(void)
{
	if (scanned)
		return nfuncs;
	scanned = true;
	for (uint8_t slot = 0; slot < 32; slot++)
		scan_slot(slot);
	/* Only now: every firmware-placed BAR is known before we place ours. */
	for (unsigned f = 0; f < nfuncs; f++)
		for (unsigned i = 0; i < 6; i++)
			assign_bar(&funcs[f], i);
	return nfuncs;
}

struct pci_dev *pci_func(unsigned i)
{
	return i < nfuncs ? &funcs[i] : 0;
}

void pci_print(void)
{
	for (unsigned f = 0; f < nfuncs; f++) {
		const struct pci_dev *d = &funcs[f];

		tap_diag("pci 00:%02x.%x %04x:%04x class %06x", d->slot, d->fn, d->vendor,
			 d->device, d->class_rev >> 8);
		for (unsigned i = 0; i < 6; i++) {
			const struct pci_bar *b = &d->bar[i];

			if (b->size)
				tap_diag("    BAR%u %s [%#llx, +%#llx)%s", i,
					 b->io ? "io" : b->mem64 ? "mem64" : "mem32",
					 (unsigned long long)b->addr,
					 (unsigned long long)b->size,
					 b->firmware ? " (firmware)" : "");
		}
	}
}

struct pci_dev *pci_find(unsigned *from, uint16_t vendor, const uint16_t *ids,
			 unsigned n)
{
	for (; *from < nfuncs; (*from)++) {
		struct pci_dev *d = &funcs[*from];

		for (unsigned k = 0; k < n; k++)
			if (d->vendor == vendor && d->device == ids[k]) {
				(*from)++;
				return d;
			}
	}
	return 0;
}

void pci_enable(const struct pci_dev *d)
{
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_IO |
		    PCI_CMD_MEMORY | PCI_CMD_MASTER);
}

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after)
{
	unsigned off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = pci_read8(d, after ? after + 1 : PCI_CAP_PTR) & 0xfc;
	/* The list is the device's: bounded, and only inside the
	 * device-specific area (offsets 0x40-0xff). */
	for (int n = 0; n < PCI_CAP_LIMIT && off >= 0x40; n++) {
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1) & 0xfc;
	}
	return 0;
}
