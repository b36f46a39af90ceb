/* libFuzzer target: a PCI bus (host bridge + two devices with memory 32/64
 * bit and I/O BARs and capabilities) driven through mechanism #1: the input
 * is a sequence of port accesses to 0xCF8..0xCFF (and elsewhere), every
 * width, through the "io" address space, interleaved with system-memory
 * accesses (RAM and BARs). After every access the harness checks:
 *   - every config byte the guest may not write (mask 0) is what the device
 *     set: IDs, class, header type, capability list, BAR type bits...;
 *     W1C status bits were 0 and stay 0;
 *   - BARs read back their type in the low bits and 0 in the size bits;
 *   - a BAR is in its container exactly while the command register enables
 *     its space and the BAR holds a nonzero address whose range fits the
 *     space, at that address, and bar_update said so;
 *   - where a mapped BAR is the only thing at its address, accesses reach
 *     it; RAM over the PCI hole always reads as RAM;
 *   - the config hooks see in-range offsets and sizes 1, 2, 4;
 *   - device A's INTx (which it raises and lowers among the accesses):
 *     Interrupt Status is what A last asked for, the line carries it unless
 *     Interrupt Disable is set, and only changes reach the line.
 * pci_bus_destroy leaves nothing mapped and the line low; LeakSanitizer
 * checks the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/pci.h"
#include "memory/address_space.h"
#include "memory/ramblock.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"


#define RAM_SIZE	0x10000u


/* A BAR answers with its tag plus the offset. */
struct bar_dev {
	uint64_t tag;
	uint64_t accesses;
};

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct bar_dev *b = opaque;

	(void)size;
	b->accesses++;
	return b->tag + off;
}

static void bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct bar_dev *b = opaque;

	(void)off; (void)val; (void)size;
	b->accesses++;
}

static const struct memory_region_ops bar_ops = {
	.read = bar_read, .write = bar_write,
	.valid = { .min = 1, .max = 8, .unaligned = true },
	.impl = { .min = 1, .max = 8 },
};

#define NDEV	3	/* host bridge, dev A, dev B */

static struct memory_region sys_root, pci_mem, io_root, ram_mr;
static struct ram_block ram;
static struct address_space *mem_as, *io_as;
static struct pci_bus bus;
static struct pci_device dev_a, dev_b;
static struct pci_device *devs[NDEV];
static struct memory_region bar_mr[2][PCI_NUM_BARS];
static struct bar_dev bar_tag[2][PCI_NUM_BARS];
/* What each device looked like before the guest touched it. */
static uint8_t config0[NDEV][PCI_CONFIG_SIZE];
/* What bar_update last said. */
static bool said_mapped[2][PCI_NUM_BARS];
static uint64_t said_addr[2][PCI_NUM_BARS];

/* Device A's INTx: what it asked for, what the line carries. */
static bool intx_wanted, intx_level;

static void on_intx(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	CHECK(n == 10);
	CHECK(level != intx_level);	/* a change, or nothing */
	intx_level = level;
}

static int dev_index(const struct pci_device *d)
{
	return d == &dev_a ? 0 : d == &dev_b ? 1 : -1;
}

static void on_bar_update(struct pci_device *d, int bar, bool mapped,
			  uint64_t addr)
{
	int i = dev_index(d);

	CHECK(i >= 0 && bar >= 0 && bar < PCI_NUM_BARS);
	CHECK(d->bars[bar].size && d->bars[bar].mapped == mapped);
	CHECK(!mapped || d->bars[bar].addr == addr);
	said_mapped[i][bar] = mapped;
	said_addr[i][bar] = addr;
}

static void on_config_write(struct pci_device *d, unsigned off, uint32_t val,
			    unsigned size)
{
	(void)val;
	CHECK(dev_index(d) >= 0);
	CHECK(size == 1 || size == 2 || size == 4);
	CHECK(off < PCI_CONFIG_SIZE);
}

static void setup_once(void)
{
	if (mem_as)
		return;
	if (ram_block_init(&ram, "ram", RAM_SIZE))
		abort();
	/* As the VMM does: PCI memory below RAM, so a BAR over RAM cannot
	 * hide it. */
	memory_region_init_container(&sys_root, "system", UINT64_MAX);
	memory_region_init_container(&pci_mem, "pci-mem", UINT64_MAX);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, RAM_SIZE);
	memory_region_init_container(&io_root, "io", 0x10000);
	memory_transaction_begin();
	memory_region_add_subregion(&sys_root, 0, &pci_mem, -1);
	memory_region_add_subregion(&sys_root, 0, &ram_mr, 0);
	memory_transaction_commit();
	mem_as = address_space_new("system", &sys_root);
	io_as = address_space_new("io", &io_root);
	for (int i = 0; i < 2; i++)
		for (int b = 0; b < PCI_NUM_BARS; b++)
			bar_tag[i][b].tag = (uint64_t)(0xa0 + 16 * i + b) << 56;
}

