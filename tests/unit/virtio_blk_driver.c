/* The unit tests' guest driver for virtio-blk-pci: see virtio_blk_driver.h. */
#include "tests/unit/virtio_blk_driver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/object.h"
#include "memory/ramblock.h"
#include "memory/region.h"

struct address_space *sys_as;
struct pci_bus bus;
struct device_env env;
struct object *blk;
char disk_path[64];
int disk_fd = -1;
unsigned slot;
struct caps caps;
struct driver drv;

static struct ram_block ram;
static struct memory_region sys_root, io_root, ram_mr, pci_mem;
static struct address_space *io_as;

/* ---- the disk file ---- */

uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / SECTOR * 13 + 1);
}

void write_pattern(uint64_t off, uint64_t len)
{
	static uint8_t buf[64 * 1024];

	for (uint64_t done = 0; done < len; done += sizeof(buf)) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + done + i);
		cr_assert_eq(pwrite(disk_fd, buf, n, (off_t)(off + done)), (ssize_t)n);
	}
}

static void make_disk(void)
{
	strcpy(disk_path, "/tmp/tinyvmm-blk-XXXXXX");
	disk_fd = mkstemp(disk_path);
	cr_assert_geq(disk_fd, 0);
	write_pattern(0, DISK_SIZE);
}

/* ---- machine set-up and teardown ---- */

void machine_init_with(uint16_t queue_size,
		       int (*msi)(void *host, uint64_t addr, uint32_t data))
{
	cr_assert_eq(ram_block_init(&ram, "ram", RAM_SIZE), 0);
	memory_region_init_container(&sys_root, "system", UINT64_MAX);
	memory_region_init_container(&io_root, "io", 0x10000);
	memory_region_init_ram(&ram_mr, "ram", &ram, 0, RAM_SIZE);
	memory_region_init_container(&pci_mem, "pci-mem", UINT64_MAX);
	memory_transaction_begin();
	memory_region_add_subregion(&sys_root, 0, &ram_mr, 0);
	memory_region_add_subregion(&sys_root, 0, &pci_mem, -1);
	memory_transaction_commit();
	sys_as = address_space_new("system", &sys_root);
	io_as = address_space_new("io", &io_root);
	pci_bus_init(&bus, &pci_mem, &io_root);
	env = (struct device_env){
		.system_memory = &sys_root, .io_space = &io_root, .dma = sys_as,
		.pci = &bus, .msi = msi,
	};
	blk = NULL;
	drv = (struct driver){ .qsize = queue_size };
	make_disk();
}

void machine_fini(void)
{
	object_free(blk);	/* unrealizes: the I/O thread is joined */
	blk = NULL;
	pci_bus_destroy(&bus);
	address_space_destroy(sys_as);
	address_space_destroy(io_as);
	memory_region_del_subregion(&sys_root, &ram_mr);
	memory_region_del_subregion(&sys_root, &pci_mem);
	ram_block_destroy(&ram);
	if (disk_fd >= 0)
		close(disk_fd);
	unlink(disk_path);
}

int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ll + t.tv_nsec;
}

/* ---- guest RAM ---- */

void *ram_ptr(uint64_t gpa)
{
	cr_assert_lt(gpa, RAM_SIZE);
	return ram.host + gpa;
}

void put16(uint64_t gpa, uint16_t v) { memcpy(ram_ptr(gpa), &v, 2); }
void put32(uint64_t gpa, uint32_t v) { memcpy(ram_ptr(gpa), &v, 4); }
void put64(uint64_t gpa, uint64_t v) { memcpy(ram_ptr(gpa), &v, 8); }
uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram_ptr(gpa), 4);
	return v;
}

/* ---- MMIO, ports, config space ---- */

uint64_t mmio_read(uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	address_space_read(sys_as, addr, &v, size);
	return v;
}

void mmio_write(uint64_t addr, uint64_t v, unsigned size)
{
	cr_assert_eq(address_space_write(sys_as, addr, &v, size), MEMTX_OK,
		     "MMIO write at %#llx", (unsigned long long)addr);
}

uint64_t common_read(unsigned off, unsigned size)
{
	return mmio_read(BAR4_ADDR + VIRTIO_PCI_COMMON_OFF + off, size);
}

void common_write(unsigned off, uint64_t v, unsigned size)
{
	mmio_write(BAR4_ADDR + VIRTIO_PCI_COMMON_OFF + off, v, size);
}

uint8_t status(void)
{
	return (uint8_t)common_read(STATUS_REG, 1);
}

void set_status(uint8_t s)
{
	common_write(STATUS_REG, s, 1);
}

static void outl(uint16_t port, uint32_t v)
{
	cr_assert_eq(address_space_write(io_as, port, &v, 4), MEMTX_OK);
}

