/* A guest's virtio-blk driver for the unit tests, without KVM: a fake
 * machine (guest RAM, the system and I/O address spaces, PCI bus 0) holding
 * a virtio-blk-pci on a temporary disk file of a known pattern, and what a
 * guest driver does to it: config mechanism #1, BARs and MSI-X, feature
 * negotiation, one split queue whose used ring it polls. It reaches the
 * device only as a guest would. The suites that drive the device share it:
 * test_virtio_blk.c (the device's behaviour) and test_blk_faults.c (host
 * I/O faults); what is a suite's own (its MSI log, its fdatasync spy or
 * fault shim) stays there.
 *
 * virtio 1.2: 2.1 (status), 2.7 (split virtqueues), 4.1 (virtio over PCI),
 * 5.2 (block device). */
#ifndef TESTS_UNIT_VIRTIO_BLK_DRIVER_H
#define TESTS_UNIT_VIRTIO_BLK_DRIVER_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/pci/pci.h"
#include "devices/virtio/virtio_pci.h"
#include "memory/address_space.h"

/* ---- the fake machine ---- */

#define MIB		(1u << 20)
#define RAM_SIZE	(4 * MIB)
#define BAR1_ADDR	0xc0000000ull		/* MSI-X table + PBA */
#define BAR4_ADDR	0x800000000ull		/* above 4 GiB: both halves */
#define MSI_ADDR	0xfee00000u
#define MSI_DATA_Q	0x41			/* vector 0: the queue */
#define MSI_DATA_CFG	0x42			/* vector 1: config changes */
/* A hang guard, not a timing: what the device never does fails the test
 * instead of hanging it; generous for a loaded host. */
#define TIMEOUT_NS	(20ll * 1000 * 1000 * 1000)

/* Guest RAM layout: the rings, one header and status byte per slot, data. */
#define QUEUE_MAX	256			/* the device's queue size */
#define DESC		0x10000
#define AVAIL		0x11000
#define USED		0x12000
#define HDR(slot)	(0x20000ull + 16ull * (slot))
#define STATUS(slot)	(0x22000ull + (slot))
#define DATA		0x100000ull		/* up to RAM_SIZE */

/* The disk: 4 MiB of pattern(). */
#define DISK_SIZE	(4 * MIB)
#define SECTOR		512
#define SECTORS		(DISK_SIZE / SECTOR)

/* virtio-blk (5.2) */
#define T_IN		0
#define T_OUT		1
#define T_FLUSH		4
#define T_GET_ID	8
#define T_DISCARD	11
#define T_WRITE_ZEROES	13
#define S_OK		0
#define S_IOERR		1
#define S_UNSUPP	2
#define BLK_F_SIZE_MAX	1
#define BLK_F_SEG_MAX	2
#define BLK_F_RO	5
#define BLK_F_BLK_SIZE	6
#define BLK_F_FLUSH	9
#define BLK_F_DISCARD	13
#define BLK_F_WRITE_ZEROES 14

/* virtio-pci common configuration (4.1.4.3) */
enum {
	DFSELECT = 0x00, DF = 0x04, GFSELECT = 0x08, GF = 0x0c, CFG_MSIX = 0x10,
	NUMQ = 0x12, STATUS_REG = 0x14, CFGGEN = 0x15, Q_SELECT = 0x16,
	Q_SIZE = 0x18, Q_MSIX = 0x1a, Q_ENABLE = 0x1c, Q_NOFF = 0x1e,
	Q_DESC = 0x20, Q_AVAIL = 0x28, Q_USED = 0x30,
};

#define ST_ACK		VIRTIO_STATUS_ACKNOWLEDGE
#define ST_DRIVER	VIRTIO_STATUS_DRIVER
#define ST_FEATURES_OK	VIRTIO_STATUS_FEATURES_OK
#define ST_DRIVER_OK	VIRTIO_STATUS_DRIVER_OK
#define ST_NEEDS_RESET	VIRTIO_STATUS_NEEDS_RESET
#define VERSION_1	(1ull << VIRTIO_F_VERSION_1)

extern struct address_space *sys_as;
extern struct pci_bus bus;
extern struct device_env env;
extern struct object *blk;		/* the device, once created */
extern char disk_path[64];
extern int disk_fd;

/* The machine and a fresh disk; the driver will use queues of @queue_size
 * entries, MSI-X messages go to @msi. */
void machine_init_with(uint16_t queue_size,
		       int (*msi)(void *host, uint64_t addr, uint32_t data));
