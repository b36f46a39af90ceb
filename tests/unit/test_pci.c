/* PCI: mechanism #1 through an io address space, header masks, BAR sizing,
 * BAR mapping into the memory and I/O trees, capability lists. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/device.h"
#include "devices/pci/pci.h"
#include "memory/address_space.h"
#include "memory/region.h"

static struct memory_region io_root, mem_root;
static struct address_space *io_as, *mem_as;
static struct pci_bus bus;

/* A device whose BARs answer with a tag and record accesses. */
struct bar_dev {
	uint64_t tag;
	unsigned reads;
};

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct bar_dev *b = opaque;

	(void)size;
	b->reads++;
	return b->tag + off;
}

static void bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	(void)opaque; (void)off; (void)val; (void)size;
}

static const struct memory_region_ops bar_ops = {
	.read = bar_read, .write = bar_write,
	.valid = { .min = 1, .max = 4 }, .impl = { .min = 4, .max = 4 },
};

static struct pci_device dev;
static struct bar_dev b0 = { .tag = 0xb0000000 }, b2 = { .tag = 0xb2000000 },
		      b4 = { .tag = 0xb4000000 };
static struct memory_region mr0, mr2, mr4;

struct update {
	int bar;
	bool mapped;
	uint64_t addr;
};
static struct update updates[16];
static unsigned nupdates;

static void on_bar_update(struct pci_device *d, int bar, bool mapped,
			  uint64_t addr)
{
	cr_assert_eq(d, &dev);
	cr_assert_lt(nupdates, 16);
	updates[nupdates++] = (struct update){ bar, mapped, addr };
}

static void setup(void)
{
	memory_region_init_container(&io_root, "io", 0x10000);
	memory_region_init_container(&mem_root, "pci-mem", UINT64_MAX);
	io_as = address_space_new("io", &io_root);
	mem_as = address_space_new("mem", &mem_root);
	pci_bus_init(&bus, &mem_root, &io_root);
	b0.reads = b2.reads = b4.reads = 0;
	nupdates = 0;

	/* A virtio-blk-like device: 4 KiB mem32 BAR0, 16 KiB prefetchable
	 * mem64 BAR2/3, 32-port I/O BAR4. */
	pci_device_init(&dev, "test", 0x1af4, 0x1042, 0x010000, 1);
	memory_region_init_io(&mr0, "bar0", &bar_ops, &b0, 0x1000);
	memory_region_init_io(&mr2, "bar2", &bar_ops, &b2, 0x4000);
	memory_region_init_io(&mr4, "bar4", &bar_ops, &b4, 0x20);
	cr_assert_eq(pci_register_bar(&dev, 0, PCI_BAR_MEM32, &mr0), 0);
	cr_assert_eq(pci_register_bar(&dev, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
				      &mr2), 0);
	cr_assert_eq(pci_register_bar(&dev, 4, PCI_BAR_IO, &mr4), 0);
	dev.bar_update = on_bar_update;
	cr_assert_eq(pci_bus_add_device(&bus, &dev, 3), 3);
}

static void teardown(void)
{
	pci_bus_destroy(&bus);
	address_space_destroy(io_as);
	address_space_destroy(mem_as);
}

TestSuite(pci, .init = setup, .fini = teardown);

static uint32_t addr_of(unsigned busno, unsigned slot, unsigned fn,
			unsigned reg)
{
	return 0x80000000u | busno << 16 | slot << 11 | fn << 8 | reg;
}

static void outl(uint16_t port, uint32_t v)
{
	cr_assert_eq(address_space_write(io_as, port, &v, 4), MEMTX_OK);
}

static void outw(uint16_t port, uint16_t v)
{
	address_space_write(io_as, port, &v, 2);
}

static void outb(uint16_t port, uint8_t v)
{
	address_space_write(io_as, port, &v, 1);
}

static uint32_t inl(uint16_t port)
{
	uint32_t v = 0;

	address_space_read(io_as, port, &v, 4);
	return v;
}

static uint16_t inw(uint16_t port)
{
	uint16_t v = 0;

	address_space_read(io_as, port, &v, 2);
	return v;
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	address_space_read(io_as, port, &v, 1);
	return v;
}

static uint32_t cfg_read(unsigned slot, unsigned reg)
{
	outl(0xcf8, addr_of(0, slot, 0, reg & 0xfc));
	return inl(0xcfc);
}

