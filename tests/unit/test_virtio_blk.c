/* virtio-blk-pci end to end, without KVM: the test is the guest driver
 * (tests/unit/virtio_blk_driver.h). It reaches the device only as a guest
 * would, through config mechanism #1 on the I/O space and MMIO/RAM accesses
 * on the system address space; the device's own I/O thread does the
 * requests against a temporary disk file, and MSI-X messages land in a log.
 * Each wait has a timeout, so a lost completion fails the test instead of
 * hanging it.
 *
 * virtio 1.2: 2.1 (status), 2.7 (split virtqueues), 4.1 (virtio over PCI),
 * 5.2 (block device). */
#define _GNU_SOURCE	/* gettid */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/object.h"
#include "devices/virtio/virtio_blk.h"
#include "tests/unit/proc_self.h"
#include "tests/unit/virtio_blk_driver.h"

#define QSIZE		QUEUE_MAX		/* queue 0: the device's maximum */

/* ---- MSI log: written by the device's I/O thread (and by us, when an
 * unmask sends what was pending) ---- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n;
	struct { uint64_t addr; uint32_t data; } e[1024];
} msi = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static int on_msi(void *host, uint64_t addr, uint32_t data)
{
	(void)host;
	pthread_mutex_lock(&msi.lock);
	if (msi.n < sizeof(msi.e) / sizeof(msi.e[0])) {
		msi.e[msi.n].addr = addr;
		msi.e[msi.n].data = data;
	}
	msi.n++;
	pthread_cond_broadcast(&msi.cond);
	pthread_mutex_unlock(&msi.lock);
	return 0;
}

static unsigned msi_count(void)
{
	unsigned n;

	pthread_mutex_lock(&msi.lock);
	n = msi.n;
	pthread_mutex_unlock(&msi.lock);
	return n;
}

/* Waits until the log holds @n messages; fails the test after TIMEOUT_NS. */
static void wait_msi(unsigned n)
{
	struct timespec dl;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += TIMEOUT_NS / 1000000000;
	pthread_mutex_lock(&msi.lock);
	while (msi.n < n && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&msi.cond, &msi.lock, &dl);
	pthread_mutex_unlock(&msi.lock);
	cr_assert_geq(msi_count(), n, "timed out waiting for MSI #%u", n);
}

/* Waits for a message carrying @data at index >= @from of the log. */
static void wait_msi_data(unsigned from, uint32_t data)
{
	struct timespec dl;
	bool found = false;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += TIMEOUT_NS / 1000000000;
	pthread_mutex_lock(&msi.lock);
	while (!found && r != ETIMEDOUT) {
		for (unsigned i = from; i < msi.n && !found; i++)
			found = msi.e[i].data == data && msi.e[i].addr == MSI_ADDR;
		if (!found)
			r = pthread_cond_timedwait(&msi.cond, &msi.lock, &dl);
	}
	pthread_mutex_unlock(&msi.lock);
	cr_assert(found, "timed out waiting for an MSI with data %#x", data);
}

/* ---- the disk file ---- */

/* The file still holds the pattern everywhere but [@skip_off, +@skip_len),
 * and is still DISK_SIZE bytes. */
static void assert_disk_pristine_except(uint64_t skip_off, uint64_t skip_len)
{
	static uint8_t buf[DISK_SIZE];
	struct stat st;

	cr_assert_eq(fstat(disk_fd, &st), 0);
	cr_assert_eq(st.st_size, DISK_SIZE, "the disk file changed size");
	cr_assert_eq(pread(disk_fd, buf, DISK_SIZE, 0), DISK_SIZE);
	for (uint64_t i = 0; i < DISK_SIZE; i++)
		if (i < skip_off || i >= skip_off + skip_len)
			cr_assert_eq(buf[i], pattern(i), "disk byte %#llx changed",
				     (unsigned long long)i);
}

static void assert_disk_pristine(void)
{
	assert_disk_pristine_except(0, 0);
}

/* ---- machine set-up and teardown ---- */

static void sync_spy_reset(void);
static void sync_spy_watch(bool watch);

static void suite_init(void)
{
	machine_init_with(QSIZE, on_msi);
	msi.n = 0;
	sync_spy_reset();
	sync_spy_watch(true);
}

static void suite_fini(void)
{
	sync_spy_reset();	/* a failed test may have left the I/O thread held */
	machine_fini();
	sync_spy_watch(false);
}

TestSuite(virtio_blk, .init = suite_init, .fini = suite_fini, .timeout = 60);

/* ---- the guest's PCI and virtio set-up ---- */

static void msix_mask(unsigned vec, bool masked)
{
	mmio_write(BAR1_ADDR + MSIX_ENTRY_SIZE * vec + 12, masked, 4);
}

static uint64_t msix_pba(void)
{
	return mmio_read(BAR1_ADDR + 0x800, 4);
}

static void drv_init(void)
{
	drv_init_with(VERSION_1 | 1ull << BLK_F_FLUSH);
}

/* The whole guest bring-up on a new device. */
static void start(const char *extra)
{
	struct error err = { "" };

	cr_assert_eq(blk_create(extra, &err), 0, "realize: %s", err.msg);
	pci_setup();
	drv_init();
}

static void fill(uint64_t gpa, uint8_t byte, size_t len)
{
	memset(ram_ptr(gpa), byte, len);
}

/* ---- the backend's fdatasync, and ordering points ---- */

/* The unit tests link with -Wl,--wrap=fdatasync: every fdatasync of the
 * device comes here first, on its I/O thread, so a test sees when it is
 * called and what the file, the used ring and the MSI log held then; it
 * can also hold the I/O thread there, inside a request, until released. */
int __real_fdatasync(int fd);

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned calls;
	int fail_errno;			/* != 0: fail with it */
	bool linger;			/* stay 20 ms before returning */
	bool hold;			/* wait until the test clears it */
	bool entered;			/* a call has started */
	unsigned msis_at_entry;		/* MSIs sent when the device called */
	uint16_t used_at_entry;		/* used.idx then */
	uint8_t file_at_entry[512];	/* the written sector, as the file had it */
	bool used_moved_during;		/* a completion while we were inside */
	bool watching;			/* this suite's machine is up */
} sync_spy = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void sync_spy_reset(void)
{
	pthread_mutex_lock(&sync_spy.lock);
	sync_spy.calls = 0;
	sync_spy.fail_errno = 0;
	sync_spy.linger = sync_spy.hold = sync_spy.entered = false;
	pthread_cond_broadcast(&sync_spy.cond);
	pthread_mutex_unlock(&sync_spy.lock);
}

/* Set while this suite's machine is up, before and after the I/O thread. */
static void sync_spy_watch(bool watch)
{
	sync_spy.watching = watch;
}

int __wrap_fdatasync(int fd);
int __wrap_fdatasync(int fd)
{
	int fail;

	if (!sync_spy.watching)	/* another suite's device: not ours to watch */
		return __real_fdatasync(fd);
	pthread_mutex_lock(&sync_spy.lock);
	sync_spy.calls++;
	sync_spy.msis_at_entry = msi_count();
	sync_spy.used_at_entry = used_idx();
	if (pread(fd, sync_spy.file_at_entry, 512, 8 * 512) != 512)
		memset(sync_spy.file_at_entry, 0, 512);
	sync_spy.entered = true;
	pthread_cond_broadcast(&sync_spy.cond);
	while (sync_spy.hold)
		pthread_cond_wait(&sync_spy.cond, &sync_spy.lock);
	fail = sync_spy.fail_errno;
	pthread_mutex_unlock(&sync_spy.lock);
	if (sync_spy.linger) {
		/* A FLUSH completed before we return would show now. */
		usleep(20 * 1000);
		sync_spy.used_moved_during = used_idx() != sync_spy.used_at_entry;
	}
	if (fail) {
		errno = fail;
		return -1;
	}
	return __real_fdatasync(fd);
}

/* Waits until the device has called fdatasync; fails the test after
 * TIMEOUT_NS. */
static void sync_spy_wait_entered(void)
{
	struct timespec dl;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += TIMEOUT_NS / 1000000000;
	pthread_mutex_lock(&sync_spy.lock);
	while (!sync_spy.entered && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&sync_spy.cond, &sync_spy.lock, &dl);
	pthread_mutex_unlock(&sync_spy.lock);
	cr_assert(sync_spy.entered, "timed out waiting for fdatasync");
}

static void sync_spy_hold(bool hold)
{
	pthread_mutex_lock(&sync_spy.lock);
	sync_spy.hold = hold;
	pthread_cond_broadcast(&sync_spy.cond);
	pthread_mutex_unlock(&sync_spy.lock);
}

/* An ordering point for "nothing happened": a FLUSH after everything
 * posted so far. The I/O thread serves requests in order and sends its
 * MSIs itself, so the MSIs logged when it calls fdatasync for this FLUSH
 * are exactly those of the earlier work. Returns their number. */
static unsigned msis_before_a_flush(void)
{
	cr_assert_eq(blk_do(T_FLUSH, 0, 0, 0, NULL), S_OK);
	return sync_spy.msis_at_entry;
}

/* The queue's kick count, as --stats prints it. The I/O thread counts a
 * kick when it takes it, in the step that also decides what to do about
 * it: once counted, a kick on a queue the device must ignore is over. */
static unsigned long long queue_kicks(void)
{
	unsigned long long requests, kicks = 0;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	const char *q;

	cr_assert_not_null(out);
	virtio_blk_print_stats(blk, out);
	fclose(out);
	q = strstr(text, "queue 0: ");
	cr_assert(q && sscanf(q, "queue 0: %llu requests, %llu kicks", &requests,
			      &kicks) == 2, "%s", text);
	free(text);
	return kicks;
}

/* Waits until the I/O thread has taken kick number @n. */
static void wait_kicks_taken(unsigned long long n)
{
	WAIT_FOR(queue_kicks() >= n, "kick %llu not taken", n);
}

/* ======================================================================
 * Capabilities and identity
 * ====================================================================== */

