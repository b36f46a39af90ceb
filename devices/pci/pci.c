/* PCI bus 0, configuration mechanism #1, type-0 headers, BARs and
 * capability lists. See pci.h. */
#include <pthread.h>
#include <string.h>

#include "devices/pci/pci.h"

#include "devices/device.h"

#define CONFIG_ADDRESS_PORT	0xcf8
#define CONFIG_DATA_PORT	0xcfc
#define CONFIG_ENABLE		0x80000000u
#define PCI_IO_LIMIT		0xffffu	/* x86 port space */

/* The chipset's reset control register (PIIX4 "RC", 0xCF9): a byte among
 * the CONFIG_ADDRESS ports. Bit 1 picks a hard or soft reset and is kept;
 * bit 2 starts the reset and reads 0 (it acts at once, so every write of 1
 * is a 0 to 1 transition); the rest are reserved (QEMU's pc keeps only
 * bit 1 too). */
#define RCR_OFFSET		1
#define RCR_SYS_RST		0x02
#define RCR_RST_CPU		0x04

/* ---- raw config bytes ---- */

static void put_le(uint8_t *p, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(val >> (8 * i));
}

static uint32_t get_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

void pci_set(struct pci_device *d, unsigned off, unsigned size, uint32_t val)
{
	if (off + size <= PCI_CONFIG_SIZE)
		put_le(d->config + off, size, val);
}

uint32_t pci_get(const struct pci_device *d, unsigned off, unsigned size)
{
	return off + size <= PCI_CONFIG_SIZE ? get_le(d->config + off, size) : 0;
}

void pci_set_wmask(struct pci_device *d, unsigned off, unsigned size,
		   uint32_t mask)
{
	if (off + size <= PCI_CONFIG_SIZE)
		put_le(d->wmask + off, size, mask);
}