static void cfg_write(unsigned slot, unsigned reg, uint32_t v)
{
	outl(0xcf8, addr_of(0, slot, 0, reg & 0xfc));
	outl(0xcfc, v);
}

static uint32_t mem_read32(uint64_t addr)
{
	uint32_t v = 0;

	address_space_read(mem_as, addr, &v, 4);
	return v;
}

/* ---- mechanism #1 ---- */

Test(pci, host_bridge_and_absent_devices)
{
	cr_assert_eq(cfg_read(0, PCI_VENDOR_ID), 0x29c08086);
	cr_assert_eq(cfg_read(0, 0x08) >> 8, 0x060000);
	cr_assert_eq(cfg_read(3, PCI_VENDOR_ID), 0x10421af4);
	cr_assert_eq(cfg_read(3, 0x08), 0x01000001);
	cr_assert_eq(cfg_read(1, PCI_VENDOR_ID), 0xffffffff);
	cr_assert_eq(cfg_read(31, PCI_VENDOR_ID), 0xffffffff);
	/* Other buses, other functions: nobody. */
	outl(0xcf8, addr_of(1, 0, 0, 0));
	cr_assert_eq(inl(0xcfc), 0xffffffff);
	outl(0xcf8, addr_of(0, 0, 1, 0));
	cr_assert_eq(inl(0xcfc), 0xffffffff);
	cr_assert_eq(inw(0xcfe), 0xffff);
	/* Enable bit clear: nothing, whatever the address. */
	outl(0xcf8, 0x00000000);
	cr_assert_eq(inl(0xcfc), 0xffffffff);
	outl(0xcfc, 0);
	cr_assert_eq(cfg_read(0, 0), 0x29c08086);
}

Test(pci, address_latch)
{
	outl(0xcf8, addr_of(0, 3, 0, 0x10) | 3);	/* low bits read 0 */
	cr_assert_eq(inl(0xcf8), addr_of(0, 3, 0, 0x10));
	/* Byte and word writes do not touch the latch. */
	outb(0xcf8, 0x44);
	outw(0xcfa, 0x1234);
	outb(0xcfb, 0);
	cr_assert_eq(inl(0xcf8), addr_of(0, 3, 0, 0x10));
	cr_assert_eq(inb(0xcfb), 0x80);
}

/* ---- the reset control register, 0xCF9, among the CONFIG_ADDRESS ports ---- */

static unsigned resets;

static void on_system_event(void *host, enum system_event ev)
{
	(void)host;
	cr_assert_eq(ev, SYSTEM_RESET);
	resets++;
}

static const struct device_env rcr_env = { .system_event = on_system_event };

Test(pci, reset_control_register)
{
	bus.env = &rcr_env;
	resets = 0;
	outl(0xcf8, addr_of(0, 3, 0, 0x10));
	cr_assert_eq(inb(0xcf9), 0x00);
	outb(0xcf9, 0x02);			/* hard reset picked, not started */
	cr_assert_eq(inb(0xcf9), 0x02);
	outb(0xcf9, 0xfa);			/* reserved bits dropped */
	cr_assert_eq(inb(0xcf9), 0x02);
	cr_assert_eq(resets, 0);
	cr_assert_eq(inl(0xcf8), addr_of(0, 3, 0, 0x10), "the latch is untouched");
	outb(0xcf9, 0x06);			/* Linux's reboot=pci, ACPI's value */
	cr_assert_eq(resets, 1);
	cr_assert_eq(inb(0xcf9), 0x02, "bit 2 reads 0");
	outb(0xcf9, 0x04);			/* a soft reset is a reset too */
	cr_assert_eq(resets, 2);
	cr_assert_eq(inb(0xcf9), 0x00);
	cr_assert_eq(inl(0xcf8), addr_of(0, 3, 0, 0x10));
}