Test(virtio_blk, identity_and_capabilities)
{
	struct error err = { "" };

	cr_assert_eq(blk_create(NULL, &err), 0, "%s", err.msg);
	pci_find_device();
	cr_assert_eq(cfg_read(PCI_DEVICE_ID, 2), 0x1042);
	cr_assert_geq(cfg_read(PCI_REVISION_ID, 1), 1, "modern: revision >= 1");
	cr_assert_geq(cfg_read(PCI_SUBSYSTEM_ID, 2), 0x40);
	cr_assert_eq(cfg_read(PCI_SUBSYSTEM_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	cr_assert(cfg_read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

	pci_walk_caps();
	cr_assert(caps.common && caps.notify && caps.isr && caps.device && caps.msix);
	/* cap_len, bar, offset, length of each (4.1.4). */
	cr_assert_geq(cfg_read(caps.common + 2, 1), 16);
	cr_assert_eq(cfg_read(caps.common + 4, 1), 4);
	cr_assert_eq(cfg_read(caps.common + 8, 4), VIRTIO_PCI_COMMON_OFF);
	cr_assert_geq(cfg_read(caps.common + 12, 4), 0x38);
	cr_assert_eq(cfg_read(caps.isr + 4, 1), 4);
	cr_assert_eq(cfg_read(caps.isr + 8, 4), VIRTIO_PCI_ISR_OFF);
	cr_assert_geq(cfg_read(caps.isr + 12, 4), 1);
	cr_assert_eq(cfg_read(caps.device + 4, 1), 4);
	cr_assert_eq(cfg_read(caps.device + 8, 4), VIRTIO_PCI_DEVICE_OFF);
	cr_assert_geq(cfg_read(caps.device + 12, 4), 24);
	cr_assert_geq(cfg_read(caps.notify + 2, 1), 20);
	cr_assert_eq(cfg_read(caps.notify + 4, 1), 4);
	cr_assert_eq(cfg_read(caps.notify + 8, 4), VIRTIO_PCI_NOTIFY_OFF);
	cr_assert_geq(cfg_read(caps.notify + 12, 4), 4, "room for queue 0");
	cr_assert_eq(caps.notify_mult, 4);
	/* MSI-X: 2 vectors (queue + config), table BAR1+0, PBA BAR1+0x800. */
	cr_assert_eq(cfg_read(caps.msix + 2, 2) & 0x7ff, 1);
	cr_assert_eq(cfg_read(caps.msix + 4, 4), 0 | 1);
	cr_assert_eq(cfg_read(caps.msix + 8, 4), 0x800 | 1);

	/* BAR sizing: BAR1 4 KiB mem32, BAR4/5 16 KiB mem64. */
	cfg_write(PCI_BASE_ADDRESS_0 + 4, 0xffffffff, 4);
	cr_assert_eq(cfg_read(PCI_BASE_ADDRESS_0 + 4, 4), 0xfffff000);
	cfg_write(PCI_BASE_ADDRESS_0 + 16, 0xffffffff, 4);
	cfg_write(PCI_BASE_ADDRESS_0 + 20, 0xffffffff, 4);
	cr_assert_eq(cfg_read(PCI_BASE_ADDRESS_0 + 16, 4), 0xffffc004);
	cr_assert_eq(cfg_read(PCI_BASE_ADDRESS_0 + 20, 4), 0xffffffff);

	/* Mapped where the guest put them: the common config, the device
	 * config (capacity, size_max, seg_max, blk_size) and the MSI-X table
	 * (vectors start masked). */
	pci_setup();
	cr_assert_eq(common_read(NUMQ, 2), 1);
	cr_assert_eq(status(), 0);
	/* 64-bit fields as two dwords (4.1.3.1). */
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF, 4), SECTORS);
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF + 4, 4), 0);
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF + 8, 4), MIB);
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF + 12, 4), QSIZE - 2);
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF + 20, 4), 512);
	cr_assert_eq(mmio_read(BAR1_ADDR + 16 * 1 + 8, 4), MSI_DATA_CFG);
}

Test(virtio_blk, msix_vectors_start_masked)
{
	struct error err = { "" };

	cr_assert_eq(blk_create(NULL, &err), 0, "%s", err.msg);
	pci_find_device();
	pci_walk_caps();
	cfg_write(PCI_BASE_ADDRESS_0 + 4, (uint32_t)BAR1_ADDR, 4);
	cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cr_assert_eq(mmio_read(BAR1_ADDR + 12, 4), 1);
	cr_assert_eq(mmio_read(BAR1_ADDR + 16 + 12, 4), 1);
	cr_assert_eq(msix_pba(), 0);
}

/* ======================================================================
 * Feature negotiation (2.2, 3.1.1)
 * ====================================================================== */

Test(virtio_blk, features_offered)
{
	uint64_t f;

	start(NULL);
	f = device_features();
	cr_assert(f & VERSION_1);
	cr_assert(f & 1ull << BLK_F_FLUSH);
	cr_assert(f & 1ull << BLK_F_BLK_SIZE);
	cr_assert(f & 1ull << BLK_F_SEG_MAX);
	cr_assert(f & 1ull << BLK_F_SIZE_MAX);
	cr_assert_not(f & 1ull << BLK_F_RO, "a writable disk is not RO");
	/* No feature words past the second. */
	common_write(DFSELECT, 2, 4);
	cr_assert_eq(common_read(DF, 4), 0);
}

Test(virtio_blk, features_ok_refused_for_unoffered_bit)
{
	start(NULL);
	cr_assert_not(device_features() & 1ull << 4, "GEOMETRY is not offered");
	set_status(0);
	set_status(ST_ACK | ST_DRIVER);
	write_driver_features(VERSION_1 | 1ull << 4);
	set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	cr_assert_eq(status(), ST_ACK | ST_DRIVER, "FEATURES_OK must read clear");
}

Test(virtio_blk, features_ok_refused_without_version_1)
{
	start(NULL);
	set_status(0);
	set_status(ST_ACK | ST_DRIVER);
	write_driver_features(1ull << BLK_F_FLUSH);
	set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	cr_assert_eq(status(), ST_ACK | ST_DRIVER);
}