/* ---- devices ---- */

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->config_lock, NULL);
	d->name = name;
	d->slot = -1;
	d->cap_free = PCI_CAP_START;
	pci_set(d, PCI_VENDOR_ID, 2, vendor);
	pci_set(d, PCI_DEVICE_ID, 2, device);
	pci_set(d, PCI_REVISION_ID, 1, revision);
	pci_set(d, PCI_CLASS_PROG, 3, class_code);
	pci_set(d, PCI_HEADER_TYPE, 1, 0);	/* type 0, single function */
	pci_set(d, PCI_SUBSYSTEM_VENDOR_ID, 2, vendor);
	pci_set(d, PCI_SUBSYSTEM_ID, 2, device);
	pci_set_wmask(d, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
		      PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	put_le(d->w1cmask + PCI_STATUS, 2, PCI_STATUS_W1C);
	pci_set_wmask(d, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_set_wmask(d, PCI_LATENCY_TIMER, 1, 0xff);
	pci_set_wmask(d, PCI_INTERRUPT_LINE, 1, 0xff);
}

int pci_bus_add_device(struct pci_bus *bus, struct pci_device *d, int slot)
{
	if (slot < 0) {
		for (slot = 0; slot < PCI_SLOTS && bus->devices[slot]; slot++)
			;
	}
	if (slot >= PCI_SLOTS || bus->devices[slot] || d->bus)
		return -1;
	bus->devices[slot] = d;
	d->bus = bus;
	d->slot = slot;
	return slot;
}

/* ---- INTx ---- */

/* Under config_lock: the line carries Interrupt Status unless Interrupt
 * Disable masks it (PCI 3.0, 6.2.2); only a change reaches it, so a level
 * set again is no second interrupt. */
static void intx_update(struct pci_device *d)
{
	bool out = (d->config[PCI_STATUS] & PCI_STATUS_INTERRUPT) &&
		   !(pci_get(d, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE);

	if (out == d->intx_out)
		return;
	d->intx_out = out;
	irq_set_level(&d->intx, out);
}

void pci_set_irq(struct pci_device *d, bool level)
{
	pthread_mutex_lock(&d->config_lock);
	if (level)
		d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	intx_update(d);
	pthread_mutex_unlock(&d->config_lock);
}

void pci_connect_intx(struct pci_device *d, const struct irq_line *line,
		      uint8_t irq)
{
	pthread_mutex_lock(&d->config_lock);
	if (d->intx_out)
		irq_lower(&d->intx);
	d->intx = line ? *line : (struct irq_line){ 0 };
	if (d->intx_out)
		irq_raise(&d->intx);
	d->config[PCI_INTERRUPT_LINE] = irq;
	pthread_mutex_unlock(&d->config_lock);
}

/* ---- BARs ---- */

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Its next slot is its upper half. */
static bool is_bar64(const struct pci_bar *b)
{
	return b->size && !(b->type & PCI_BAR_IO) && (b->type & PCI_BAR_MEM64);
}

int pci_register_bar(struct pci_device *d, int bar, uint8_t type,
		     struct memory_region *mr)
{
	uint64_t size = mr->size, mask;
	bool io = type & PCI_BAR_IO, wide = !io && (type & PCI_BAR_MEM64);
	unsigned off = PCI_BASE_ADDRESS_0 + 4 * bar;

	if (bar < 0 || bar + wide >= PCI_NUM_BARS || d->bus ||
	    d->bars[bar].size || (wide && d->bars[bar + 1].size) ||
	    (bar > 0 && is_bar64(&d->bars[bar - 1])))
		return -1;
	if (!is_pow2(size) || size < (io ? 4 : 16) || (io && size > 256) ||
	    (!wide && size > (1ull << 31)) || (io && (type & ~PCI_BAR_IO)) ||
	    (!io && (type & ~(PCI_BAR_MEM64 | PCI_BAR_PREFETCH))))
		return -1;
	d->bars[bar] = (struct pci_bar){ .size = size, .type = type, .mr = mr };
	/* The size is the address bits that do not stick: write ones, read
	 * back ~(size - 1) | type. */
	mask = ~(size - 1);
	pci_set(d, off, 4, type);
	pci_set_wmask(d, off, 4, (uint32_t)mask & (io ? ~3u : ~15u));
	if (wide) {
		pci_set(d, off + 4, 4, 0);
		pci_set_wmask(d, off + 4, 4, (uint32_t)(mask >> 32));
	}
	return 0;
}

uint64_t pci_bar_address(const struct pci_device *d, int bar)
{
	const struct pci_bar *b = &d->bars[bar];
	unsigned off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t a;

	if (!b->size)
		return 0;
	a = pci_get(d, off, 4) & (b->type & PCI_BAR_IO ? ~3u : ~15u);
	if (is_bar64(b))
		a |= (uint64_t)pci_get(d, off + 4, 4) << 32;
	return a;
}

/* ---- capabilities ---- */

int pci_add_capability(struct pci_device *d, uint8_t id, unsigned size)
{
	unsigned off = (d->cap_free + 3u) & ~3u;

	if (size < 2 || off + size > PCI_CONFIG_SIZE)
		return -1;
	memset(d->config + off, 0, size);
	d->config[off] = id;
	if (d->cap_last)
		d->config[d->cap_last + 1] = (uint8_t)off;
	else
		d->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
	d->cap_last = (uint8_t)off;
	d->cap_free = (uint8_t)(off + size < PCI_CONFIG_SIZE ? off + size : 0xff);
	d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return (int)off;
}

unsigned pci_find_capability(const struct pci_device *d, uint8_t id)
{
	unsigned off = d->config[PCI_CAPABILITY_LIST];

	/* Our own list, but bound the walk all the same. */
	for (int n = 0; off && n < PCI_CONFIG_SIZE / 4; n++) {
		if (d->config[off] == id)
			return off;
		off = d->config[off + 1];
	}
	return 0;
}

/* ---- BAR mapping ---- */

/* Where @bar should decode now, or false when it must not decode at all:
 * its space disabled in the command register, address 0 (never assigned),
 * or a range that wraps or reaches the top of its space, which is what a
 * BAR holds while it is being sized. */
static bool bar_target(const struct pci_device *d, int bar, uint64_t *addr)
{
	const struct pci_bar *b = &d->bars[bar];
	uint16_t cmd = (uint16_t)pci_get(d, PCI_COMMAND, 2);
	bool io = b->type & PCI_BAR_IO;
	uint64_t a = pci_bar_address(d, bar), last = a + b->size - 1;
	/* The last byte that may decode: a 32-bit BAR being sized ends at
	 * 0xffffffff, a 64-bit one at 2^64 - 1. */
	uint64_t limit = io ? PCI_IO_LIMIT :
			 (b->type & PCI_BAR_MEM64) ? UINT64_MAX - 1 :
			 UINT32_MAX - 1;

	if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
		return false;
	if (a == 0 || last < a || last > limit)
		return false;
	*addr = a;
	return true;
}

/* Bring every BAR's mapping in line with config space: one memory
 * transaction, so the guest's view (and KVM's memslots) change once. The
 * device is told after the commit, when the new map is live. */
static void pci_update_mappings(struct pci_device *d)
{
	struct memory_region *space;
	bool changed[PCI_NUM_BARS] = { false };
	uint64_t addr = 0;

	memory_transaction_begin();
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];
		bool want;

		if (!b->size)
			continue;
		want = bar_target(d, i, &addr);
		if (want == b->mapped && (!want || addr == b->addr))
			continue;
		space = b->type & PCI_BAR_IO ? d->bus->io : d->bus->mem;
		if (!want)
			memory_region_del_subregion(space, b->mr);
		else if (b->mapped)
			memory_region_set_address(b->mr, addr);
		else
			memory_region_add_subregion(space, addr, b->mr, 0);
		b->mapped = want;
		b->addr = want ? addr : 0;
		changed[i] = true;
	}
	memory_transaction_commit();
	for (int i = 0; i < PCI_NUM_BARS; i++)
		if (changed[i] && d->bar_update)
			d->bar_update(d, i, d->bars[i].mapped, d->bars[i].addr);
}