static void bar(int i, int b, uint8_t type, uint64_t size)
{
	struct pci_device *d = i ? &dev_b : &dev_a;

	memory_region_init_io(&bar_mr[i][b], "bar", &bar_ops, &bar_tag[i][b], size);
	CHECK(pci_register_bar(d, b, type, &bar_mr[i][b]) == 0);
}

static void build_bus(void)
{
	int cap;

	pci_bus_init(&bus, &pci_mem, &io_root);

	/* A: virtio-like; mem32 4K, mem64 prefetchable 16K, 32 ports, an
	 * MSI-X capability with its control word partly writable and a
	 * vendor one. */
	pci_device_init(&dev_a, "a", 0x1af4, 0x1042, 0x010000, 1);
	bar(0, 0, PCI_BAR_MEM32, 0x1000);
	bar(0, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH, 0x4000);
	bar(0, 4, PCI_BAR_IO, 0x20);
	cap = pci_add_capability(&dev_a, PCI_CAP_ID_MSIX, 12);
	CHECK(cap == 0x40);
	pci_set(&dev_a, cap + 2, 2, 0x0003);
	pci_set_wmask(&dev_a, cap + 2, 2, 0xc000);
	cap = pci_add_capability(&dev_a, PCI_CAP_ID_VNDR, 16);
	pci_set(&dev_a, cap + 2, 1, 16);
	pci_set_wmask(&dev_a, cap + 4, 4, 0xffffffff);
	pci_set_wmask(&dev_a, PCI_INTERRUPT_PIN, 1, 0);
	pci_set(&dev_a, PCI_INTERRUPT_PIN, 1, 1);
	/* Errors the device saw (master abort, parity), for the guest to
	 * clear. */
	pci_set(&dev_a, PCI_STATUS, 2, pci_get(&dev_a, PCI_STATUS, 2) | 0xa100);
	dev_a.bar_update = on_bar_update;
	dev_a.config_write = on_config_write;
	pci_connect_intx(&dev_a, &(struct irq_line){ on_intx, NULL, 10 }, 10);
	intx_wanted = intx_level = false;

	/* B: 4 ports, mem64 8 GiB (low half all type), mem32 2 GiB,
	 * mem32 16 bytes, 256 ports. */
	pci_device_init(&dev_b, "b", 0x8086, 0x100e, 0x020000, 3);
	bar(1, 0, PCI_BAR_IO, 4);
	bar(1, 1, PCI_BAR_MEM64, 1ull << 33);
	bar(1, 3, PCI_BAR_MEM32, 1ull << 31);
	bar(1, 4, PCI_BAR_MEM32 | PCI_BAR_PREFETCH, 16);
	bar(1, 5, PCI_BAR_IO, 256);
	CHECK(pci_add_capability(&dev_b, PCI_CAP_ID_MSI, 24) == 0x40);
	dev_b.bar_update = on_bar_update;
	dev_b.config_write = on_config_write;

	CHECK(pci_bus_add_device(&bus, &dev_a, 3) == 3);
	CHECK(pci_bus_add_device(&bus, &dev_b, -1) == 1);
	devs[0] = &bus.host_bridge;
	devs[1] = &dev_a;
	devs[2] = &dev_b;
	for (int i = 0; i < NDEV; i++)
		memcpy(config0[i], devs[i]->config, PCI_CONFIG_SIZE);
	memset(said_mapped, 0, sizeof(said_mapped));
	memset(said_addr, 0, sizeof(said_addr));
}

/* Does a mapped BAR other than @mr decode @a in @space? */
static bool bar_at(const struct memory_region *space,
		   const struct memory_region *mr, uint64_t a)
{
	for (int i = 0; i < 2; i++)
		for (int b = 0; b < PCI_NUM_BARS; b++) {
			const struct memory_region *o = &bar_mr[i][b];

			if (o != mr && o->parent == space && a >= o->addr &&
			    a - o->addr < o->size)
				return true;
		}
	return false;
}

/* ... or anything else: RAM over the PCI hole, the config ports. */
static bool shadowed(const struct memory_region *space,
		     const struct memory_region *mr, uint64_t a)
{
	if (bar_at(space, mr, a))
		return true;
	if (space == &pci_mem)
		return a < RAM_SIZE;
	return a >= 0xcf8 && a < 0xd00;
}