Test(virtio_blk, features_frozen_after_features_ok)
{
	uint64_t want = VERSION_1 | 1ull << BLK_F_FLUSH | 1ull << BLK_F_BLK_SIZE;

	start(NULL);
	drv_negotiate(want);
	cr_assert_eq(driver_features(), want);
	write_driver_features(VERSION_1 | 1ull << 4);	/* ignored now */
	cr_assert_eq(driver_features(), want);
	write_driver_features(0);
	cr_assert_eq(driver_features(), want);
	/* A reset forgets them, and the vectors and the queue. */
	drv_setup_queue();
	set_status(0);
	cr_assert_eq(driver_features(), 0);
	cr_assert_eq(common_read(CFG_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	cr_assert_eq(common_read(Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	cr_assert_eq(common_read(Q_ENABLE, 2), 0);
	cr_assert_eq(common_read(Q_DESC, 8), 0);
}

/* ======================================================================
 * Queue configuration (4.1.4.3)
 * ====================================================================== */

Test(virtio_blk, queue_select_out_of_range)
{
	start(NULL);
	set_status(0);
	set_status(ST_ACK | ST_DRIVER);
	cr_assert_eq(common_read(NUMQ, 2), 1);
	common_write(Q_SELECT, 1, 2);
	cr_assert_eq(common_read(Q_SELECT, 2), 1);
	cr_assert_eq(common_read(Q_SIZE, 2), 0, "no queue 1: size 0");
	common_write(Q_SIZE, 16, 2);
	common_write(Q_DESC, 0x5000, 8);
	common_write(Q_ENABLE, 1, 2);
	cr_assert_eq(common_read(Q_SIZE, 2), 0);
	cr_assert_eq(common_read(Q_DESC, 8), 0);
	cr_assert_eq(common_read(Q_ENABLE, 2), 0);
	common_write(Q_SELECT, 0xffff, 2);
	cr_assert_eq(common_read(Q_SIZE, 2), 0);
	/* Queue 0 was not touched. */
	common_write(Q_SELECT, 0, 2);
	cr_assert_eq(common_read(Q_SIZE, 2), QSIZE);
	cr_assert_eq(common_read(Q_DESC, 8), 0);
	cr_assert_eq(common_read(Q_ENABLE, 2), 0);
	cr_assert_eq(status() & ST_NEEDS_RESET, 0);
}

Test(virtio_blk, queue_fields_read_only_once_enabled)
{
	start(NULL);
	common_write(Q_SELECT, 0, 2);
	common_write(Q_SIZE, 16, 2);
	common_write(Q_DESC, 0x50000, 8);
	common_write(Q_AVAIL + 4, 1, 4);
	common_write(Q_USED, 0x60000, 4);
	common_write(Q_ENABLE, 0, 2);	/* a driver may not disable a queue */
	cr_assert_eq(common_read(Q_SIZE, 2), QSIZE);
	cr_assert_eq(common_read(Q_DESC, 8), DESC);
	cr_assert_eq(common_read(Q_AVAIL, 8), AVAIL);
	cr_assert_eq(common_read(Q_USED, 4), USED);
	cr_assert_eq(common_read(Q_USED + 4, 4), 0);
	cr_assert_eq(common_read(Q_ENABLE, 2), 1);
	/* The vector may change; one the table does not have reads NO_VECTOR. */
	common_write(Q_MSIX, 5, 2);
	cr_assert_eq(common_read(Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	common_write(Q_MSIX, 0, 2);
	cr_assert_eq(common_read(Q_MSIX, 2), 0);
	/* And the queue still works on the original rings. */
	fill(DATA, 0, 512);
	cr_assert_eq(blk_do(T_IN, 3, DATA, 512, NULL), S_OK);
	assert_ram_is_disk(DATA, 3 * 512, 512);
}

static void enable_with_size(uint16_t size)
{
	set_status(0);
	set_status(ST_ACK | ST_DRIVER);
	write_driver_features(VERSION_1);
	set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	common_write(Q_SELECT, 0, 2);
	common_write(Q_SIZE, size, 2);
	common_write(Q_DESC, DESC, 8);
	common_write(Q_AVAIL, AVAIL, 8);
	common_write(Q_USED, USED, 8);
	common_write(Q_ENABLE, 1, 2);
}

Test(virtio_blk, bad_queue_size_needs_reset)
{
	static const uint16_t bad[] = { 100, 2 * QSIZE, 0, 3 };

	start(NULL);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enable_with_size(bad[i]);
		cr_assert(status() & ST_NEEDS_RESET, "size %u accepted", bad[i]);
		cr_assert_eq(common_read(Q_ENABLE, 2), 0);
	}
	/* A ring outside RAM, a misaligned one. */
	enable_with_size(16);
	cr_assert_eq(common_read(Q_ENABLE, 2), 1);
	set_status(0);
	set_status(ST_ACK | ST_DRIVER);
	write_driver_features(VERSION_1);
	set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	common_write(Q_DESC, RAM_SIZE - 64, 8);	/* 16 * 256 bytes: past RAM */
	common_write(Q_ENABLE, 1, 2);
	cr_assert(status() & ST_NEEDS_RESET, "desc ring outside RAM accepted");
	set_status(0);
	set_status(ST_ACK | ST_DRIVER);
	write_driver_features(VERSION_1);
	set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	common_write(Q_DESC, DESC, 8);
	common_write(Q_AVAIL, AVAIL, 8);
	common_write(Q_USED, USED + 2, 8);
	common_write(Q_ENABLE, 1, 2);
	cr_assert(status() & ST_NEEDS_RESET, "misaligned used ring accepted");
	/* Smaller powers of two are fine. */
	enable_with_size(16);
	cr_assert_eq(status(), ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	cr_assert_eq(common_read(Q_ENABLE, 2), 1);
	cr_assert_eq(common_read(Q_SIZE, 2), 16);
}

/* Accesses that do not match a field are ignored (4.1.3.1: the driver
 * accesses each field at its own width and offset). */
Test(virtio_blk, misplaced_common_accesses_ignored)
{
	start(NULL);
	set_status(0);
	common_write(Q_SELECT, 0, 2);
	common_write(Q_DESC, 0x11110000, 8);
	/* The upper halves of 32-bit fields, the middle of a 64-bit one. */
	common_write(DFSELECT + 2, 0x2222, 2);
	common_write(DF + 2, 0x3333, 2);
	common_write(Q_DESC + 2, 0x4444, 2);
	common_write(Q_DESC + 6, 0x5555, 2);
	cr_assert_eq(common_read(Q_DESC, 8), 0x11110000, "queue_desc is %#llx",
		     (unsigned long long)common_read(Q_DESC, 8));
	cr_assert_eq(common_read(DFSELECT, 4), 0);
	/* A byte of a 16-bit field, a word of the status byte. */
	common_write(Q_SELECT, 5, 1);
	cr_assert_eq(common_read(Q_SELECT, 2), 0);
	common_write(STATUS_REG, ST_ACK, 2);
	cr_assert_eq(status(), 0);
}

/* ======================================================================
 * Reads and writes
 * ====================================================================== */

Test(virtio_blk, write_then_read_back)
{
	uint8_t *src = ram_ptr(DATA), back[3 * 512];
	uint32_t len;
	unsigned n0;

	start(NULL);
	for (unsigned i = 0; i < sizeof(back); i++)
		src[i] = (uint8_t)(i * 5 + 0x80);

	n0 = msi_count();
	cr_assert_eq(blk_do(T_OUT, 10, DATA, 3 * 512, &len), S_OK);
	cr_assert_eq(len, 1, "a write returns only the status byte");
	wait_msi(n0 + 1);
	cr_assert_eq(msi.e[n0].addr, MSI_ADDR);
	cr_assert_eq(msi.e[n0].data, MSI_DATA_Q);

	/* On the file, at sectors 10..12, and nowhere else. */
	cr_assert_eq(pread(disk_fd, back, sizeof(back), 10 * 512), (ssize_t)sizeof(back));
	cr_assert_arr_eq(back, src, sizeof(back));
	assert_disk_pristine_except(10 * 512, sizeof(back));

	fill(DATA + 0x10000, 0xcc, sizeof(back));
	cr_assert_eq(blk_do(T_IN, 10, DATA + 0x10000, 3 * 512, &len), S_OK);
	cr_assert_eq(len, 3 * 512 + 1, "data + status");
	cr_assert_arr_eq(ram_ptr(DATA + 0x10000), src, sizeof(back));
}

Test(virtio_blk, read_first_and_last_sectors)
{
	uint32_t len;

	start(NULL);
	fill(DATA, 0, 1024);
	cr_assert_eq(blk_do(T_IN, 0, DATA, 1024, &len), S_OK);
	cr_assert_eq(len, 1025);
	assert_ram_is_disk(DATA, 0, 1024);
	cr_assert_eq(blk_do(T_IN, SECTORS - 2, DATA, 1024, &len), S_OK);
	assert_ram_is_disk(DATA, (SECTORS - 2) * 512ull, 1024);
	cr_assert_eq(blk_do(T_IN, SECTORS - 1, DATA, 512, &len), S_OK);
	assert_ram_is_disk(DATA, (SECTORS - 1) * 512ull, 512);
}

/* Data split over several descriptors, of odd sizes: the device's iovecs
 * cover them exactly, header and status excluded. */
Test(virtio_blk, scatter_gather)
{
	struct buf rd[] = {
		{ HDR(0), 16, false },
		{ DATA, 100, true }, { DATA + 0x1000, 412, true },
		{ DATA + 0x2000, 1024, true }, { STATUS(0), 1, true },
	};
	struct buf wr[] = {
		{ HDR(1), 8, false }, { HDR(1) + 8, 8, false },	/* split header */
		{ DATA + 0x3000, 1000, false }, { DATA + 0x4000, 24, false },
		{ STATUS(1), 1, true },
	};
	uint32_t id, len;
	uint16_t head;

	start(NULL);
	fill(DATA, 0xcc, 0x3000);
	put32(HDR(0), T_IN); put32(HDR(0) + 4, 0); put64(HDR(0) + 8, 100);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	head = post_chain(rd, 5);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 1537);
	cr_assert_eq(blk_status(0), S_OK);
	assert_ram_is_disk(DATA, 100 * 512, 100);
	assert_ram_is_disk(DATA + 0x1000, 100 * 512 + 100, 412);
	assert_ram_is_disk(DATA + 0x2000, 101 * 512, 1024);
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA + 100), 0xcc, "past the buffer");

	for (unsigned i = 0; i < 1024; i++)
		*(uint8_t *)ram_ptr(i < 1000 ? DATA + 0x3000 + i : DATA + 0x4000 + i - 1000) =
			(uint8_t)(i ^ 0x5a);
	put32(HDR(1), T_OUT); put32(HDR(1) + 4, 0); put64(HDR(1) + 8, 200);
	*(uint8_t *)ram_ptr(STATUS(1)) = 0xee;
	head = post_chain(wr, 5);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 1);
	cr_assert_eq(blk_status(1), S_OK);
	{
		uint8_t back[1024];

		cr_assert_eq(pread(disk_fd, back, 1024, 200 * 512), 1024);
		for (unsigned i = 0; i < 1024; i++)
			cr_assert_eq(back[i], (uint8_t)(i ^ 0x5a), "byte %u", i);
	}
	assert_disk_pristine_except(200 * 512, 1024);
}

/* Many requests made available before one kick: all done, each with its
 * own status and data, each head returned exactly once. */
Test(virtio_blk, many_requests_one_kick)
{
	enum { N = 64 };	/* 3 descriptors each: 192 of 256 */
	uint16_t heads[N];
	bool seen[N] = { false };

	start(NULL);
	for (unsigned i = 0; i < N; i++) {
		uint64_t data = DATA + i * 0x2000ull;

		if (i % 4 == 3) {	/* a write, to a sector of its own */
			memset(ram_ptr(data), (int)(0x10 + i), 1024);
			heads[i] = blk_post(i, T_OUT, 1000 + 2 * i, data, 1024);
		} else {
			fill(data, 0, (i % 8 + 1) * 512);
			heads[i] = blk_post(i, T_IN, 7 * i, data, (i % 8 + 1) * 512);
		}
	}
	kick();
	wait_all_used();
	for (unsigned k = 0; k < N; k++) {
		uint32_t id, len;
		unsigned i;

		next_used(&id, &len);
		for (i = 0; i < N && heads[i] != id; i++)
			;
		cr_assert_lt(i, N, "used id %u is no head of ours", id);
		cr_assert_not(seen[i], "head %u returned twice", id);
		seen[i] = true;
		cr_assert_eq(blk_status(i), S_OK, "request %u", i);
		if (i % 4 == 3) {
			cr_assert_eq(len, 1);
		} else {
			cr_assert_eq(len, (i % 8 + 1) * 512 + 1, "request %u", i);
			assert_ram_is_disk(DATA + i * 0x2000ull, 7 * i * 512ull,
					   (i % 8 + 1) * 512);
		}
	}
	cr_assert_eq(used_idx(), N);
	for (unsigned i = 3; i < N; i += 4) {
		uint8_t back[1024];

		cr_assert_eq(pread(disk_fd, back, 1024, (1000 + 2 * i) * 512ull), 1024);
		for (unsigned j = 0; j < 1024; j++)
			cr_assert_eq(back[j], 0x10 + i);
	}
	wait_msi(1);
}

/* More requests in total than the ring has entries: indices wrap. */
Test(virtio_blk, ring_wraps)
{
	start(NULL);
	for (unsigned i = 0; i < 3 * QSIZE + 5; i++) {
		uint64_t sector = (i * 37) % SECTORS;

		fill(DATA, 0, 512);
		cr_assert_eq(blk_do(T_IN, sector, DATA, 512, NULL), S_OK, "request %u", i);
		assert_ram_is_disk(DATA, sector * 512, 512);
	}
}

/* ======================================================================
 * FLUSH, GET_ID, unknown types
 * ====================================================================== */

Test(virtio_blk, flush)
{
	uint32_t len;

	start(NULL);
	cr_assert(driver_features() & 1ull << BLK_F_FLUSH);
	cr_assert_eq(blk_do(T_FLUSH, 0, 0, 0, &len), S_OK);
	cr_assert_eq(len, 1);
	assert_disk_pristine();
}

Test(virtio_blk, unknown_request_type_unsupp)
{
	uint32_t len;

	start(NULL);
	fill(DATA, 0xcc, 512);
	cr_assert_eq(blk_do(0x1234, 0, DATA, 512, &len), S_UNSUPP);
	cr_assert_eq(len, 1);
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA), 0xcc);
	assert_disk_pristine();
}

/* GET_ID into a 20-byte buffer (in a larger one of 0xaa): OK, 21 bytes
 * written with the status, the ID NUL-padded and not terminated at 20. */
static void check_get_id(const char *props, const char id[20])
{
	uint32_t len;

	start(props);
	fill(DATA, 0xaa, 64);
	cr_assert_eq(blk_do(T_GET_ID, 0, DATA, 20, &len), S_OK);
	cr_assert_eq(len, 21);
	cr_assert_arr_eq(ram_ptr(DATA), id, 20);
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA + 20), 0xaa, "written past the buffer");
}