static bool overlaps(unsigned off, unsigned size, unsigned start, unsigned len)
{
	return off < start + len && start < off + size;
}

/* ---- guest config access ---- */

uint32_t pci_config_read(struct pci_device *d, unsigned off, unsigned size)
{
	uint32_t v = 0;

	pthread_mutex_lock(&d->config_lock);
	for (unsigned i = 0; i < size; i++) {
		uint32_t byte = off + i < PCI_CONFIG_SIZE ? d->config[off + i] : 0xff;

		v |= byte << (8 * i);
	}
	pthread_mutex_unlock(&d->config_lock);
	return v;
}

void pci_config_write(struct pci_device *d, unsigned off, uint32_t val,
		      unsigned size)
{
	pthread_mutex_lock(&d->config_lock);
	for (unsigned i = 0; i < size && off + i < PCI_CONFIG_SIZE; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), *c = &d->config[off + i];
		uint8_t wm = d->wmask[off + i], w1c = d->w1cmask[off + i];

		*c = (uint8_t)((*c & ~wm) | (b & wm));
		*c &= (uint8_t)~(b & w1c);
	}
	if (overlaps(off, size, PCI_COMMAND, 2))
		intx_update(d);		/* Interrupt Disable may have changed */
	pthread_mutex_unlock(&d->config_lock);
	if (d->bus && (overlaps(off, size, PCI_COMMAND, 2) ||
		       overlaps(off, size, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS)))
		pci_update_mappings(d);
	if (d->config_write)
		d->config_write(d, off, val, size);
}

/* ---- mechanism #1: 0xCF8 address, 0xCFC data ---- */

/* The device and register the latch selects, or NULL (all-ones). Bus 0
 * only, function 0 only (no multifunction devices); bits 30:24 are
 * reserved and ignored. */
static struct pci_device *selected(struct pci_bus *bus, unsigned *reg)
{
	uint32_t a = bus->config_address;
	unsigned busno = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f;
	unsigned fn = (a >> 8) & 7;

	if (!(a & CONFIG_ENABLE) || busno != 0 || fn != 0)
		return NULL;
	*reg = a & 0xfc;
	return bus->devices[slot];
}

/* The chipset decodes 0xCF8-0xCFB by access width: a dword at 0xCF8 is
 * CONFIG_ADDRESS and a byte at 0xCF9 the reset control register. Other
 * reads give the latch's bytes; other writes go nowhere. */
static uint64_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_bus *bus = opaque;
	uint32_t a;

	pthread_mutex_lock(&bus->lock);
	a = size == 1 && off == RCR_OFFSET ? (uint32_t)bus->rcr << 8 :
	    bus->config_address;
	pthread_mutex_unlock(&bus->lock);
	return size == 4 ? a : (a >> (8 * off)) & ((1u << (8 * size)) - 1);
}