uint32_t cfg_read(unsigned off, unsigned size)
{
	uint32_t v = 0;

	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	address_space_read(io_as, 0xcfc + (off & 3), &v, size);
	return v;
}

void cfg_write(unsigned off, uint32_t v, unsigned size)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	cr_assert_eq(address_space_write(io_as, 0xcfc + (off & 3), &v, size),
		     MEMTX_OK);
}

/* ---- the device and the guest's PCI enumeration ---- */

int blk_create(const char *extra, struct error *err)
{
	char props[256];
	struct object *obj = object_new("virtio-blk-pci");

	cr_assert_not_null(obj);
	snprintf(props, sizeof(props), "path=%s%s%s", disk_path,
		 extra && *extra ? "," : "", extra ? extra : "");
	if (object_property_parse_list(obj, props, err) ||
	    device_realize((struct device *)obj, &env, err)) {
		object_free(obj);
		return -1;
	}
	blk = obj;
	return 0;
}

void pci_find_device(void)
{
	for (slot = 0; slot < 32; slot++)
		if (cfg_read(PCI_VENDOR_ID, 2) == VIRTIO_PCI_VENDOR)
			return;
	cr_assert_fail("no virtio device on bus 0");
}

void pci_walk_caps(void)
{
	unsigned off = cfg_read(PCI_CAPABILITY_LIST, 1), n = 0;

	memset(&caps, 0, sizeof(caps));
	for (; off; off = cfg_read(off + 1, 1)) {
		cr_assert_lt(++n, 48, "capability list loops");
		cr_assert_geq(off, 0x40);
		if (cfg_read(off, 1) == PCI_CAP_ID_MSIX) {
			caps.msix = off;
			continue;
		}
		if (cfg_read(off, 1) != PCI_CAP_ID_VNDR)
			continue;
		switch (cfg_read(off + 3, 1)) {	/* cfg_type */
		case 1: caps.common = off; break;
		case 2: caps.notify = off;
			caps.notify_mult = cfg_read(off + 16, 4);
			break;
		case 3: caps.isr = off; break;
		case 4: caps.device = off; break;
		}
	}
}

void pci_setup(void)
{
	pci_find_device();
	pci_walk_caps();
	cr_assert(caps.common && caps.notify && caps.isr && caps.device && caps.msix);
	cfg_write(PCI_BASE_ADDRESS_0 + 4 * 1, (uint32_t)BAR1_ADDR, 4);
	cfg_write(PCI_BASE_ADDRESS_0 + 4 * 4, (uint32_t)BAR4_ADDR, 4);
	cfg_write(PCI_BASE_ADDRESS_0 + 4 * 5, (uint32_t)(BAR4_ADDR >> 32), 4);
	cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cfg_write(caps.msix + 2, MSIX_CTRL_ENABLE, 2);
	for (unsigned v = 0; v < 2; v++) {
		uint64_t e = BAR1_ADDR + MSIX_ENTRY_SIZE * v;

		mmio_write(e + 0, MSI_ADDR, 4);
		mmio_write(e + 4, 0, 4);
		mmio_write(e + 8, v ? MSI_DATA_CFG : MSI_DATA_Q, 4);
		mmio_write(e + 12, 0, 4);	/* unmask */
	}
}

/* ---- the guest's virtio driver ---- */

/* The 64 feature bits behind a select/window register pair. */
static uint64_t read_features(unsigned select, unsigned window)
{
	uint64_t f;

	common_write(select, 0, 4);
	f = common_read(window, 4);
	common_write(select, 1, 4);
	return f | common_read(window, 4) << 32;
}

uint64_t device_features(void)
{
	return read_features(DFSELECT, DF);
}

uint64_t driver_features(void)
{
	return read_features(GFSELECT, GF);
}

void write_driver_features(uint64_t f)
{
	common_write(GFSELECT, 0, 4);
	common_write(GF, (uint32_t)f, 4);
	common_write(GFSELECT, 1, 4);
	common_write(GF, (uint32_t)(f >> 32), 4);
}

void drv_negotiate(uint64_t features)
{
	set_status(0);
	cr_assert_eq(status(), 0, "reset did not complete");
	set_status(ST_ACK);
	set_status(ST_ACK | ST_DRIVER);
	write_driver_features(features);
	set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	cr_assert_eq(status(), ST_ACK | ST_DRIVER | ST_FEATURES_OK,
		     "FEATURES_OK refused for %#llx", (unsigned long long)features);
}