void machine_fini(void);

int64_t now_ns(void);

/* Polls @cond every 100 us; fails the test after TIMEOUT_NS. */
#define WAIT_FOR(cond, ...) do {					\
	int64_t t0_ = now_ns();						\
	while (!(cond)) {						\
		if (now_ns() - t0_ > TIMEOUT_NS)			\
			cr_assert_fail("timed out: " __VA_ARGS__);	\
		usleep(100);						\
	}								\
} while (0)

/* ---- the disk file ---- */

/* The disk's original byte at @off. */
uint8_t pattern(uint64_t off);
/* The pattern over disk bytes [@off, @off + @len), @len a multiple of 512. */
void write_pattern(uint64_t off, uint64_t len);

/* ---- guest RAM, MMIO, ports, config space ---- */

void *ram_ptr(uint64_t gpa);
void put16(uint64_t gpa, uint16_t v);
void put32(uint64_t gpa, uint32_t v);
void put64(uint64_t gpa, uint64_t v);
uint32_t get32(uint64_t gpa);

uint64_t mmio_read(uint64_t addr, unsigned size);
void mmio_write(uint64_t addr, uint64_t v, unsigned size);
uint64_t common_read(unsigned off, unsigned size);
void common_write(unsigned off, uint64_t v, unsigned size);
uint8_t status(void);
void set_status(uint8_t s);

extern unsigned slot;		/* where the device is, found by the scan */

uint32_t cfg_read(unsigned off, unsigned size);
void cfg_write(unsigned off, uint32_t v, unsigned size);

/* ---- the device and the guest's PCI enumeration ---- */

/* A virtio-blk-pci on the disk with "@extra" properties ("ro=on,..."),
 * realized. Returns 0, or -1 with the message in @err (and no device). */
int blk_create(const char *extra, struct error *err);

struct caps {
	unsigned common, notify, isr, device, msix;	/* config offsets */
	uint32_t notify_mult;
};

extern struct caps caps;

void pci_find_device(void);
void pci_walk_caps(void);
/* BAR1 and BAR4 assigned, memory decoding and bus mastering on, MSI-X on
 * with vector 0 (queue) and 1 (config) unmasked. */
void pci_setup(void);

/* ---- the guest's virtio driver ---- */

extern struct driver {
	uint16_t qsize;		/* entries in queue 0 */
	uint16_t avail_idx;	/* next avail.idx we publish */
	uint16_t used_seen;	/* used entries we have consumed */
	uint16_t next_desc;	/* descriptors are handed out in turn */
	uint16_t notify_off;
} drv;

uint64_t device_features(void);
uint64_t driver_features(void);
void write_driver_features(uint64_t f);
/* Reset, then ACK, DRIVER, negotiate @features, FEATURES_OK (checked). */
void drv_negotiate(uint64_t features);
/* Queue 0 of drv.qsize entries with fresh rings in RAM, vector 0 (config
 * changes: vector 1), enabled. */
void drv_setup_queue(void);
void drv_ok(void);
void drv_init_with(uint64_t features);

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/* Writes @n descriptors chained in order and makes the chain available
 * (ring entry, then idx, with a release barrier). Returns the head. */
uint16_t post_chain(const struct buf *b, unsigned n);
void kick(void);
uint16_t used_idx(void);
/* Waits until the device has returned everything we made available. */
void wait_all_used(void);
/* The next used element: its id and len. */
void next_used(uint32_t *id, uint32_t *len);

/* ---- virtio-blk requests ---- */

/* A request in slot @s (its own header and status byte): header, @n data
 * buffers, then the status byte, pre-set to 0xee. Returns the head. */
uint16_t post_req(unsigned s, uint32_t type, uint64_t sector,
		  const struct buf *data, unsigned n);
/* The same with @len bytes of data at @data (device-writable for reads
 * and GET_ID), or none when @len is 0. */
uint16_t blk_post(unsigned s, uint32_t type, uint64_t sector, uint64_t data,
		  uint32_t len);
uint8_t blk_status(unsigned s);
/* One request in slot 0, synchronously: post, kick, wait for it; checks the
 * used element names our head. Returns the status byte, used.len in
 * @used_len. */
uint8_t blk_do(uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
	       uint32_t *used_len);

/* RAM at @gpa holds the disk's pattern from byte @off. */
void assert_ram_is_disk(uint64_t gpa, uint64_t off, size_t len);

#endif
