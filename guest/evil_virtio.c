/* evil-virtio: the bundled guest as a hostile virtio-blk driver. Selected
 * with the command line word "evil-virtio" (tests/boot/test_evil.c runs it
 * on tinyvmm). It abuses PCI config space, moves BARs over RAM, the local
 * APIC and the ROM, writes junk to every virtio register, hands the device
 * rings and buffers outside RAM, loops, over-long and nested chains,
 * misdirected buffers, absurd sectors and lengths, a corrupt avail ring,
 * junk MSI messages, a notify storm, and resets with requests in flight. None of it may
 * crash or hang the VMM or write the disk; then the device, initialised
 * properly, must still read the disk. The exit status is 0 when it does.
 * Each attack prints "# evil: ..." with what the device answered. */
#include "apic.h"
#include "boot.h"
#include "io.h"
#include "lib.h"
#include "tests.h"
#include "virtio_blk.h"

/* virtio-pci common configuration (virtio 1.2, 4.1.4.3) */
enum { C_STATUS = 0x14, C_QSELECT = 0x16, C_QSIZE = 0x18, C_QENABLE = 0x1c,
       C_QDESC = 0x20, C_QAVAIL = 0x28, C_QUSED = 0x30, C_END = 0x40 };

#define VRING_NEXT	1
#define VRING_WRITE	2
#define VRING_INDIRECT	4
#define POLL_LOOPS	200000	/* ~0.2-1 s of emulated pause loops */
#define LAPIC_PAGE	0xfee00000ull
#define NO_RAM		0x7ffffffff000ull	/* far above any guest RAM */

static struct vblk vb;
static uint8_t data[4096] __attribute__((aligned(4096)));
static struct vring_desc table[8] __attribute__((aligned(16)));

/* ---- raw transport access ---- */

static void common_write(unsigned off, uint64_t v, unsigned size)
{
	uint64_t a = vb.common + off;

	switch (size) {
	case 1: mmio_write8(a, (uint8_t)v); break;
	case 2: mmio_write16(a, (uint16_t)v); break;
	case 4: mmio_write32(a, (uint32_t)v); break;
	default: *(volatile uint64_t *)a = v;
	}
}

static void common_read_all(void)
{
	for (unsigned off = 0; off < C_END; off++)
		(void)mmio_read8(vb.common + off);
}

/* A fresh, properly initialised device (the attacks below break it). */
static bool fresh(void)
{
	return vblk_init(&vb, VBLK_F_ALL) == 0;
}

/* Polls until the device returned a used element (no interrupt needed:
 * some attacks break MSI-X on purpose). */
static bool wait_used(uint16_t before)
{
	for (unsigned i = 0; i < POLL_LOOPS; i++) {
		if (vb.dma->used.idx != before)
			return true;
		cpu_relax();
	}
	return false;
}

/* Makes descriptor chain @head available, notifies, and reports what the
 * device did: the used length, or that it flagged NEEDS_RESET. */
static void post_raw(const char *what, uint16_t head)
{
	uint16_t before = vb.dma->used.idx;
	uint16_t i = vb.dma->avail.idx;

	vb.dma->avail.ring[i % vb.qsize] = head;
	__atomic_store_n(&vb.dma->avail.idx, (uint16_t)(i + 1), __ATOMIC_RELEASE);
	mmio_write16(vb.notify, 0);
	if (wait_used(before))
		printf("# evil: %s: completed, used.len %u, status %u\n", what,
		       vb.dma->used.ring[before % vb.qsize].len, vb.dma->status[0]);
	else
		printf("# evil: %s: not completed, device status %#x\n", what,
		       vblk_device_status(&vb));
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	vb.dma->desc[i] = (struct vring_desc){ addr, len, flags, next };
}