static void check_device(int n)
{
	const struct pci_device *d = devs[n];
	uint16_t cmd = (uint16_t)pci_get(d, PCI_COMMAND, 2);

	/* Every read-only bit as the device set it; W1C bits only cleared. */
	for (unsigned off = 0; off < PCI_CONFIG_SIZE; off++) {
		uint8_t w1c = d->w1cmask[off];
		uint8_t ro = (uint8_t)~(d->wmask[off] | w1c);

		CHECK((d->config[off] & ro) == (config0[n][off] & ro));
		CHECK(!(d->config[off] & w1c & ~config0[n][off]));
	}
	CHECK(pci_get(d, PCI_VENDOR_ID, 4) == pci_get(d, 0, 4));
	CHECK(pci_get(d, PCI_VENDOR_ID, 4) == (n == 0 ? 0x29c08086u :
					       n == 1 ? 0x10421af4u : 0x100e8086u));
	CHECK(d->config[PCI_HEADER_TYPE] == 0);
	CHECK(pci_get(d, PCI_ROM_ADDRESS, 4) == 0);
	CHECK(!(cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			PCI_COMMAND_INTX_DISABLE)));

	for (int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &d->bars[i];
		uint32_t v = pci_get(d, PCI_BASE_ADDRESS_0 + 4 * i, 4);
		bool io = b->type & PCI_BAR_IO;
		uint64_t a, last, limit;
		const struct memory_region *space;
		bool want;

		if (!b->size) {
			/* Unimplemented, or a 64-bit BAR's upper half. */
			if (!(i > 0 && d->bars[i - 1].size &&
			      (d->bars[i - 1].type & PCI_BAR_MEM64)))
				CHECK(v == 0);
			CHECK(!b->mapped);
			continue;
		}
		CHECK((v & (io ? 3u : 15u)) == b->type);
		CHECK((v & (uint32_t)(b->size - 1) & (io ? ~3u : ~15u)) == 0);
		a = v & (io ? ~3u : ~15u);
		if (b->type & PCI_BAR_MEM64) {
			uint32_t hi = pci_get(d, PCI_BASE_ADDRESS_0 + 4 * i + 4, 4);

			CHECK((hi & (uint32_t)((b->size - 1) >> 32)) == 0);
			a |= (uint64_t)hi << 32;
		}
		CHECK(a == pci_bar_address(d, i));
		CHECK((a & (b->size - 1)) == 0);
		last = a + b->size - 1;
		limit = io ? 0xffff : (b->type & PCI_BAR_MEM64) ? UINT64_MAX - 1 :
			UINT32_MAX - 1;
		want = (cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) &&
		       a != 0 && last >= a && last <= limit;
		space = io ? &io_root : &pci_mem;

		CHECK(b->mapped == want);
		CHECK(n > 0);
		CHECK(b->mr == &bar_mr[n - 1][i]);
		if (want) {
			const struct memory_region *hit = NULL;
			uint8_t byte;

			CHECK(b->addr == a);
			CHECK(b->mr->parent == space && b->mr->addr == a);
			CHECK(said_mapped[n - 1][i] && said_addr[n - 1][i] == a);
			if (!shadowed(space, b->mr, a)) {
				address_space_rw(io ? io_as : mem_as, a, &byte, 1,
						 false, &hit);
				CHECK(hit == b->mr);
			}
		} else {
			CHECK(b->mr->parent == NULL);
			CHECK(!said_mapped[n - 1][i]);
		}
	}
}

static void check_all(void)
{
	for (int n = 0; n < NDEV; n++)
		check_device(n);
	/* Only mechanism #1 and the latch: bits 1:0 always read 0. */
	CHECK((bus.config_address & 3) == 0);
	CHECK(!!(dev_a.config[PCI_STATUS] & PCI_STATUS_INTERRUPT) == intx_wanted);
	CHECK(intx_level == (intx_wanted && !(pci_get(&dev_a, PCI_COMMAND, 2) &
					      PCI_COMMAND_INTX_DISABLE)));
}

static unsigned width(unsigned sel)
{
	static const unsigned w[8] = { 1, 2, 4, 4, 1, 2, 8, 3 };

	return w[sel & 7];
}

/* A config-address dword from a few bytes: mostly enabled, bus 0,
 * function 0, a present slot; sometimes anything. */
static uint32_t take_config_address(struct input *in)
{
	unsigned f = (unsigned)take(in, 1);
	static const unsigned slots[4] = { 0, 3, 1, 2 };
	uint32_t a;

	if (f & 0x80)
		return (uint32_t)take(in, 4);
	a = 0x80000000u | slots[f & 3] << 11 | ((unsigned)take(in, 1) & 0xff);
	if (f & 4)
		a |= 1u << 8;		/* function 1 */
	if (f & 8)
		a |= 1u << 16;		/* bus 1 */
	if (f & 16)
		a &= ~0x80000000u;	/* not enabled */
	return a;
}

/* A memory address: RAM, the usual 32-bit hole, a BAR of a device
 * (where the guest put it), or anything. */