Test(virtio_blk, get_id_serial)
{
	check_get_id("serial=TVMM-0042", "TVMM-0042\0\0\0\0\0\0\0\0\0\0\0");
}

Test(virtio_blk, get_id_twenty_chars_not_terminated)
{
	check_get_id("serial=ABCDEFGHIJKLMNOPQRST", "ABCDEFGHIJKLMNOPQRST");
}

Test(virtio_blk, get_id_empty_serial_is_zeros)
{
	check_get_id(NULL, (const char[20]){ 0 });
}

/* ======================================================================
 * Requests the device must refuse: IOERR, the file untouched
 * ====================================================================== */

Test(virtio_blk, out_of_range_ioerr)
{
	static const struct { uint64_t sector; uint32_t len; } bad[] = {
		{ SECTORS, 512 },		/* sector == capacity */
		{ SECTORS - 1, 1024 },		/* runs past the end */
		{ SECTORS - 8, 64 * 512 },
		{ 1ull << 63, 512 },		/* sector * 512 overflows */
		{ UINT64_MAX, 512 },
		{ UINT64_MAX / 512 + 1, 512 },
	};
	uint32_t len;

	start(NULL);
	memset(ram_ptr(DATA), 0x77, 64 * 512);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(blk_do(T_OUT, bad[i].sector, DATA, bad[i].len, &len),
			     S_IOERR, "write %u", i);
		cr_assert_eq(len, 1);
		fill(DATA + 0x100000, 0xcc, bad[i].len);
		cr_assert_eq(blk_do(T_IN, bad[i].sector, DATA + 0x100000, bad[i].len,
				    &len), S_IOERR, "read %u", i);
		cr_assert_eq(len, 1, "an error reports no data");
	}
	assert_disk_pristine();
	/* The device is still fine. */
	cr_assert_eq(status() & ST_NEEDS_RESET, 0);
	cr_assert_eq(blk_do(T_IN, 5, DATA + 0x100000, 512, NULL), S_OK);
	assert_ram_is_disk(DATA + 0x100000, 5 * 512, 512);
}

Test(virtio_blk, partial_sector_ioerr)
{
	static const uint32_t bad[] = { 1, 100, 511, 513, 1000 };
	uint32_t len;

	start(NULL);
	memset(ram_ptr(DATA), 0x77, 1024);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(blk_do(T_OUT, 4, DATA, bad[i], &len), S_IOERR,
			     "write of %u bytes", bad[i]);
		cr_assert_eq(blk_do(T_IN, 4, DATA, bad[i], &len), S_IOERR,
			     "read of %u bytes", bad[i]);
		cr_assert_eq(len, 1);
	}
	assert_disk_pristine();
}

/* A read whose buffer is device-readable, a write whose data is writable. */
Test(virtio_blk, data_in_wrong_direction_ioerr)
{
	struct buf rd[] = {
		{ HDR(0), 16, false }, { DATA, 512, false }, { STATUS(0), 1, true },
	};
	struct buf wr[] = {
		{ HDR(1), 16, false }, { DATA, 512, true }, { STATUS(1), 1, true },
	};
	uint32_t id, len;

	start(NULL);
	fill(DATA, 0x77, 512);
	put32(HDR(0), T_IN); put32(HDR(0) + 4, 0); put64(HDR(0) + 8, 0);
	put32(HDR(1), T_OUT); put32(HDR(1) + 4, 0); put64(HDR(1) + 8, 0);
	post_chain(rd, 3);
	post_chain(wr, 3);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(len, 1);
	next_used(&id, &len);
	cr_assert_eq(len, 1);
	cr_assert_eq(blk_status(0), S_IOERR);
	cr_assert_eq(blk_status(1), S_IOERR);
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA), 0x77);
	assert_disk_pristine();
}

/* ======================================================================
 * Read-only disks
 * ====================================================================== */

Test(virtio_blk, read_only)
{
	uint32_t len;

	start("ro=on");
	cr_assert(device_features() & 1ull << BLK_F_RO);
	drv_init_with(VERSION_1 | 1ull << BLK_F_RO);
	memset(ram_ptr(DATA), 0x77, 4096);
	cr_assert_eq(blk_do(T_OUT, 0, DATA, 4096, &len), S_IOERR);
	cr_assert_eq(len, 1);
	cr_assert_eq(blk_do(T_OUT, 100, DATA, 512, &len), S_IOERR);
	assert_disk_pristine();
	fill(DATA, 0, 4096);
	cr_assert_eq(blk_do(T_IN, 0, DATA, 4096, &len), S_OK);
	cr_assert_eq(len, 4097);
	assert_ram_is_disk(DATA, 0, 4096);
	cr_assert_eq(blk_do(T_FLUSH, 0, 0, 0, NULL), S_OK);
}

/* ======================================================================
 * Malformed chains: the head comes back, nothing is done, the device
 * keeps working
 * ====================================================================== */

/* Posts @b, kicks, waits; the head must come back with used.len @want_len. */
static void expect_returned(const struct buf *b, unsigned n, uint32_t want_len)
{
	uint16_t head = post_chain(b, n);
	uint32_t id, len;

	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, want_len);
}

static void expect_still_works(void)
{
	cr_assert_eq(status() & ST_NEEDS_RESET, 0);
	fill(DATA + 0x80000, 0, 512);
	cr_assert_eq(blk_do(T_IN, 9, DATA + 0x80000, 512, NULL), S_OK);
	assert_ram_is_disk(DATA + 0x80000, 9 * 512, 512);
}

Test(virtio_blk, status_byte_not_writable)
{
	struct buf b[] = {
		{ HDR(0), 16, false }, { DATA, 512, false }, { STATUS(0), 1, false },
	};

	start(NULL);
	memset(ram_ptr(DATA), 0x77, 512);
	put32(HDR(0), T_OUT); put32(HDR(0) + 4, 0); put64(HDR(0) + 8, 0);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	expect_returned(b, 3, 0);
	cr_assert_eq(blk_status(0), 0xee, "nowhere to put a status");
	assert_disk_pristine();
	expect_still_works();
}

Test(virtio_blk, header_in_writable_descriptor)
{
	struct buf b[] = {
		{ HDR(0), 16, true }, { DATA, 512, true }, { STATUS(0), 1, true },
	};

	start(NULL);
	fill(DATA, 0xcc, 512);
	put32(HDR(0), T_IN); put32(HDR(0) + 4, 0); put64(HDR(0) + 8, 0);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	expect_returned(b, 3, 0);
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA), 0xcc, "no data read");
	cr_assert_eq(blk_status(0), 0xee);
	assert_disk_pristine();
	expect_still_works();
}

Test(virtio_blk, short_header)
{
	struct buf b[] = {
		{ HDR(0), 8, false }, { STATUS(0), 1, true },
	};

	start(NULL);
	put32(HDR(0), T_FLUSH);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	expect_returned(b, 2, 0);
	cr_assert_eq(blk_status(0), 0xee);
	expect_still_works();
}

Test(virtio_blk, chain_loop)
{
	uint16_t head;
	uint32_t id, len;

	start(NULL);
	memset(ram_ptr(DATA), 0x77, 512);
	put32(HDR(0), T_OUT); put32(HDR(0) + 4, 0); put64(HDR(0) + 8, 0);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	/* 0 -> 1 -> 0 -> ... */
	put64(DESC + 0, HDR(0)); put32(DESC + 8, 16);
	put16(DESC + 12, VIRTQ_DESC_F_NEXT); put16(DESC + 14, 1);
	put64(DESC + 16, DATA); put32(DESC + 24, 512);
	put16(DESC + 28, VIRTQ_DESC_F_NEXT); put16(DESC + 30, 0);
	head = 0;
	put16(AVAIL + 4, head);
	drv.avail_idx = 1;
	drv.next_desc = 2;
	__atomic_store_n((uint16_t *)ram_ptr(AVAIL + 2), 1, __ATOMIC_RELEASE);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 0);
	cr_assert_eq(blk_status(0), 0xee);
	assert_disk_pristine();
	expect_still_works();
}

Test(virtio_blk, descriptor_outside_ram)
{
	struct buf b[] = {
		{ HDR(0), 16, false }, { RAM_SIZE - 256, 512, false },
		{ STATUS(0), 1, true },
	};

	start(NULL);
	put32(HDR(0), T_OUT); put32(HDR(0) + 4, 0); put64(HDR(0) + 8, 0);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	expect_returned(b, 3, 0);
	assert_disk_pristine();
	expect_still_works();
}

/* avail.idx more than a ring ahead of used: the ring is corrupt, the
 * device says DEVICE_NEEDS_RESET (with a config interrupt, as DRIVER_OK
 * was set) and does nothing more until a reset, not even a request made
 * valid again; then it works again. */
Test(virtio_blk, corrupt_avail_idx_needs_reset)
{
	unsigned long long kicks;
	unsigned n0;

	start(NULL);
	n0 = msi_count();
	blk_post(0, T_OUT, 0, DATA, 512);
	__atomic_store_n((uint16_t *)ram_ptr(AVAIL + 2), QSIZE + 2, __ATOMIC_RELEASE);
	kick();
	WAIT_FOR(status() & ST_NEEDS_RESET, "DEVICE_NEEDS_RESET");
	wait_msi_data(n0, MSI_DATA_CFG);	/* a config change interrupt */
	cr_assert_eq(used_idx(), 0, "nothing consumed");
	assert_disk_pristine();
	/* The write made valid and kicked: once the kick is taken, nothing. */
	kicks = queue_kicks();
	__atomic_store_n((uint16_t *)ram_ptr(AVAIL + 2), 1, __ATOMIC_RELEASE);
	kick();
	wait_kicks_taken(kicks + 1);
	cr_assert_eq(used_idx(), 0, "a request served while DEVICE_NEEDS_RESET");
	cr_assert(status() & ST_NEEDS_RESET);
	cr_assert_eq(msi_count(), n0 + 1, "only the config interrupt");
	assert_disk_pristine();

	set_status(0);
	cr_assert_eq(status(), 0);
	drv_init();
	expect_still_works();
}

/* ======================================================================
 * Reset with requests in flight
 * ====================================================================== */

/* Requests whose data would show in guest RAM and on the disk: reads
 * into buffers filled with 0xcc, writes of 0xab; a request's status byte
 * stays 0xee until the device completes it. Slot 0 is blk_do's. */
#define POISON		0xcc
#define WRITTEN		0xab