/* Header (slot 0) -> @addr/@len/@flags -> status. */
static void request(const char *what, uint32_t type, uint64_t sector,
		    uint64_t addr, uint32_t len, uint16_t flags)
{
	if (!fresh())
		return;
	vb.dma->hdr[0] = (struct virtio_blk_req_hdr){ type, 0, sector };
	vb.dma->status[0] = 0xee;
	desc(0, (uint64_t)&vb.dma->hdr[0], 16, VRING_NEXT, 1);
	desc(1, addr, len, flags | VRING_NEXT, 2);
	desc(2, (uint64_t)&vb.dma->status[0], 1, VRING_WRITE, 0);
	post_raw(what, 0);
}

/* ---- the attacks ---- */

/* Every config dword of every function written with ones, then restored
 * (command last, so the BARs are back before they decode again). */
static void attack_config_space(void)
{
	for (unsigned f = 0; f < pci_scan(); f++) {
		struct pci_dev *d = pci_func(f);
		uint32_t saved[64];
		uint16_t vendor = d->vendor;

		for (unsigned off = 0; off < 256; off += 4)
			saved[off / 4] = pci_read32(d, off);
		for (unsigned off = 0; off < 256; off += 4)
			pci_write32(d, off, 0xffffffff);
		printf("# evil: config space of %02x.%u all ones: vendor now %#x (was %#x)\n",
		       d->slot, d->fn, pci_read16(d, PCI_VENDOR_ID), vendor);
		for (unsigned off = 256; off > 4; off -= 4)
			pci_write32(d, off - 4, saved[off / 4 - 1]);
		pci_write32(d, PCI_COMMAND, saved[PCI_COMMAND / 4]);
	}
}

/* The virtio BARs over RAM (our own code), the LAPIC and the ROM, then a
 * thousand decode toggles; the guest keeps running on RAM that a BAR
 * cannot hide. */
static void attack_bars(void)
{
	static const uint64_t places[] = { 0x100000, LAPIC_PAGE, 0xfffc0000, 0 };
	struct pci_dev *d = vb.pci;
	uint32_t lo = pci_read32(d, PCI_BAR0 + 16), hi = pci_read32(d, PCI_BAR0 + 20);
	uint32_t msix_bar = pci_read32(d, PCI_BAR0 + 4);
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	for (unsigned i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		pci_write32(d, PCI_BAR0 + 16, (uint32_t)places[i]);
		pci_write32(d, PCI_BAR0 + 20, 0);
		(void)apic_read(0x30);		/* the LAPIC still answers */
	}
	/* Both BARs at one address: they overlap each other. */
	pci_write32(d, PCI_BAR0 + 4, pci_read32(d, PCI_BAR0 + 16) & ~0xfu);
	pci_write32(d, PCI_BAR0 + 20, 0xffffffff);	/* top of 2^64 */
	for (unsigned i = 0; i < 1000; i++)
		pci_write16(d, PCI_COMMAND, (uint16_t)(i & 1 ? cmd : 0));
	pci_write32(d, PCI_BAR0 + 4, msix_bar);
	pci_write32(d, PCI_BAR0 + 16, lo);
	pci_write32(d, PCI_BAR0 + 20, hi);
	pci_write16(d, PCI_COMMAND, cmd);
	printf("# evil: BARs over RAM, LAPIC, ROM, each other, 2^64; 1000 decode "
	       "toggles; LAPIC version %#x\n", apic_read(0x30));
}

/* Every common register at every width with ones and zeros; every notify
 * and ISR byte; the device config written. */
static void attack_registers(void)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };

	for (unsigned s = 0; s < 4; s++)
		for (unsigned off = 0; off + sizes[s] <= C_END; off++) {
			common_write(off, ~0ull, sizes[s]);
			common_read_all();
			common_write(off, 0, sizes[s]);
		}
	for (unsigned off = 0; off < vb.notify_len + 64; off++)
		mmio_write8(vb.notify_base + off, 0xff);
	for (unsigned off = 0; off < 16; off++) {
		(void)mmio_read8(vb.isr + off);
		mmio_write8(vb.devcfg + off, 0xff);
	}
	printf("# evil: junk in every register; device status %#x\n",
	       vblk_device_status(&vb));
}