/* Only a byte at 0xCF9 is the RCR; only a dword at 0xCF8 is the latch. */
Test(pci, config_address_port_widths)
{
	uint32_t ones = 0xffffffff;

	bus.env = &rcr_env;
	resets = 0;
	outl(0xcf8, 0xffffffff);		/* the latch, not the RCR */
	cr_assert_eq(resets, 0);
	cr_assert_eq(inb(0xcf9), 0x00);
	cr_assert_eq(inl(0xcf8), 0xfffffffc);
	outl(0xcf8, addr_of(0, 3, 0, 0x10));
	outw(0xcf8, 0xffff);			/* covers 0xcf9, but a word */
	outw(0xcfa, 0xffff);
	cr_assert_eq(address_space_write(io_as, 0xcf9, &ones, 2), MEMTX_ERROR,
		     "unaligned word: rejected");
	cr_assert_eq(resets, 0);
	cr_assert_eq(inb(0xcf9), 0x00);
	cr_assert_eq(inl(0xcf8), addr_of(0, 3, 0, 0x10));
	/* A dword read still returns the latch with the RCR set. */
	outb(0xcf9, 0x02);
	cr_assert_eq(inl(0xcf8), addr_of(0, 3, 0, 0x10));
	cr_assert_eq(inw(0xcf8), addr_of(0, 3, 0, 0x10) & 0xffff);
}

Test(pci, reset_control_register_without_a_machine)
{
	outb(0xcf9, 0x06);			/* bus.env NULL: nothing to ask */
	cr_assert_eq(inb(0xcf9), 0x02);
}

Test(pci, data_port_any_width)
{
	outl(0xcf8, addr_of(0, 3, 0, 0));
	cr_assert_eq(inb(0xcfc), 0xf4);
	cr_assert_eq(inb(0xcfd), 0x1a);
	cr_assert_eq(inb(0xcfe), 0x42);
	cr_assert_eq(inb(0xcff), 0x10);
	cr_assert_eq(inw(0xcfc), 0x1af4);
	cr_assert_eq(inw(0xcfe), 0x1042);
	cr_assert_eq(inw(0xcfd), 0x421a);	/* unaligned: bytes 1-2 */
	/* A byte write at 0xcfd lands in register + 1. */
	outl(0xcf8, addr_of(0, 3, 0, 0x3c));
	outb(0xcfc, 0x0b);
	cr_assert_eq(inb(0xcfc), 0x0b);
	outw(0xcfc, 0xffff);		/* line writable, pin (+1) not */
	cr_assert_eq(inw(0xcfc), 0x00ff);
}

/* ---- header masks ---- */

Test(pci, read_only_header_fields)
{
	cfg_write(3, PCI_VENDOR_ID, 0);
	cfg_write(3, 0x08, 0);
	cfg_write(3, 0x0c, 0xffffffff);		/* cls, lat ok; header type ro */
	cfg_write(3, PCI_SUBSYSTEM_VENDOR_ID, 0);
	cfg_write(3, PCI_ROM_ADDRESS, 0xffffffff);	/* no ROM: stays 0 */
	cfg_write(3, PCI_CAPABILITY_LIST, 0xff);
	cr_assert_eq(cfg_read(3, PCI_VENDOR_ID), 0x10421af4);
	cr_assert_eq(cfg_read(3, 0x08), 0x01000001);
	cr_assert_eq(cfg_read(3, 0x0c), 0x0000ffff);
	cr_assert_eq(cfg_read(3, PCI_SUBSYSTEM_VENDOR_ID), 0x10421af4);
	cr_assert_eq(cfg_read(3, PCI_ROM_ADDRESS), 0);
	cr_assert_eq(cfg_read(3, PCI_CAPABILITY_LIST), 0);
	/* The host bridge too. */
	cfg_write(0, 0, 0x12345678);
	cr_assert_eq(cfg_read(0, 0), 0x29c08086);
}

Test(pci, command_writable_bits_and_status_w1c)
{
	cfg_write(3, PCI_COMMAND, 0x0000ffff);
	cr_assert_eq(cfg_read(3, PCI_COMMAND), 0x0547);
	cfg_write(3, PCI_COMMAND, 0);
	cr_assert_eq(cfg_read(3, PCI_COMMAND), 0);
	/* The device raised two error bits; the guest clears one. */
	pci_set(&dev, PCI_STATUS, 2, 0x8000 | 0x2000 | PCI_STATUS_CAP_LIST);
	cfg_write(3, PCI_COMMAND, 0x2000u << 16);
	cr_assert_eq(cfg_read(3, PCI_COMMAND) >> 16, 0x8000 | PCI_STATUS_CAP_LIST);
	cfg_write(3, PCI_COMMAND, 0xffffu << 16);	/* CAP_LIST is ro */
	cr_assert_eq(cfg_read(3, PCI_COMMAND) >> 16, PCI_STATUS_CAP_LIST);
}

/* ---- BAR sizing ---- */