struct probe_req {
	uint32_t type;
	uint64_t sector, gpa;
	uint32_t len;
	unsigned slot;
	uint16_t head;
	bool done;		/* in the used ring when the reset was over */
};

static void probe_post(struct probe_req *r)
{
	fill(r->gpa, r->type == T_IN ? POISON : WRITTEN, r->len);
	r->head = blk_post(r->slot, r->type, r->sector, r->gpa, r->len);
}

/* Which of @n requests the used ring returned: after a reset, before the
 * driver reuses the ring. */
static void probe_mark_done(struct probe_req *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		r[i].done = false;
	for (uint16_t u = 0; u != used_idx(); u++)
		for (unsigned i = 0; i < n; i++)
			r[i].done |= get32(USED + 4 + 8ull * (u % QSIZE)) == r[i].head;
}

/* A request returned before the reset did all of its work; any other did
 * nothing at all: no byte of guest RAM, no status, no disk byte. */
static void probe_check(const struct probe_req *r, unsigned n)
{
	uint8_t disk[0x2000];

	for (unsigned i = 0; i < n; i++, r++) {
		const uint8_t *ram_buf = ram_ptr(r->gpa);

		cr_assert_leq(r->len, sizeof(disk));
		cr_assert_eq(pread(disk_fd, disk, r->len, (off_t)(r->sector * 512)),
			     (ssize_t)r->len);
		cr_assert_eq(blk_status(r->slot), r->done ? S_OK : 0xee,
			     "request %u (slot %u): status %#x", i, r->slot, blk_status(r->slot));
		for (uint32_t b = 0; b < r->len; b++) {
			uint8_t want_disk = r->type == T_OUT && r->done ? WRITTEN
					    : pattern(r->sector * 512 + b);

			cr_assert_eq(disk[b], want_disk, "request %u: disk byte %#llx", i,
				     (unsigned long long)(r->sector * 512 + b));
			if (r->type == T_IN)
				cr_assert_eq(ram_buf[b], r->done ? want_disk : POISON,
					     "request %u: RAM byte %u of %u", i, b, r->len);
		}
	}
}

/* The driver's reset from another thread: with a request held inside the
 * device, the write may wait for it. No assertions here: the test thread
 * checks what it stored. */
static struct {
	pthread_t thread;
	_Atomic pid_t tid;
	_Atomic bool returned;
	int result;
} resetter;

static void *reset_from_another_thread(void *arg)
{
	uint8_t zero = 0;

	(void)arg;
	resetter.tid = gettid();
	resetter.result = address_space_write(sys_as, BAR4_ADDR + VIRTIO_PCI_COMMON_OFF +
					      STATUS_REG, &zero, 1);
	resetter.returned = true;
	return NULL;
}

/* Whether thread @tid is asleep in the kernel: the resetter's only sleep
 * is waiting for the device's lock. */
static bool thread_sleeping(pid_t tid)
{
	char path[64], buf[256] = "";
	const char *state;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	state = strrchr(buf, ')');
	return state && state[1] == ' ' && state[2] == 'S';
}

/* The reset is written while the I/O thread is inside a request (a FLUSH
 * held in fdatasync) with reads and writes queued behind it. The reset
 * completes (device_status reads 0, 4.1.4.3.2), and from then on none of
 * those requests touches guest RAM, the used ring or the disk: the ones
 * returned by then did all their work, the others none. Which ones the
 * device finished first is its choice. */
Test(virtio_blk, reset_with_requests_in_flight)
{
	enum { N = 33, BYTES = 0x2000 };	/* 3 descriptors each: 99 of 256 */
	struct probe_req r[N];
	bool reset_over;

	start(NULL);
	r[0] = (struct probe_req){ .type = T_FLUSH, .slot = 1 };
	for (unsigned i = 1; i < N; i++)
		r[i] = (struct probe_req){
			.type = i % 2 ? T_IN : T_OUT, .sector = 4096 + i * BYTES / 512,
			.gpa = DATA + i * BYTES, .len = BYTES, .slot = i + 1,
		};
	sync_spy_hold(true);
	for (unsigned i = 0; i < N; i++)
		probe_post(&r[i]);
	kick();
	sync_spy_wait_entered();
	cr_assert_eq(used_idx(), 0, "nothing completed while the FLUSH is held");

	cr_assert_eq(pthread_create(&resetter.thread, NULL, reset_from_another_thread, NULL), 0);
	WAIT_FOR(resetter.returned || (resetter.tid && thread_sleeping(resetter.tid)),
		 "the reset neither returned nor waits");
	/* A device whose register writes do not wait for host I/O may be
	 * reset already, the FLUSH still held: then look at the ring now. */
	reset_over = resetter.returned && status() == 0;
	if (reset_over)
		probe_mark_done(r, N);
	sync_spy_hold(false);
	pthread_join(resetter.thread, NULL);
	cr_assert_eq(resetter.result, MEMTX_OK);
	WAIT_FOR(status() == 0, "device_status %#x after the reset", status());
	cr_assert_eq(common_read(Q_ENABLE, 2), 0);
	if (!reset_over)
		probe_mark_done(r, N);
	/* Stop the I/O thread: whatever it might still have done for the old
	 * requests, it has done by then. (reset_races works the device again
	 * after its resets.) */
	object_free(blk);
	blk = NULL;
	probe_check(r, N);
}

/* The same, many times, racing the I/O thread at different points; each
 * round's requests have their own buffers, status bytes and sectors, so
 * a late completion of any of them shows at the end. */
Test(virtio_blk, reset_races)
{
	enum { ROUNDS = 50, PER = 8, BYTES = 0x400 };
	static struct probe_req r[ROUNDS][PER];

	start(NULL);
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned i = 0; i < PER; i++) {
			unsigned k = round * PER + i;

			r[round][i] = (struct probe_req){
				.type = i % 2 ? T_OUT : T_IN, .sector = 2048 + k * BYTES / 512,
				.gpa = 2 * DATA + k * BYTES, .len = BYTES, .slot = k + 1,
			};
			probe_post(&r[round][i]);
		}
		kick();
		if (round % 5)
			usleep(round * 20);
		set_status(0);
		WAIT_FOR(status() == 0, "device_status %#x after the reset", status());
		probe_mark_done(r[round], PER);
		drv_init();
	}
	expect_still_works();
	object_free(blk);
	blk = NULL;
	for (unsigned round = 0; round < ROUNDS; round++)
		probe_check(r[round], PER);
}

/* ======================================================================
 * MSI-X masking, function mask, no MSI-X
 * ====================================================================== */

Test(virtio_blk, masked_vector_sets_pba_then_unmask_sends)
{
	unsigned n0;

	start(NULL);
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	wait_msi(1);

	msix_mask(0, true);
	n0 = msi_count();	/* nothing can be sent from here on */
	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);
	WAIT_FOR(msix_pba() & 1, "PBA bit 0");
	usleep(20000);
	cr_assert_eq(msi_count(), n0, "an MSI went out through a masked vector");
	cr_assert_eq(msix_pba(), 1);

	msix_mask(0, false);
	cr_assert_eq(msi_count(), n0 + 1, "unmasking sends the pending message");
	cr_assert_eq(msi.e[n0].data, MSI_DATA_Q);
	cr_assert_eq(msi.e[n0].addr, MSI_ADDR);
	cr_assert_eq(msix_pba(), 0);

	/* Unmasked again: direct. */
	cr_assert_eq(blk_do(T_IN, 2, DATA, 512, NULL), S_OK);
	wait_msi(n0 + 2);
	cr_assert_eq(msix_pba(), 0);
}

Test(virtio_blk, function_mask)
{
	unsigned n0;

	start(NULL);
	cfg_write(caps.msix + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL, 2);
	n0 = msi_count();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	WAIT_FOR(msix_pba() & 1, "PBA bit 0");
	usleep(20000);
	cr_assert_eq(msi_count(), n0);
	/* The vector's own mask bit is untouched by the function mask. */
	cr_assert_eq(mmio_read(BAR1_ADDR + 12, 4), 0);

	cfg_write(caps.msix + 2, MSIX_CTRL_ENABLE, 2);
	cr_assert_eq(msi_count(), n0 + 1);
	cr_assert_eq(msi.e[n0].data, MSI_DATA_Q);
	cr_assert_eq(msix_pba(), 0);
}

/* Without MSI-X nothing is sent; the ISR says a queue interrupt is due
 * and reading it clears it. */
Test(virtio_blk, no_msix_isr_polled)
{
	unsigned n0;

	start(NULL);
	cfg_write(caps.msix + 2, 0, 2);
	n0 = msi_count();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	WAIT_FOR(mmio_read(BAR4_ADDR + VIRTIO_PCI_ISR_OFF, 1) & VIRTIO_PCI_ISR_QUEUE,
		 "ISR queue bit");
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_ISR_OFF, 1), 0, "read clears");
	cr_assert_eq(msi_count(), n0);
	cr_assert_eq(msix_pba(), 0);
}