/* Ones at every width over the whole MSI-X page, with the function masked
 * (ones as a message would be vector 0xff, ExtINT: dropped anyway). */
static void attack_msix_page(void)
{
	uint64_t page = vb.msix_table & ~0xfffull;
	unsigned ctrl = vb.msix_cap + 2;

	pci_write16(vb.pci, ctrl, pci_read16(vb.pci, ctrl) | 0x4000);
	for (unsigned off = 0; off < 4096; off++) {
		mmio_write8(page + off, 0xff);
		if (off % 2 == 0)
			mmio_write16(page + off, 0xffff);
		if (off % 4 == 0)
			mmio_write32(page + off, ~0u);
		if (off % 8 == 0)
			*(volatile uint64_t *)(page + off) = ~0ull;
		(void)mmio_read32(page + (off & ~3u));
	}
	printf("# evil: ones at every width over the MSI-X page\n");
}

/* Notifications with nothing to do, as fast as the guest can write them. */
static void attack_notify_storm(void)
{
	if (!fresh())
		return;
	for (unsigned i = 0; i < 20000; i++)
		mmio_write16(vb.notify, 0);
	printf("# evil: 20000 empty notifies; device status %#x\n",
	       vblk_device_status(&vb));
}

/* Queue sizes and ring addresses the device must refuse at queue_enable. */
static void attack_queue_setup(void)
{
	static const struct { uint16_t size; uint64_t desc; const char *what; } bad[] = {
		{ 8, LAPIC_PAGE, "descriptors in the LAPIC page" },
		{ 8, NO_RAM, "descriptors outside RAM" },
		{ 8, 0xfffffffffffff000ull, "descriptors wrapping 2^64" },
		{ 8, 0x1001, "misaligned descriptors" },
		{ 0, 0x10000, "queue size 0" },
		{ 3, 0x10000, "queue size 3" },
		{ 0x8000, 0x10000, "queue size 32768" },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vblk_begin(&vb) || !vblk_features_ok(&vb, VBIT(VIRTIO_F_VERSION_1)))
			return;
		common_write(C_QSELECT, 0, 2);
		common_write(C_QSIZE, bad[i].size, 2);
		common_write(C_QDESC, bad[i].desc, 8);
		common_write(C_QAVAIL, 0x20000, 8);
		common_write(C_QUSED, 0x30000, 8);
		common_write(C_QENABLE, 1, 2);
		common_write(C_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
		printf("# evil: %s: device status %#x\n", bad[i].what,
		       vblk_device_status(&vb));
	}
}

/* Malformed chains: each must come back (len 0 or IOERR), the disk
 * untouched. */
static void attack_chains(void)
{
	uint64_t ram_start = 0, ram_end = 0;

	boot_ram_range(0x100000, &ram_start, &ram_end);
	if (fresh()) {
		desc(0, (uint64_t)&vb.dma->hdr[0], 16, VRING_NEXT, 0);
		post_raw("chain looping onto itself", 0);
	}
	if (fresh()) {
		for (unsigned i = 0; i < vb.qsize; i++)
			desc(i, (uint64_t)data, 16, VRING_NEXT, (uint16_t)((i + 1) % vb.qsize));
		post_raw("chain through the whole ring and round", 0);
	}
	if (fresh()) {
		desc(0, LAPIC_PAGE, 16 * 4, VRING_INDIRECT, 0);
		post_raw("indirect table in the LAPIC page", 0);
	}
	if (fresh()) {
		table[0] = (struct vring_desc){ (uint64_t)table, 64, VRING_INDIRECT, 0 };
		desc(0, (uint64_t)table, sizeof(table), VRING_INDIRECT, 0);
		post_raw("indirect inside indirect", 0);
	}
	request("read into a buffer crossing the end of RAM", VIRTIO_BLK_T_IN, 0,
		ram_end - 512, 4096, VRING_WRITE);
	request("read of 4 GiB - 1 bytes", VIRTIO_BLK_T_IN, 0, (uint64_t)data,
		0xffffffffu, VRING_WRITE);
	request("read into the LAPIC page", VIRTIO_BLK_T_IN, 0, LAPIC_PAGE, 4096,
		VRING_WRITE);
	request("read into a read-only buffer", VIRTIO_BLK_T_IN, 0, (uint64_t)data,
		4096, 0);
	request("write from a device-writable buffer", VIRTIO_BLK_T_OUT, 0,
		(uint64_t)data, 4096, VRING_WRITE);
	request("write at sector 2^63", VIRTIO_BLK_T_OUT, 1ull << 63,
		(uint64_t)data, 4096, 0);
	request("write of 511 bytes", VIRTIO_BLK_T_OUT, 0, (uint64_t)data, 511, 0);
	request("request type 0xdead", 0xdead, 0, (uint64_t)data, 512, 0);
}