Test(pci, bar_sizing)
{
	for (unsigned r = 0x10; r < 0x28; r += 4)
		cfg_write(3, r, 0xffffffff);
	cr_assert_eq(cfg_read(3, 0x10), 0xfffff000);		/* 4 KiB mem32 */
	cr_assert_eq(cfg_read(3, 0x14), 0);			/* unused */
	cr_assert_eq(cfg_read(3, 0x18), 0xffffc00c);		/* 16 KiB mem64 pf */
	cr_assert_eq(cfg_read(3, 0x1c), 0xffffffff);		/* upper half */
	cr_assert_eq(cfg_read(3, 0x20), 0xffffffe1);		/* 32 ports */
	cr_assert_eq(cfg_read(3, 0x24), 0);
	/* Back to an address: the type bits stay, the size bits stay 0. */
	cfg_write(3, 0x10, 0xfebf1fff);
	cr_assert_eq(cfg_read(3, 0x10), 0xfebf1000);
	cr_assert_eq(pci_bar_address(&dev, 0), 0xfebf1000);
	cfg_write(3, 0x18, 0x12345678);
	cfg_write(3, 0x1c, 0x00000008);
	cr_assert_eq(cfg_read(3, 0x18), 0x1234400c);
	cr_assert_eq(pci_bar_address(&dev, 2), 0x812344000ull);
	/* Host bridge: no BARs. */
	cfg_write(0, 0x10, 0xffffffff);
	cr_assert_eq(cfg_read(0, 0x10), 0);
}

Test(pci, register_bar_rules)
{
	struct pci_device d;
	struct memory_region mr;

	pci_device_init(&d, "d", 1, 2, 0, 0);
	memory_region_init_io(&mr, "x", &bar_ops, &b0, 0x3000);
	cr_assert_eq(pci_register_bar(&d, 0, PCI_BAR_MEM32, &mr), -1);
	memory_region_init_io(&mr, "x", &bar_ops, &b0, 8);
	cr_assert_eq(pci_register_bar(&d, 0, PCI_BAR_MEM32, &mr), -1);
	cr_assert_eq(pci_register_bar(&d, 0, PCI_BAR_IO, &mr), 0);
	cr_assert_eq(pci_register_bar(&d, 0, PCI_BAR_IO, &mr), -1);	/* taken */
	memory_region_init_io(&mr, "x", &bar_ops, &b0, 512);
	cr_assert_eq(pci_register_bar(&d, 1, PCI_BAR_IO, &mr), -1);	/* > 256 */
	cr_assert_eq(pci_register_bar(&d, 5, PCI_BAR_MEM64, &mr), -1);	/* no 6 */
	cr_assert_eq(pci_register_bar(&d, 6, PCI_BAR_MEM32, &mr), -1);
	cr_assert_eq(pci_register_bar(&d, 4, PCI_BAR_MEM64, &mr), 0);
	cr_assert_eq(pci_register_bar(&d, 5, PCI_BAR_MEM32, &mr), -1);	/* upper half */
	/* Plugged devices keep their BARs. */
	cr_assert_eq(pci_register_bar(&dev, 1, PCI_BAR_MEM32, &mr), -1);
}

/* ---- BAR mapping ---- */

Test(pci, memory_bar_maps_only_when_enabled_and_addressed)
{
	/* Enabled with BAR 0 still 0: nothing mapped. */
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_MEMORY);
	cr_assert_eq(nupdates, 0);
	cr_assert_eq(mem_read32(0), 0xffffffff);

	cfg_write(3, 0x10, 0xfebf0000);
	cr_assert_eq(nupdates, 1);
	cr_assert_eq(updates[0].bar, 0);
	cr_assert(updates[0].mapped);
	cr_assert_eq(updates[0].addr, 0xfebf0000);
	cr_assert_eq(mem_read32(0xfebf0010), 0xb0000010);

	/* Moved. */
	cfg_write(3, 0x10, 0xfebf8000);
	cr_assert_eq(nupdates, 2);
	cr_assert_eq(updates[1].addr, 0xfebf8000);
	cr_assert_eq(mem_read32(0xfebf0010), 0xffffffff);
	cr_assert_eq(mem_read32(0xfebf8004), 0xb0000004);

	/* Memory decode off (I/O on, which BAR 0 does not care about). */
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_IO);
	cr_assert_eq(nupdates, 3);
	cr_assert_not(updates[2].mapped);
	cr_assert_eq(mem_read32(0xfebf8004), 0xffffffff);

	/* Same state again: no callback. */
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_IO);
	cr_assert_eq(nupdates, 3);
}