/* VIRTIO_MSI_NO_VECTOR on the queue: no message, nothing pending. */
Test(virtio_blk, no_vector_no_msi)
{
	unsigned n0;

	start(NULL);
	common_write(Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
	n0 = msi_count();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	cr_assert_eq(msis_before_a_flush(), n0, "an MSI for a queue with no vector");
	cr_assert_eq(msix_pba(), 0);
}

/* A kick that completes nothing sends no interrupt (Linux would count it
 * as spurious), with or without EVENT_IDX. */
Test(virtio_blk, empty_kick_sends_no_interrupt)
{
	unsigned long long kicks;
	unsigned n;

	start(NULL);
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	wait_msi(1);
	kicks = queue_kicks();
	kick();
	kick();
	wait_kicks_taken(kicks + 2);
	n = msis_before_a_flush();
	cr_assert_eq(n, 1, "%u interrupts for nothing", n - 1);
}

/* ======================================================================
 * Realize errors: one line naming the problem, nothing left behind
 * ====================================================================== */

static void expect_realize_error(const char *props, const char *want1,
				 const char *want2)
{
	struct error err = { "" };
	struct object *obj = object_new("virtio-blk-pci");
	unsigned fds = count_dir("/proc/self/fd");

	cr_assert_eq(object_property_parse_list(obj, props, &err), 0, "%s", err.msg);
	cr_assert_eq(device_realize((struct device *)obj, &env, &err), -1,
		     "realize of '%s' succeeded", props);
	object_free(obj);
	cr_assert_neq(err.msg[0], '\0', "no message");
	cr_assert_null(strchr(err.msg, '\n'), "not one line: %s", err.msg);
	cr_assert_not_null(strstr(err.msg, want1), "'%s' lacks '%s'", err.msg, want1);
	if (want2)
		cr_assert_not_null(strstr(err.msg, want2), "'%s' lacks '%s'", err.msg,
				   want2);
	cr_assert_eq(count_dir("/proc/self/fd"), fds, "a file descriptor leaked");
	/* Nothing was plugged: slot 1 is free. */
	cr_assert_null(bus.devices[1]);
}

Test(virtio_blk, realize_missing_file)
{
	expect_realize_error("path=/nonexistent/tinyvmm-disk.img",
			     "/nonexistent/tinyvmm-disk.img", "No such file");
}

Test(virtio_blk, realize_no_path)
{
	expect_realize_error("serial=x", "path", NULL);
}

Test(virtio_blk, realize_empty_file)
{
	char props[128];

	cr_assert_eq(ftruncate(disk_fd, 0), 0);
	snprintf(props, sizeof(props), "path=%s", disk_path);
	expect_realize_error(props, disk_path, "empty");
}

Test(virtio_blk, realize_file_under_one_sector)
{
	char props[128];

	cr_assert_eq(ftruncate(disk_fd, 511), 0);
	snprintf(props, sizeof(props), "path=%s", disk_path);
	expect_realize_error(props, disk_path, "sector");
}

Test(virtio_blk, realize_directory)
{
	expect_realize_error("path=/tmp", "/tmp", "directory");
	expect_realize_error("path=/tmp,ro=on", "/tmp", "not a regular file");
}

Test(virtio_blk, realize_serial_too_long)
{
	char props[128];

	snprintf(props, sizeof(props), "path=%s,serial=ABCDEFGHIJKLMNOPQRSTU",
		 disk_path);
	expect_realize_error(props, "serial", "20");
}

/* Two writable users of one image would corrupt it. */
Test(virtio_blk, realize_image_in_use)
{
	struct error err = { "" };
	char props[128];

	cr_assert_eq(blk_create(NULL, &err), 0, "%s", err.msg);
	snprintf(props, sizeof(props), "path=%s", disk_path);
	{
		struct object *obj = object_new("virtio-blk-pci");

		cr_assert_eq(object_property_parse_list(obj, props, &err), 0);
		cr_assert_eq(device_realize((struct device *)obj, &env, &err), -1);
		object_free(obj);
		cr_assert_not_null(strstr(err.msg, "in use"), "%s", err.msg);
	}
}

/* A disk whose size is not a whole number of sectors: the tail is not
 * visible. */
Test(virtio_blk, capacity_rounds_down)
{
	uint32_t len;

	cr_assert_eq(ftruncate(disk_fd, DISK_SIZE - 100), 0);
	start(NULL);
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF, 4), SECTORS - 1);
	cr_assert_eq(blk_do(T_IN, SECTORS - 1, DATA, 512, &len), S_IOERR);
	cr_assert_eq(blk_do(T_IN, SECTORS - 2, DATA, 512, &len), S_OK);
}

/* ======================================================================
 * Ring features and layouts
 * ====================================================================== */

#define USED_EVENT	(AVAIL + 4 + 2 * QSIZE)	/* in the avail ring */
#define AVAIL_EVENT	(USED + 4 + 8 * QSIZE)	/* in the used ring */

/* VIRTIO_F_EVENT_IDX: an interrupt only when used.idx passes used_event;
 * the device asks for the next kick through avail_event. */
Test(virtio_blk, event_idx)
{
	unsigned n0;

	start(NULL);
	cr_assert(device_features() & 1ull << VIRTIO_F_EVENT_IDX);
	drv_init_with(VERSION_1 | 1ull << VIRTIO_F_EVENT_IDX);
	put16(USED_EVENT, 2);		/* wake me when entry 2 is used */
	n0 = msi_count();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);	/* used 1 */
	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);	/* used 2 */
	assert_ram_is_disk(DATA, 512, 512);
	/* used 3, past used_event: its own interrupt comes after */
	cr_assert_eq(msis_before_a_flush(), n0, "interrupt before used_event was passed");
	wait_msi(n0 + 1);
	WAIT_FOR(*(uint16_t *)ram_ptr(AVAIL_EVENT) == 3, "avail_event %u",
		 *(uint16_t *)ram_ptr(AVAIL_EVENT));
	/* used 4: used_event still 2, so no interrupt for it */
	cr_assert_eq(msis_before_a_flush(), n0 + 1);
	cr_assert_eq(blk_do(T_IN, 2, DATA, 512, NULL), S_OK);	/* used 5 */
	cr_assert_eq(msis_before_a_flush(), n0 + 1);
}

/* Without EVENT_IDX: VIRTQ_AVAIL_F_NO_INTERRUPT suppresses interrupts. */
Test(virtio_blk, avail_no_interrupt_flag)
{
	struct error err = { "" };
	unsigned n0;

	cr_assert_eq(blk_create(NULL, &err), 0, "%s", err.msg);
	pci_setup();
	drv_negotiate(VERSION_1);
	drv_setup_queue();
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	drv_ok();
	n0 = msi_count();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);
	cr_assert_eq(msis_before_a_flush(), n0);
	put16(AVAIL, 0);
	cr_assert_eq(blk_do(T_IN, 2, DATA, 512, NULL), S_OK);
	wait_msi(n0 + 1);
}

/* VIRTIO_F_INDIRECT_DESC: the request's descriptors in a table. */
Test(virtio_blk, indirect_descriptors)
{
	const uint64_t table = 0x30000;
	struct buf ind = { table, 3 * 16, false };
	uint32_t id, len;
	uint16_t head;

	start(NULL);
	cr_assert(device_features() & 1ull << VIRTIO_F_INDIRECT_DESC);
	drv_init_with(VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC);
	put32(HDR(0), T_IN); put32(HDR(0) + 4, 0); put64(HDR(0) + 8, 33);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	fill(DATA, 0, 2048);
	put64(table + 0, HDR(0)); put32(table + 8, 16);
	put16(table + 12, VIRTQ_DESC_F_NEXT); put16(table + 14, 1);
	put64(table + 16, DATA); put32(table + 24, 2048);
	put16(table + 28, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE); put16(table + 30, 2);
	put64(table + 32, STATUS(0)); put32(table + 40, 1);
	put16(table + 44, VIRTQ_DESC_F_WRITE); put16(table + 46, 0);
	head = post_chain(&ind, 1);
	put16(DESC + 16 * head + 12, VIRTQ_DESC_F_INDIRECT);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 2049);
	cr_assert_eq(blk_status(0), S_OK);
	assert_ram_is_disk(DATA, 33 * 512, 2048);
}

/* An indirect descriptor the driver did not negotiate: a malformed chain. */
Test(virtio_blk, indirect_not_negotiated)
{
	const uint64_t table = 0x30000;
	struct buf ind = { table, 2 * 16, false };
	uint16_t head;
	uint32_t id, len;

	start(NULL);
	put32(HDR(0), T_FLUSH);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	put64(table + 0, HDR(0)); put32(table + 8, 16);
	put16(table + 12, VIRTQ_DESC_F_NEXT); put16(table + 14, 1);
	put64(table + 16, STATUS(0)); put32(table + 24, 1);
	put16(table + 28, VIRTQ_DESC_F_WRITE); put16(table + 30, 0);
	head = post_chain(&ind, 1);
	put16(DESC + 16 * head + 12, VIRTQ_DESC_F_INDIRECT);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 0);
	cr_assert_eq(blk_status(0), 0xee);
	expect_still_works();
}

/* No assumptions about framing (2.7.4, VIRTIO_F_ANY_LAYOUT is implied in
 * 1.x): header and data in one readable descriptor, data and status in
 * one writable descriptor. */
Test(virtio_blk, any_layout)
{
	struct buf wr[] = { { DATA, 16 + 1024, false }, { STATUS(0), 1, true } };
	struct buf rd[] = { { HDR(1), 16, false }, { DATA + 0x10000, 1024 + 1, true } };
	uint32_t id, len;
	uint8_t back[1024];

	start(NULL);
	put32(DATA, T_OUT); put32(DATA + 4, 0); put64(DATA + 8, 77);
	for (unsigned i = 0; i < 1024; i++)
		*(uint8_t *)ram_ptr(DATA + 16 + i) = (uint8_t)(i * 3);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	post_chain(wr, 2);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(len, 1);
	cr_assert_eq(blk_status(0), S_OK);
	cr_assert_eq(pread(disk_fd, back, 1024, 77 * 512), 1024);
	cr_assert_arr_eq(back, ram_ptr(DATA + 16), 1024);
	assert_disk_pristine_except(77 * 512, 1024);

	put32(HDR(1), T_IN); put32(HDR(1) + 4, 0); put64(HDR(1) + 8, 77);
	fill(DATA + 0x10000, 0xcc, 1025);
	post_chain(rd, 2);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(len, 1025);
	cr_assert_arr_eq(ram_ptr(DATA + 0x10000), back, 1024);
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA + 0x10000 + 1024), S_OK, "status last");
}

/* The device takes nothing before DRIVER_OK (2.1.2, 3.1.1); what was made
 * available (and kicked) before is done once it is set. */
Test(virtio_blk, nothing_before_driver_ok)
{
	struct error err = { "" };
	unsigned long long kicks;

	cr_assert_eq(blk_create(NULL, &err), 0, "%s", err.msg);
	pci_setup();
	drv_negotiate(VERSION_1);
	drv_setup_queue();
	fill(DATA, 0, 512);
	blk_post(0, T_IN, 12, DATA, 512);
	kicks = queue_kicks();
	kick();
	wait_kicks_taken(kicks + 1);
	cr_assert_eq(used_idx(), 0, "a buffer was used before DRIVER_OK");
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA), 0, "data read before DRIVER_OK");
	drv_ok();
	wait_all_used();
	cr_assert_eq(blk_status(0), S_OK);
	assert_ram_is_disk(DATA, 12 * 512, 512);
}