static void cf8_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct pci_bus *bus = opaque;
	const struct device_env *env = bus->env;
	bool reset = false;

	pthread_mutex_lock(&bus->lock);
	if (size == 4 && off == 0) {
		bus->config_address = (uint32_t)val & ~3u;
	} else if (size == 1 && off == RCR_OFFSET) {
		bus->rcr = val & RCR_SYS_RST;
		reset = val & RCR_RST_CPU;
	}
	pthread_mutex_unlock(&bus->lock);
	if (reset && env && env->system_event)
		env->system_event(env->host, SYSTEM_RESET);
}

/* The bus lock makes the latch and the data access one step, as the
 * chipset does, when several vCPUs configure at once. */
static uint64_t cfc_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_bus *bus = opaque;
	uint64_t v = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	unsigned reg = 0;
	struct pci_device *d;

	pthread_mutex_lock(&bus->lock);
	d = selected(bus, &reg);
	if (d)
		v = pci_config_read(d, reg + (unsigned)off, size);
	pthread_mutex_unlock(&bus->lock);
	return v;
}

static void cfc_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct pci_bus *bus = opaque;
	unsigned reg = 0;
	struct pci_device *d;

	pthread_mutex_lock(&bus->lock);
	d = selected(bus, &reg);
	if (d)
		pci_config_write(d, reg + (unsigned)off, (uint32_t)val, size);
	pthread_mutex_unlock(&bus->lock);
}

static const struct memory_region_ops cf8_ops = {
	.read = cf8_read, .write = cf8_write,
	.valid = { .min = 1, .max = 4 }, .impl = { .min = 1, .max = 4 },
};

/* Any width at any offset of the four data ports: a word at 0xCFE is
 * register + 2, as on real chipsets. */
static const struct memory_region_ops cfc_ops = {
	.read = cfc_read, .write = cfc_write,
	.valid = { .min = 1, .max = 4, .unaligned = true },
	.impl = { .min = 1, .max = 4, .unaligned = true },
};

void pci_bus_init(struct pci_bus *bus, struct memory_region *mem,
		  struct memory_region *io)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	bus->mem = mem;
	bus->io = io;
	memory_region_init_io(&bus->cf8, "pci-conf-addr/rcr", &cf8_ops, bus, 4);
	memory_region_init_io(&bus->cfc, "pci-conf-data", &cfc_ops, bus, 4);
	memory_transaction_begin();
	/* Priority 1: an I/O BAR the guest puts over them cannot take the
	 * config ports away (the chipset decodes them first). */
	memory_region_add_subregion(io, CONFIG_ADDRESS_PORT, &bus->cf8, 1);
	memory_region_add_subregion(io, CONFIG_DATA_PORT, &bus->cfc, 1);
	memory_transaction_commit();
	/* Q35's DRAM controller, as QEMU's -M q35 shows it. */
	pci_device_init(&bus->host_bridge, "host-bridge", 0x8086, 0x29c0,
			0x060000, 0);
	pci_bus_add_device(bus, &bus->host_bridge, 0);
}

void pci_bus_remove_device(struct pci_bus *bus, struct pci_device *d)
{
	if (d->bus != bus)
		return;
	memory_transaction_begin();
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];

		if (b->mapped)
			memory_region_del_subregion(b->type & PCI_BAR_IO ?
						    bus->io : bus->mem, b->mr);
		b->mapped = false;
	}
	memory_transaction_commit();
	/* Its share of a wired-OR line goes with it. */
	pthread_mutex_lock(&d->config_lock);
	if (d->intx_out)
		irq_lower(&d->intx);
	d->intx_out = false;
	pthread_mutex_unlock(&d->config_lock);
	bus->devices[d->slot] = NULL;
	d->bus = NULL;
	d->slot = -1;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	memory_transaction_begin();
	for (int s = 0; s < PCI_SLOTS; s++)
		if (bus->devices[s])
			pci_bus_remove_device(bus, bus->devices[s]);
	memory_region_del_subregion(bus->io, &bus->cf8);
	memory_region_del_subregion(bus->io, &bus->cfc);
	memory_transaction_commit();
}