static uint64_t take_mem_addr(struct input *in)
{
	unsigned sel = (unsigned)take(in, 1);

	switch (sel & 3) {
	case 0:
		return take(in, 2);
	case 1:
		return 0xfe000000u + take(in, 3);
	case 2: {
		const struct pci_device *d = sel & 4 ? &dev_b : &dev_a;

		return pci_bar_address(d, (sel >> 3) % PCI_NUM_BARS) +
		       take(in, 2) - 8;
	}
	default:
		return take(in, 8);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t buf[8];

	setup_once();
	for (unsigned i = 0; i < RAM_SIZE; i++)
		ram.host[i] = (uint8_t)(i * 7 + 1);
	build_bus();
	check_all();

	for (unsigned ops = 0; in.left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(&in, 1);
		uint64_t v;
		uint32_t a;
		unsigned w, port;

		switch (op % 7) {
		case 0: {	/* outl 0xcf8: the latch reads back, bits 1:0 0 */
			uint32_t back = 0;

			a = take_config_address(&in);
			address_space_write(io_as, 0xcf8, &a, 4);
			address_space_read(io_as, 0xcf8, &back, 4);
			if (!bar_at(&io_root, NULL, 0xcf8))
				CHECK(back == (a & ~3u));
			break;
		}
		case 1:		/* out to 0xcf8 + k (or any port), any width */
		case 2: {	/* in */
			unsigned s = (unsigned)take(&in, 1);

			port = s & 0x80 ? (unsigned)take(&in, 2) : 0xcf8 + (s & 7);
			w = width(s >> 3);
			v = take(&in, op % 7 == 1 ? w : 0);
			address_space_rw(io_as, port, &v, w, op % 7 == 1, NULL);
			break;
		}
		case 3: {	/* a whole config write: latch, then data */
			unsigned s = (unsigned)take(&in, 1);

			a = take_config_address(&in);
			address_space_write(io_as, 0xcf8, &a, 4);
			w = width(s);
			v = take(&in, w);
			address_space_write(io_as, 0xcfc + ((s >> 3) & 3), &v, w);
			break;
		}
		case 4: {	/* a whole config read */
			unsigned s = (unsigned)take(&in, 1);
			uint32_t r = 0;

			a = take_config_address(&in);
			address_space_write(io_as, 0xcf8, &a, 4);
			w = width(s) > 4 ? 4 : width(s);
			if (w == 3)
				w = 1;
			address_space_read(io_as, 0xcfc + ((s >> 3) & 3), &r, w);
			/* Nothing else on the config ports: the answer is
			 * the latched device's bytes (or all ones). */
			if (!bar_at(&io_root, NULL, 0xcf8) &&
			    !bar_at(&io_root, NULL, 0xcff)) {
				unsigned slot = a >> 11 & 31;
				const struct pci_device *d =
					(a & 0x80000000u) && !(a & 0xff0700) ?
					bus.devices[slot] : NULL;
				unsigned off = (a & 0xfc) + ((s >> 3) & 3);
				uint32_t want = 0;

				/* A wide access past 0xcff is cut there. */
				for (unsigned i = 0; i < w; i++) {
					uint32_t byte = !d || off + i >= PCI_CONFIG_SIZE ?
						0xff : d->config[off + i];

					if (((s >> 3) & 3) + i >= 4)
						byte = 0xff;
					want |= byte << (8 * i);
				}
				if (((s >> 3) & 3) + w <= 4)
					CHECK(r == want);
			}
			break;
		}
		case 5:		/* device A wants INTx up or down */
			intx_wanted = take(&in, 1) & 1;
			pci_set_irq(&dev_a, intx_wanted);
			/* Read-only for the guest, but the device's to set. */
			config0[1][PCI_STATUS] = (uint8_t)((config0[1][PCI_STATUS] &
				~PCI_STATUS_INTERRUPT) |
				(intx_wanted ? PCI_STATUS_INTERRUPT : 0));
			break;
		default: {	/* system memory */
			unsigned s = (unsigned)take(&in, 1);
			uint64_t addr = take_mem_addr(&in);
			bool write = s & 1;

			w = width(s >> 1);
			v = take(&in, write ? w : 0);
			memcpy(buf, &v, 8);
			address_space_rw(mem_as, addr, buf, w, write, NULL);
			if (!write && addr < RAM_SIZE && w <= RAM_SIZE - addr)
				CHECK(!memcmp(buf, ram.host + addr, w));
			break;
		}
		}
		check_all();
	}

	pci_bus_destroy(&bus);
	CHECK(!intx_level);
	for (int i = 0; i < 2; i++)
		for (int b = 0; b < PCI_NUM_BARS; b++)
			CHECK(bar_mr[i][b].parent == NULL);
	CHECK(bus.cf8.parent == NULL && bus.cfc.parent == NULL);
	CHECK(io_root.subregions == NULL && pci_mem.subregions == NULL);
	return 0;
}