/* A disk over 2 TiB: the capacity's high dword, offsets past 2^32 sectors. */
Test(virtio_blk, large_sparse_disk)
{
	const uint64_t sectors = (1ull << 32) + 8;
	const uint8_t magic[512] = { 'h', 'i', 'g', 'h' };
	uint8_t back[512];

	if (ftruncate(disk_fd, (off_t)(sectors * 512)))
		cr_skip_test("no sparse %llu-byte file here: %s",
			     (unsigned long long)(sectors * 512), strerror(errno));
	start(NULL);
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF, 4), 8);
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF + 4, 4), 1);
	/* Out of spec for a driver (4.1.3.1), but a 64-bit read is whole. */
	cr_assert_eq(mmio_read(BAR4_ADDR + VIRTIO_PCI_DEVICE_OFF, 8), sectors);
	memcpy(ram_ptr(DATA), magic, 512);
	cr_assert_eq(blk_do(T_OUT, sectors - 1, DATA, 512, NULL), S_OK);
	cr_assert_eq(pread(disk_fd, back, 512, (off_t)((sectors - 1) * 512)), 512);
	cr_assert_arr_eq(back, magic, 512);
	cr_assert_eq(blk_do(T_OUT, sectors, DATA, 512, NULL), S_IOERR);
	fill(DATA, 0xcc, 1024);
	cr_assert_eq(blk_do(T_IN, sectors - 2, DATA, 1024, NULL), S_OK);
	cr_assert_eq(*(uint8_t *)ram_ptr(DATA), 0, "a hole reads as zeros");
	cr_assert_arr_eq(ram_ptr(DATA + 512), magic, 512);
	/* The low 4 MiB are as they were. */
	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);
	assert_ram_is_disk(DATA, 512, 512);
}

/* ======================================================================
 * ioeventfds: registered for the notify address as BAR4 moves
 * ====================================================================== */

static struct {
	unsigned n;
	struct { uint64_t gpa; int fd; bool assign; } e[32];
} ioev;

static int on_ioeventfd(void *host, uint64_t gpa, int fd, bool assign)
{
	(void)host;
	if (ioev.n < 32)
		ioev.e[ioev.n] = (typeof(ioev.e[0])){ gpa, fd, assign };
	ioev.n++;
	return 0;
}

Test(virtio_blk, ioeventfd_follows_bar4)
{
	const uint64_t notify = BAR4_ADDR + VIRTIO_PCI_NOTIFY_OFF;
	const uint64_t moved = 0xd0000000ull;
	int fd;

	ioev.n = 0;
	env.ioeventfd = on_ioeventfd;
	start(NULL);
	/* Mapped once memory decoding came on, at queue 0's notify address. */
	cr_assert_eq(ioev.n, 1);
	cr_assert_eq(ioev.e[0].gpa, notify);
	cr_assert(ioev.e[0].assign);
	fd = ioev.e[0].fd;
	cr_assert_geq(fd, 0);

	/* KVM would signal the eventfd without an exit: do that. */
	fill(DATA, 0, 512);
	blk_post(0, T_IN, 21, DATA, 512);
	cr_assert_eq(write(fd, &(uint64_t){ 1 }, 8), 8);
	wait_all_used();
	cr_assert_eq(blk_status(0), S_OK);
	assert_ram_is_disk(DATA, 21 * 512, 512);

	/* Moved: the old address is dropped, the new one registered. */
	cfg_write(PCI_BASE_ADDRESS_0 + 20, 0, 4);
	cfg_write(PCI_BASE_ADDRESS_0 + 16, (uint32_t)moved, 4);
	cr_assert_geq(ioev.n, 3);
	cr_assert_eq(ioev.e[1].gpa, notify);
	cr_assert_not(ioev.e[1].assign);
	cr_assert_eq(ioev.e[ioev.n - 1].gpa, moved + VIRTIO_PCI_NOTIFY_OFF);
	cr_assert(ioev.e[ioev.n - 1].assign);
	cr_assert_eq(ioev.e[ioev.n - 1].fd, fd);

	/* Decoding off: dropped; on unrealize nothing is left registered. */
	cfg_write(PCI_COMMAND, 0, 2);
	cr_assert_eq(ioev.e[ioev.n - 1].gpa, moved + VIRTIO_PCI_NOTIFY_OFF);
	cr_assert_not(ioev.e[ioev.n - 1].assign);
	cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cr_assert(ioev.e[ioev.n - 1].assign);
	object_free(blk);
	blk = NULL;
	{
		int live = 0;

		for (unsigned i = 0; i < ioev.n; i++)
			live += ioev.e[i].assign ? 1 : -1;
		cr_assert_eq(live, 0, "ioeventfds left registered after unrealize");
		cr_assert_not(ioev.e[ioev.n - 1].assign);
	}
}

Test(virtio_blk, realize_without_pci_bus)
{
	char props[128];

	env.pci = NULL;
	snprintf(props, sizeof(props), "path=%s", disk_path);
	expect_realize_error(props, "PCI", NULL);
	env.pci = &bus;
}

/* --stats: what was done, what failed. */
Test(virtio_blk, stats)
{
	char *text = NULL, want[256];
	size_t size = 0;
	FILE *out;

	start(NULL);
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(blk_do(T_IN, i, DATA, 512, NULL), S_OK);
	cr_assert_eq(blk_do(T_OUT, 50, DATA, 512, NULL), S_OK);
	cr_assert_eq(blk_do(T_OUT, SECTORS, DATA, 512, NULL), S_IOERR);
	cr_assert_eq(blk_do(T_FLUSH, 0, 0, 0, NULL), S_OK);
	common_read(Q_DESC + 2, 2);	/* not a field */

	out = open_memstream(&text, &size);
	cr_assert_not_null(out);
	virtio_blk_print_stats(blk, out);
	fclose(out);
	cr_assert_not_null(strstr(text, "queue 0: 6 requests"), "%s", text);
	snprintf(want, sizeof(want), "virtio-blk %s: 3 reads (1536 bytes), 1 writes "
		 "(512 bytes), 1 flushes, 1 failed requests\n", disk_path);
	cr_assert_not_null(strstr(text, want), "%s", text);
	cr_assert_not_null(strstr(text, "1 bad register accesses"), "%s", text);
	free(text);
}

/* ======================================================================
 * Durability: a FLUSH completes only after fdatasync() returned
 * ====================================================================== */

Test(virtio_blk, flush_completes_after_fdatasync_with_the_data_written)
{
	uint16_t before;

	start(NULL);
	sync_spy.linger = true;
	fill(DATA, 0x5a, 512);
	before = used_idx();
	blk_post(0, T_OUT, 8, DATA, 512);
	blk_post(1, T_FLUSH, 0, 0, 0);
	kick();			/* both in one kick: the order is the ring's */
	wait_all_used();
	cr_assert_eq(sync_spy.calls, 1, "fdatasync calls: %u", sync_spy.calls);
	cr_assert_eq(sync_spy.used_at_entry, (uint16_t)(before + 1),
		     "when fdatasync ran: the write completed, the FLUSH not yet");
	cr_assert_not(sync_spy.used_moved_during,
		      "the FLUSH completed before fdatasync returned");
	for (int i = 0; i < 512; i++)
		cr_assert_eq(sync_spy.file_at_entry[i], 0x5a,
			     "the write was not in the file when fdatasync ran");
	cr_assert_eq(blk_status(0), S_OK);
	cr_assert_eq(blk_status(1), S_OK);
}

Test(virtio_blk, failed_fdatasync_fails_the_flush)
{
	start(NULL);
	sync_spy.fail_errno = EIO;
	cr_assert_eq(blk_do(T_FLUSH, 0, 0, 0, NULL), S_IOERR);
	cr_assert_eq(sync_spy.calls, 1);
}

/* ======================================================================
 * DISCARD and WRITE_ZEROES
 * ====================================================================== */

#define WZ_UNMAP	1

/* One DISCARD / WRITE_ZEROES request with one segment; its status. */
static uint8_t blk_zero(uint32_t type, uint64_t sector, uint32_t n,
			uint32_t flags)
{
	struct buf b[] = {
		{ HDR(0), 16, false }, { DATA, 16, false }, { STATUS(0), 1, true },
	};
	uint32_t id, len;

	put32(HDR(0), type);
	put32(HDR(0) + 4, 0);
	put64(HDR(0) + 8, 0);
	put64(DATA, sector);
	put32(DATA + 8, n);
	put32(DATA + 12, flags);
	*(uint8_t *)ram_ptr(STATUS(0)) = 0xee;
	post_chain(b, 3);
	kick();
	wait_all_used();
	next_used(&id, &len);
	cr_assert_eq(len, 1);
	return blk_status(0);
}

/* Disk bytes [off, off + len) read back as zeros. */
static void assert_disk_zero(uint64_t off, uint64_t len)
{
	uint8_t buf[4096];

	cr_assert_leq(len, sizeof(buf));
	cr_assert_eq(pread(disk_fd, buf, len, (off_t)off), (ssize_t)len);
	for (uint64_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], 0, "byte %llu", (unsigned long long)(off + i));
}

/* Zeros in the range, and every other byte of the disk as it was: the
 * sectors on either side included. Refused requests change nothing. */
Test(virtio_blk, write_zeroes_zeroes_exactly_the_range)
{
	start(NULL);
	cr_assert(device_features() & 1ull << BLK_F_WRITE_ZEROES);
	cr_assert_eq(blk_zero(T_WRITE_ZEROES, 16, 4, 0), S_OK);
	assert_disk_zero(16 * 512, 4 * 512);
	assert_disk_pristine_except(16 * 512, 4 * 512);
	write_pattern(16 * 512, 4 * 512);
	cr_assert_eq(blk_zero(T_WRITE_ZEROES, 40, 1, WZ_UNMAP), S_OK);
	assert_disk_zero(40 * 512, 512);
	assert_disk_pristine_except(40 * 512, 512);
	write_pattern(40 * 512, 512);
	cr_assert_eq(blk_zero(T_WRITE_ZEROES, 0, 1, 2), S_UNSUPP, "reserved flag");
	cr_assert_eq(blk_zero(T_WRITE_ZEROES, SECTORS - 1, 2, 0), S_IOERR);
	cr_assert_eq(blk_zero(T_WRITE_ZEROES, UINT64_MAX, 1, 0), S_IOERR);
	assert_disk_pristine();
}

Test(virtio_blk, discard_is_a_hint_with_no_unmap_flag)
{
	start(NULL);
	if (!(device_features() & 1ull << BLK_F_DISCARD))
		cr_skip_test("this file system cannot punch holes");
	cr_assert_eq(blk_zero(T_DISCARD, 64, 8, 0), S_OK);
	assert_disk_zero(64 * 512, 8 * 512);	/* a punched hole reads 0 */
	cr_assert_eq(blk_zero(T_DISCARD, 64, 8, WZ_UNMAP), S_UNSUPP);
	cr_assert_eq(blk_zero(T_DISCARD, SECTORS, 1, 0), S_IOERR);
	assert_disk_pristine_except(64 * 512, 8 * 512);
}