Test(pci, sizing_with_decode_on_unmaps)
{
	cfg_write(3, 0x10, 0xfebf0000);
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_MEMORY);
	cr_assert_eq(mem_read32(0xfebf0000), 0xb0000000);
	cfg_write(3, 0x10, 0xffffffff);	/* 0xfffff000 + 4K ends at 2^32 - 1 */
	cr_assert_not(dev.bars[0].mapped);
	cr_assert_eq(mem_read32(0xfffff000), 0xffffffff);
	cr_assert_eq(mem_read32(0xfebf0000), 0xffffffff);
	cfg_write(3, 0x10, 0xfebf0000);
	cr_assert(dev.bars[0].mapped);
	cr_assert_eq(mem_read32(0xfebf0000), 0xb0000000);
	/* Address 0 unmaps too. */
	cfg_write(3, 0x10, 0);
	cr_assert_not(dev.bars[0].mapped);
	cr_assert_eq(nupdates, 4);
}

Test(pci, bar64_above_4g)
{
	cfg_write(3, 0x18, 0x00000000);
	cfg_write(3, 0x1c, 0x00000001);
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_MEMORY);
	cr_assert(dev.bars[2].mapped);
	cr_assert_eq(dev.bars[2].addr, 0x100000000ull);
	cr_assert_eq(mem_read32(0x100000008ull), 0xb2000008);
	/* Sizing both halves with decode on: unmapped. */
	cfg_write(3, 0x18, 0xffffffff);
	cfg_write(3, 0x1c, 0xffffffff);
	cr_assert_not(dev.bars[2].mapped);
	cr_assert_eq(updates[nupdates - 1].bar, 2);
	cr_assert_not(updates[nupdates - 1].mapped);
}

Test(pci, io_bar_maps_in_port_space)
{
	cfg_write(3, 0x20, 0xc041);
	cr_assert_not(dev.bars[4].mapped);	/* I/O decode off */
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_IO);
	cr_assert(dev.bars[4].mapped);
	cr_assert_eq(dev.bars[4].addr, 0xc040);
	cr_assert_eq(inl(0xc044), 0xb4000004);
	cr_assert_eq(b4.reads, 1);
	/* Past the 64K port space: not mapped. */
	cfg_write(3, 0x20, 0x10000);
	cr_assert_not(dev.bars[4].mapped);
	cfg_write(3, 0x20, 0xffe0);
	cr_assert(dev.bars[4].mapped);
	cr_assert_eq(inl(0xffe0), 0xb4000000);
	/* Memory BARs stay off: only I/O decode is on. */
	cfg_write(3, 0x10, 0xfebf0000);
	cr_assert_not(dev.bars[0].mapped);
}

/* The chipset decodes 0xCF8-0xCFF first: an I/O BAR put over them does
 * not take config access away (the guest could never move it back). */
Test(pci, io_bar_cannot_hide_the_config_ports)
{
	cfg_write(3, 0x20, 0xcc0);		/* 0xcc0-0xcff: over 0xcf8 */
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_IO);
	cr_assert(dev.bars[4].mapped);
	cr_assert_eq(inl(0xcc4), 0xb4000004, "the BAR decodes below the ports");
	cr_assert_eq(cfg_read(3, 0x20), 0xcc1, "config reads still reach the device");
	cfg_write(3, 0x20, 0xc040);
	cr_assert_eq(dev.bars[4].addr, 0xc040, "and the guest can move it away");
}

static unsigned hook_off, hook_size;
static uint32_t hook_val;

static void hook(struct pci_device *d, unsigned off, uint32_t val,
		 unsigned size)
{
	(void)d;
	hook_off = off;
	hook_val = val;
	hook_size = size;
}

Test(pci, config_write_hook_sees_guest_writes)
{
	dev.config_write = hook;
	outl(0xcf8, addr_of(0, 3, 0, 0x40));
	outw(0xcfe, 0xabcd);
	cr_assert_eq(hook_off, 0x42);
	cr_assert_eq(hook_val, 0xabcd);
	cr_assert_eq(hook_size, 2);
	dev.config_write = NULL;
}

/* ---- capabilities and slots ---- */