/* Ring corruption: the device must flag NEEDS_RESET, not consume. */
static void attack_rings(void)
{
	if (fresh()) {
		vb.dma->avail.ring[0] = 0xffff;
		post_raw("avail entry naming descriptor 65535", 0xffff);
	}
	if (fresh()) {
		__atomic_store_n(&vb.dma->avail.idx, (uint16_t)1000, __ATOMIC_RELEASE);
		mmio_write16(vb.notify, 0);
		delay_ms(20);
		printf("# evil: avail idx 1000 ahead: device status %#x\n",
		       vblk_device_status(&vb));
	}
}

/* Junk MSI messages: to no APIC, with an illegal vector; then a
 * completion to trigger them. */
static void attack_msix(void)
{
	uint64_t t;

	if (!fresh())
		return;
	t = vb.msix_table;
	mmio_write32(t + 0, 0);			/* not an MSI address */
	request("completion with MSI address 0", VIRTIO_BLK_T_FLUSH, 0,
		(uint64_t)data, 0, 0);
	if (!fresh())
		return;
	mmio_write32(vb.msix_table + 8, 0x05);	/* illegal vector */
	mmio_write8(vb.msix_table + 3, 0xff);	/* a byte access: not allowed */
	mmio_write32(vb.msix_table + 0x800, ~0u);	/* the read-only PBA */
	desc(0, (uint64_t)&vb.dma->hdr[0], 16, VRING_NEXT, 1);
	desc(1, (uint64_t)&vb.dma->status[0], 1, VRING_WRITE, 0);
	vb.dma->hdr[0] = (struct virtio_blk_req_hdr){ VIRTIO_BLK_T_FLUSH, 0, 0 };
	post_raw("completion with vector 5", 0);
}

/* Resets while requests are in flight. */
static void attack_resets(void)
{
	unsigned done = 0;

	for (unsigned i = 0; i < 50 && fresh(); i++, done++) {
		for (unsigned r = 0; r < 8; r++)
			vblk_submit(&vb, VIRTIO_BLK_T_IN, r * 8, data, 4096);
		vblk_kick(&vb);
		common_write(C_STATUS, 0, 1);
	}
	printf("# evil: %u resets with 8 reads in flight\n", done);
}

int evil_virtio(void)
{
	static uint8_t check[64 * 1024] __attribute__((aligned(4096)));

	if (vblk_probe(&vb) != 1 || !fresh()) {
		printf("# evil: no usable virtio-blk device\n");
		return 1;
	}
	attack_config_space();
	attack_bars();
	attack_registers();
	attack_msix_page();
	attack_notify_storm();
	attack_queue_setup();
	attack_chains();
	attack_rings();
	attack_msix();
	attack_resets();
	/* The device must still work, and the disk still hold zeros. */
	memset(check, 0xa5, sizeof(check));
	if (!fresh() || vblk_rw(&vb, VIRTIO_BLK_T_IN, 0, check, sizeof(check),
				sizeof(check)) != VIRTIO_BLK_S_OK) {
		printf("# evil: the device no longer reads\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(check); i++)
		if (check[i]) {
			printf("# evil: the disk was written at byte %zu\n", i);
			return 1;
		}
	printf("# evil: survived; the device still reads the disk\n");
	return 0;
}