void drv_setup_queue(void)
{
	uint16_t qsize = drv.qsize;

	memset(ram_ptr(DESC), 0, 16 * qsize);
	memset(ram_ptr(AVAIL), 0, 6 + 2 * qsize);
	memset(ram_ptr(USED), 0, 6 + 8 * qsize);
	drv = (struct driver){ .qsize = qsize };
	common_write(CFG_MSIX, 1, 2);
	cr_assert_eq(common_read(CFG_MSIX, 2), 1);
	common_write(Q_SELECT, 0, 2);
	cr_assert_eq(common_read(Q_SIZE, 2), QUEUE_MAX);
	common_write(Q_SIZE, qsize, 2);
	common_write(Q_MSIX, 0, 2);
	cr_assert_eq(common_read(Q_MSIX, 2), 0);
	common_write(Q_DESC, DESC, 8);
	common_write(Q_AVAIL, AVAIL, 4);	/* dword halves work too */
	common_write(Q_AVAIL + 4, 0, 4);
	common_write(Q_USED, USED, 8);
	drv.notify_off = (uint16_t)common_read(Q_NOFF, 2);
	common_write(Q_ENABLE, 1, 2);
	cr_assert_eq(common_read(Q_ENABLE, 2), 1);
}

void drv_ok(void)
{
	set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	cr_assert_eq(status(), ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
}

void drv_init_with(uint64_t features)
{
	drv_negotiate(features);
	drv_setup_queue();
	drv_ok();
}

uint16_t post_chain(const struct buf *b, unsigned n)
{
	uint16_t head = drv.next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint64_t d = DESC + 16ull * ((head + i) % drv.qsize);
		uint16_t flags = (b[i].writable ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		put64(d, b[i].gpa);
		put32(d + 8, b[i].len);
		put16(d + 12, flags);
		put16(d + 14, (uint16_t)((head + i + 1) % drv.qsize));
	}
	drv.next_desc = (uint16_t)((head + n) % drv.qsize);
	put16(AVAIL + 4 + 2 * (drv.avail_idx % drv.qsize), head);
	drv.avail_idx++;
	__atomic_store_n((uint16_t *)ram_ptr(AVAIL + 2), drv.avail_idx,
			 __ATOMIC_RELEASE);
	return head;
}

void kick(void)
{
	mmio_write(BAR4_ADDR + VIRTIO_PCI_NOTIFY_OFF +
		   (uint64_t)drv.notify_off * caps.notify_mult, 0, 2);
}

uint16_t used_idx(void)
{
	return __atomic_load_n((uint16_t *)ram_ptr(USED + 2), __ATOMIC_ACQUIRE);
}

void wait_all_used(void)
{
	WAIT_FOR(used_idx() == drv.avail_idx, "used.idx %u, want %u",
		 used_idx(), drv.avail_idx);
}

void next_used(uint32_t *id, uint32_t *len)
{
	uint64_t e = USED + 4 + 8ull * (drv.used_seen % drv.qsize);

	cr_assert_neq(drv.used_seen, used_idx(), "no used element left");
	*id = get32(e);
	*len = get32(e + 4);
	drv.used_seen++;
}

/* ---- virtio-blk requests ---- */

uint16_t post_req(unsigned s, uint32_t type, uint64_t sector,
		  const struct buf *data, unsigned n)
{
	struct buf b[8];

	cr_assert_leq(n, 6);
	put32(HDR(s), type);
	put32(HDR(s) + 4, 0);
	put64(HDR(s) + 8, sector);
	*(uint8_t *)ram_ptr(STATUS(s)) = 0xee;
	b[0] = (struct buf){ HDR(s), 16, false };
	for (unsigned i = 0; i < n; i++)
		b[i + 1] = data[i];
	b[n + 1] = (struct buf){ STATUS(s), 1, true };
	return post_chain(b, n + 2);
}

uint16_t blk_post(unsigned s, uint32_t type, uint64_t sector, uint64_t data,
		  uint32_t len)
{
	const struct buf b = { data, len, type != T_OUT };

	return post_req(s, type, sector, &b, len ? 1 : 0);
}

uint8_t blk_status(unsigned s)
{
	return *(uint8_t *)ram_ptr(STATUS(s));
}

uint8_t blk_do(uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
	       uint32_t *used_len)
{
	uint16_t head = blk_post(0, type, sector, data, len);
	uint32_t id, l;

	kick();
	wait_all_used();
	next_used(&id, &l);
	cr_assert_eq(id, head);
	if (used_len)
		*used_len = l;
	return blk_status(0);
}

void assert_ram_is_disk(uint64_t gpa, uint64_t off, size_t len)
{
	const uint8_t *p = ram_ptr(gpa);

	for (size_t i = 0; i < len; i++)
		cr_assert_eq(p[i], pattern(off + i), "RAM byte %zu of %zu", i, len);
}