Test(pci, capability_list)
{
	struct pci_device d;
	int a, b, c;

	pci_device_init(&d, "caps", 1, 2, 0, 0);
	cr_assert_eq(d.config[PCI_STATUS] & PCI_STATUS_CAP_LIST, 0);
	a = pci_add_capability(&d, PCI_CAP_ID_MSIX, 12);
	b = pci_add_capability(&d, PCI_CAP_ID_VNDR, 14);	/* ends at 0x5a */
	c = pci_add_capability(&d, PCI_CAP_ID_VNDR, 20);
	cr_assert_eq(a, 0x40);
	cr_assert_eq(b, 0x4c);
	cr_assert_eq(c, 0x5c);
	cr_assert_eq(d.config[PCI_STATUS] & PCI_STATUS_CAP_LIST,
		     PCI_STATUS_CAP_LIST);
	cr_assert_eq(d.config[PCI_CAPABILITY_LIST], 0x40);
	cr_assert_eq(pci_get(&d, 0x40, 2), 0x4c11);
	cr_assert_eq(pci_get(&d, 0x4c, 2), 0x5c09);
	cr_assert_eq(pci_get(&d, 0x5c, 2), 0x0009);
	cr_assert_eq(pci_find_capability(&d, PCI_CAP_ID_VNDR), 0x4c);
	cr_assert_eq(pci_find_capability(&d, PCI_CAP_ID_MSI), 0);
	/* Read-only unless opened. */
	pci_set_wmask(&d, a + 2, 2, 0xc000);
	pci_config_write(&d, a, 0xffffffff, 4);
	cr_assert_eq(pci_config_read(&d, a, 4), 0xc0004c11);
	/* Fill the rest: 0x70 .. 0xff holds 0x90 bytes. */
	cr_assert_eq(pci_add_capability(&d, 0x10, 0x90), 0x70);
	cr_assert_eq(pci_add_capability(&d, 0x10, 4), -1);
	cr_assert_eq(pci_add_capability(&d, 0x10, 1), -1);
}

Test(pci, config_access_past_the_end)
{
	pci_set(&dev, 0xfc, 4, 0x11223344);
	cr_assert_eq(pci_config_read(&dev, 0xfe, 4), 0xffff1122);
	pci_set_wmask(&dev, 0xfc, 4, 0xffffffff);
	pci_config_write(&dev, 0xff, 0xaabbccdd, 4);
	cr_assert_eq(pci_get(&dev, 0xfc, 4), 0xdd223344);
}

Test(pci, slots)
{
	static struct pci_device d[PCI_SLOTS];
	int n = 0;

	for (int i = 0; i < PCI_SLOTS; i++) {
		pci_device_init(&d[i], "d", 1, (uint16_t)i, 0, 0);
		if (pci_bus_add_device(&bus, &d[i], -1) >= 0)
			n++;
	}
	cr_assert_eq(n, PCI_SLOTS - 2);		/* 0 and 3 were taken */
	cr_assert_eq(d[0].slot, 1);
	cr_assert_eq(d[1].slot, 2);
	cr_assert_eq(d[2].slot, 4);
	cr_assert_eq(cfg_read(4, 0), 0x00020001);
	struct pci_device extra;

	pci_device_init(&extra, "x", 1, 2, 0, 0);
	cr_assert_eq(pci_bus_add_device(&bus, &extra, -1), -1);
	cr_assert_eq(pci_bus_add_device(&bus, &extra, 32), -1);
	cr_assert_eq(pci_bus_add_device(&bus, &d[0], 5), -1);	/* plugged */
}

/* ---- INTx ---- */

/* What the board's end of a line saw: every call, in order. */
static struct {
	unsigned calls, n;
	bool level;
} line_seen[2];

static void on_line(void *opaque, unsigned n, bool level)
{
	unsigned i = opaque == &line_seen[1];

	line_seen[i].calls++;
	line_seen[i].n = n;
	line_seen[i].level = level;
}

/* dev with INTA#, connected to line 0 (input 5 of its receiver) and the
 * Interrupt Line register saying IRQ 11. */
static void connect_intx(void)
{
	struct irq_line l = { on_line, &line_seen[0], 5 };

	memset(line_seen, 0, sizeof(line_seen));
	pci_set(&dev, PCI_INTERRUPT_PIN, 1, PCI_INTERRUPT_PIN_A);
	pci_connect_intx(&dev, &l, 11);
}

static uint16_t status_reg(void)
{
	return (uint16_t)(cfg_read(3, PCI_COMMAND) >> 16);
}