Test(virtio_blk, read_only_disk_offers_no_zeroing)
{
	start("ro=on");
	cr_assert_not(device_features() & 1ull << BLK_F_WRITE_ZEROES);
	cr_assert_not(device_features() & 1ull << BLK_F_DISCARD);
	cr_assert_eq(blk_zero(T_WRITE_ZEROES, 0, 1, 0), S_IOERR);
	cr_assert_eq(blk_zero(T_DISCARD, 0, 1, 0), S_IOERR);
	assert_disk_pristine();
}

/* ======================================================================
 * INTx: MSI-X disabled, as a driver without MSI-X (or Linux's pci=nomsi)
 * runs the device. virtio 1.2, 4.1.4.5, 4.1.5.3-4; PCI 3.0, 6.2.2.
 * ====================================================================== */

/* The board's end of INTA#: its level and how often it changed. Written by
 * the I/O thread (completions) and by us (ISR reads, config writes). */
static struct {
	pthread_mutex_t lock;
	unsigned raises, lowers;
	unsigned repeats, wrong_input;	/* what must never happen */
	bool level;
} intx = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Runs on the device's threads: record, assert later on ours. */
static void on_intx(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	pthread_mutex_lock(&intx.lock);
	intx.wrong_input += n != 11;
	intx.repeats += level == intx.level;
	intx.level = level;
	if (level)
		intx.raises++;
	else
		intx.lowers++;
	pthread_mutex_unlock(&intx.lock);
}

static bool intx_level(void)
{
	bool l;

	pthread_mutex_lock(&intx.lock);
	l = intx.level;
	pthread_mutex_unlock(&intx.lock);
	return l;
}

/* Exactly @raises assertions and @lowers deassertions so far. */
static void assert_intx(unsigned raises, unsigned lowers)
{
	pthread_mutex_lock(&intx.lock);
	cr_assert_eq(intx.raises, raises, "INTx raised %u times, want %u",
		     intx.raises, raises);
	cr_assert_eq(intx.lowers, lowers, "INTx lowered %u times, want %u",
		     intx.lowers, lowers);
	cr_assert_eq(intx.repeats, 0, "the line was set to its level again");
	cr_assert_eq(intx.wrong_input, 0);
	pthread_mutex_unlock(&intx.lock);
}

static uint8_t isr_read(void)
{
	return (uint8_t)mmio_read(BAR4_ADDR + VIRTIO_PCI_ISR_OFF, 1);
}

static bool pci_interrupt_status(void)
{
	return cfg_read(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
}

/* The device with INTA# wired to IRQ 11 as the board does it, brought up
 * with MSI-X disabled and @features. */
static void start_intx_with(uint64_t features)
{
	struct error err = { "" };
	struct irq_line line = { on_intx, NULL, 11 };

	intx.raises = intx.lowers = intx.repeats = intx.wrong_input = 0;
	intx.level = false;
	cr_assert_eq(blk_create(NULL, &err), 0, "realize: %s", err.msg);
	pci_setup();
	pci_connect_intx(bus.devices[slot], &line, 11);
	cfg_write(caps.msix + 2, 0, 2);
	drv_init_with(features);
}

static void start_intx(void)
{
	start_intx_with(VERSION_1 | 1ull << BLK_F_FLUSH);
}

/* Firmware's view: INTA#, and the IRQ the board routed it to. */
Test(virtio_blk, intx_pin_and_line)
{
	start_intx();
	cr_assert_eq(cfg_read(PCI_INTERRUPT_PIN, 1), PCI_INTERRUPT_PIN_A);
	cr_assert_eq(cfg_read(PCI_INTERRUPT_LINE, 1), 11);
	cfg_write(PCI_INTERRUPT_PIN, 0, 1);
	cr_assert_eq(cfg_read(PCI_INTERRUPT_PIN, 1), PCI_INTERRUPT_PIN_A);
	assert_intx(0, 0);
	cr_assert_not(pci_interrupt_status());
}

/* A completion asserts INTx and sets ISR bit 0; the ISR read returns it,
 * clears it and deasserts; no MSI-X message on the way. */
Test(virtio_blk, intx_completion_then_isr_read_deasserts)
{
	unsigned n0;

	start_intx();
	n0 = msi_count();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx asserted");
	assert_intx(1, 0);
	cr_assert(pci_interrupt_status());
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE);
	assert_intx(1, 1);
	cr_assert_not(intx_level());
	cr_assert_not(pci_interrupt_status());
	cr_assert_eq(isr_read(), 0, "the read cleared it");
	assert_intx(1, 1);
	cr_assert_eq(msi_count(), n0);
	cr_assert_eq(msix_pba(), 0);
	assert_ram_is_disk(DATA, 0, 512);
}

/* A driver that never maps vectors (they stay NO_VECTOR) gets INTx all
 * the same: with MSI-X off, vectors mean nothing. */
Test(virtio_blk, intx_with_no_vectors)
{
	start_intx();
	common_write(CFG_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
	common_write(Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx asserted");
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE);
	assert_intx(1, 1);
}

/* A level: completions while the ISR is unread keep the line up, with no
 * new edge each; empty kicks raise nothing. Exact counts. */
Test(virtio_blk, intx_no_storm)
{
	start_intx();
	for (unsigned i = 0; i < 10; i++)
		cr_assert_eq(blk_do(T_IN, i, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx asserted");
	usleep(20000);
	assert_intx(1, 0);
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE);
	assert_intx(1, 1);
	kick();
	kick();
	usleep(20000);
	assert_intx(1, 1);
	cr_assert_eq(isr_read(), 0);
	cr_assert_eq(blk_do(T_IN, 10, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx asserted again");
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE);
	assert_intx(2, 2);
}

/* Interrupt Disable keeps the line down; Interrupt Status and the ISR
 * still tell; clearing Interrupt Disable asserts what is pending. */
Test(virtio_blk, intx_interrupt_disable_masks_the_line)
{
	const uint16_t on = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	start_intx();
	cfg_write(PCI_COMMAND, on | PCI_COMMAND_INTX_DISABLE, 2);
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	WAIT_FOR(pci_interrupt_status(), "Interrupt Status");
	assert_intx(0, 0);
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE, "polling still works");
	cr_assert_not(pci_interrupt_status());

	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);
	WAIT_FOR(pci_interrupt_status(), "Interrupt Status");
	assert_intx(0, 0);
	cfg_write(PCI_COMMAND, on, 2);
	assert_intx(1, 0);
	cr_assert(intx_level());
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE);
	assert_intx(1, 1);
}

/* A configuration change (here DEVICE_NEEDS_RESET) sets ISR bit 1 and
 * asserts INTx; the read returns just that bit. */
Test(virtio_blk, intx_config_change)
{
	start_intx();
	blk_post(0, T_OUT, 0, DATA, 512);
	__atomic_store_n((uint16_t *)ram_ptr(AVAIL + 2), QSIZE + 2, __ATOMIC_RELEASE);
	kick();
	WAIT_FOR(status() & ST_NEEDS_RESET, "DEVICE_NEEDS_RESET");
	WAIT_FOR(intx_level(), "INTx asserted");
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_CONFIG);
	assert_intx(1, 1);
	assert_disk_pristine();
}

/* MSI-X enabled: INTx goes down and stays down, messages take over; an
 * ISR bit left from before is still read (and cleared) by the driver. */
Test(virtio_blk, intx_stops_when_msix_enabled)
{
	unsigned n0;

	start_intx();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx asserted");
	n0 = msi_count();
	cfg_write(caps.msix + 2, MSIX_CTRL_ENABLE, 2);
	assert_intx(1, 1);
	cr_assert_not(pci_interrupt_status());
	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);
	wait_msi_data(n0, MSI_DATA_Q);
	usleep(20000);
	assert_intx(1, 1);
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE, "the old bit");
	assert_intx(1, 1);

	/* Off again with the ISR clear: nothing; the next completion: INTx. */
	cfg_write(caps.msix + 2, 0, 2);
	assert_intx(1, 1);
	n0 = msi_count();
	cr_assert_eq(blk_do(T_IN, 2, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx asserted again");
	assert_intx(2, 1);
	cr_assert_eq(msi_count(), n0);
}

/* An ISR bit set while MSI-X was on asserts INTx once MSI-X goes off: the
 * line is the OR of the ISR bits whenever MSI-X is off. */
Test(virtio_blk, intx_pending_isr_asserts_when_msix_disabled)
{
	start_intx();
	cfg_write(caps.msix + 2, MSIX_CTRL_ENABLE, 2);
	blk_post(0, T_OUT, 0, DATA, 512);
	__atomic_store_n((uint16_t *)ram_ptr(AVAIL + 2), QSIZE + 2, __ATOMIC_RELEASE);
	kick();
	WAIT_FOR(status() & ST_NEEDS_RESET, "DEVICE_NEEDS_RESET");
	wait_msi_data(0, MSI_DATA_CFG);
	assert_intx(0, 0);
	cfg_write(caps.msix + 2, 0, 2);
	assert_intx(1, 0);
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_CONFIG);
	assert_intx(1, 1);
}

/* A device reset clears the ISR status and so deasserts INTx. */
Test(virtio_blk, intx_reset_deasserts)
{
	start_intx();
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx asserted");
	set_status(0);
	assert_intx(1, 1);
	cr_assert_not(pci_interrupt_status());
	cr_assert_eq(isr_read(), 0);
	drv_init();
	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);
	WAIT_FOR(intx_level(), "INTx after the new start");
	assert_intx(2, 1);
}

/* EVENT_IDX suppression applies to INTx as to MSI-X. */
Test(virtio_blk, intx_event_idx)
{
	start_intx_with(VERSION_1 | 1ull << VIRTIO_F_EVENT_IDX);
	put16(USED_EVENT, 1);		/* wake me when entry 1 is used */
	cr_assert_eq(blk_do(T_IN, 0, DATA, 512, NULL), S_OK);	/* used 1 */
	usleep(20000);
	assert_intx(0, 0);
	cr_assert_eq(isr_read(), 0);
	cr_assert_eq(blk_do(T_IN, 1, DATA, 512, NULL), S_OK);	/* used 2 */
	WAIT_FOR(intx_level(), "INTx asserted");
	cr_assert_eq(isr_read(), VIRTIO_PCI_ISR_QUEUE);
	assert_intx(1, 1);
}