Test(pci, interrupt_pin_read_only_line_writable)
{
	connect_intx();
	cr_assert_eq(cfg_read(3, PCI_INTERRUPT_LINE), 0x010b, "pin A, IRQ 11");
	cfg_write(3, PCI_INTERRUPT_LINE, 0xffff0405);
	cr_assert_eq(cfg_read(3, PCI_INTERRUPT_LINE), 0x0105,
		     "the line register is the OS's scratch; the pin is fixed");
	cr_assert_eq(line_seen[0].calls, 0, "config writes raise nothing");
}

Test(pci, set_irq_drives_the_line_and_status_bit)
{
	connect_intx();
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, 0);
	pci_set_irq(&dev, true);
	cr_assert_eq(line_seen[0].calls, 1);
	cr_assert(line_seen[0].level);
	cr_assert_eq(line_seen[0].n, 5);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
	/* The same level again is no new edge for the board. */
	pci_set_irq(&dev, true);
	cr_assert_eq(line_seen[0].calls, 1);
	pci_set_irq(&dev, false);
	cr_assert_eq(line_seen[0].calls, 2);
	cr_assert_not(line_seen[0].level);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, 0);
	pci_set_irq(&dev, false);
	cr_assert_eq(line_seen[0].calls, 2);
}

/* PCI 3.0, 6.2.2: Interrupt Disable keeps INTx# deasserted; Interrupt
 * Status still shows what the device wants. */
Test(pci, interrupt_disable_masks_the_line_not_the_status)
{
	connect_intx();
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
	pci_set_irq(&dev, true);
	cr_assert_eq(line_seen[0].calls, 0);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
	/* Enabled again while wanted: asserted now. */
	cfg_write(3, PCI_COMMAND, 0);
	cr_assert_eq(line_seen[0].calls, 1);
	cr_assert(line_seen[0].level);
	/* Disabled while asserted: deasserted now, the status stays. */
	outl(0xcf8, addr_of(0, 3, 0, PCI_COMMAND));
	outb(0xcfd, PCI_COMMAND_INTX_DISABLE >> 8);	/* the byte alone */
	cr_assert_eq(line_seen[0].calls, 2);
	cr_assert_not(line_seen[0].level);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
	/* Other command writes that leave the bit set change nothing. */
	cfg_write(3, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_MEMORY);
	pci_set_irq(&dev, false);
	cr_assert_eq(line_seen[0].calls, 2);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, 0);
}

Test(pci, interrupt_status_read_only_for_the_guest)
{
	connect_intx();
	cfg_write(3, PCI_COMMAND, 0xffffu << 16);	/* W1C everything */
	cfg_write(3, PCI_COMMAND, 0);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, 0, "not settable");
	pci_set_irq(&dev, true);
	cfg_write(3, PCI_COMMAND, 0xffffu << 16);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT,
		     "not clearable");
	cr_assert_eq(line_seen[0].calls, 1);
	cr_assert(line_seen[0].level);
}

Test(pci, reconnect_moves_a_raised_line)
{
	struct irq_line other = { on_line, &line_seen[1], 7 };

	connect_intx();
	pci_set_irq(&dev, true);
	pci_connect_intx(&dev, &other, 10);
	cr_assert_eq(line_seen[0].calls, 2);
	cr_assert_not(line_seen[0].level);
	cr_assert_eq(line_seen[1].calls, 1);
	cr_assert(line_seen[1].level);
	cr_assert_eq(line_seen[1].n, 7);
	cr_assert_eq(cfg_read(3, PCI_INTERRUPT_LINE) & 0xff, 10);
	/* Unconnected: levels go nowhere, the status still shows. */
	pci_connect_intx(&dev, NULL, 0xff);
	cr_assert_eq(line_seen[1].calls, 2);
	cr_assert_not(line_seen[1].level);
	pci_set_irq(&dev, false);
	pci_set_irq(&dev, true);
	cr_assert_eq(line_seen[0].calls + line_seen[1].calls, 4);
	cr_assert_eq(status_reg() & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
}

/* An unplugged device leaves a shared line to the others. */
Test(pci, unplug_lowers_the_line)
{
	connect_intx();
	pci_set_irq(&dev, true);
	pci_bus_remove_device(&bus, &dev);
	cr_assert_eq(line_seen[0].calls, 2);
	cr_assert_not(line_seen[0].level);
}
