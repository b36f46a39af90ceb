/* virtio-blk under host I/O faults, end to end without KVM: the test is the
 * guest driver (tests/unit/virtio_blk_driver.h; one split queue, polled; no
 * interrupts), the device's I/O thread does the requests against a
 * temporary disk file, and a shim fails the host calls the test chooses.
 *
 * The shim: the unit tests link with -Wl,--wrap= for preadv, pwritev and
 * fallocate, so every such call of the device comes to a __wrap_ function
 * below first (fdatasync: see there). Each passes the call through, unless
 * the test's fault table names it (the Nth call of that kind since the
 * table was set): then it fails with the entry's errno, or transfers at
 * most the entry's byte count (a short count). What the device must do (see
 * devices/virtio/virtio_blk.c): EINTR and short counts retried until done,
 * other errors IOERR, each kind logged once, every request completed
 * exactly once, and no FLUSH reported done after an fdatasync failed. */
#define _GNU_SOURCE	/* preadv, pwritev, fallocate */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tests/unit/virtio_blk_driver.h"

/* ======================================================================
 * The fault shim
 * ====================================================================== */

enum io_call { IO_PREADV, IO_PWRITEV, IO_FDATASYNC, IO_FALLOCATE, IO_CALLS };

/* Calls @first .. @first + @count - 1 of kind @call (counted from 1 since
 * faults_set) fail with @err, or, when @err is 0, move at most @max_bytes. */
struct io_fault {
	enum io_call call;
	unsigned first, count;
	int err;
	size_t max_bytes;
};

#define MAX_FAULTS	512

static struct {
	pthread_mutex_t lock;
	struct io_fault table[MAX_FAULTS];
	unsigned n;
	unsigned calls[IO_CALLS];	/* since faults_set */
	unsigned injected;		/* calls the table changed */
	unsigned hard_errors;		/* of those, failures other than EINTR */
} shim = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Replaces the table (none: every call passes) and restarts the counts. */
static void faults_set(const struct io_fault *t, unsigned n)
{
	cr_assert_leq(n, MAX_FAULTS);
	pthread_mutex_lock(&shim.lock);
	for (unsigned i = 0; i < n; i++)
		shim.table[i] = t[i];
	shim.n = n;
	memset(shim.calls, 0, sizeof(shim.calls));
	shim.injected = shim.hard_errors = 0;
	pthread_mutex_unlock(&shim.lock);
}

static unsigned shim_read(const unsigned *field)
{
	unsigned v;

	pthread_mutex_lock(&shim.lock);
	v = *field;
	pthread_mutex_unlock(&shim.lock);
	return v;
}

/* Counts one call of kind @c; true, with its entry in @f, when the table
 * names it. */
static bool fault_for_call(enum io_call c, struct io_fault *f)
{
	bool hit = false;
	unsigned k;

	pthread_mutex_lock(&shim.lock);
	k = ++shim.calls[c];
	for (unsigned i = 0; i < shim.n && !hit; i++) {
		const struct io_fault *e = &shim.table[i];

		hit = e->call == c && k >= e->first && k - e->first < (e->count ? e->count : 1);
		if (hit)
			*f = *e;
	}
	if (hit) {
		shim.injected++;
		shim.hard_errors += f->err && f->err != EINTR;
	}
	pthread_mutex_unlock(&shim.lock);
	return hit;
}

/* The first @max bytes of @iov[@n] as iovecs in @out: their count. */
static int iov_cut(const struct iovec *iov, int n, size_t max, struct iovec *out)
{
	int k = 0;

	for (; k < n && max; k++) {
		out[k] = iov[k];
		if (out[k].iov_len > max)
			out[k].iov_len = max;
		max -= out[k].iov_len;
	}
	return k;
}

ssize_t __real_preadv(int fd, const struct iovec *iov, int n, off_t off);
ssize_t __real_pwritev(int fd, const struct iovec *iov, int n, off_t off);
int __real_fallocate(int fd, int mode, off_t off, off_t len);
ssize_t __wrap_preadv(int fd, const struct iovec *iov, int n, off_t off);
ssize_t __wrap_pwritev(int fd, const struct iovec *iov, int n, off_t off);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);

static ssize_t shim_rw(enum io_call c, int fd, const struct iovec *iov, int n,
		       off_t off)
{
	static __thread struct iovec cut[IOV_MAX];
	struct io_fault f;

	if (fault_for_call(c, &f)) {
		if (f.err) {
			errno = f.err;
			return -1;
		}
		n = iov_cut(iov, n < IOV_MAX ? n : IOV_MAX, f.max_bytes, cut);
		iov = cut;
	}
	return c == IO_PREADV ? __real_preadv(fd, iov, n, off)
			      : __real_pwritev(fd, iov, n, off);
}

ssize_t __wrap_preadv(int fd, const struct iovec *iov, int n, off_t off)
{
	return shim_rw(IO_PREADV, fd, iov, n, off);
}

ssize_t __wrap_pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	return shim_rw(IO_PWRITEV, fd, iov, n, off);
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
	struct io_fault f;

	if (fault_for_call(IO_FALLOCATE, &f) && f.err) {
		errno = f.err;
		return -1;
	}
	return __real_fallocate(fd, mode, off, len);
}

/* fdatasync has a --wrap of its own already: test_virtio_blk.c's
 * durability spy, which passes other suites' calls on to __real_fdatasync.
 * The linker resolves that to plain `fdatasync`, so the shim sits beneath
 * the spy as the program's own fdatasync (it takes precedence over libc's),
 * and passes calls on to the system call itself. */
int fdatasync(int fd)
{
	struct io_fault f;

	if (fault_for_call(IO_FDATASYNC, &f) && f.err) {
		errno = f.err;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

/* ======================================================================
 * The machine, the disk, the log
 * ====================================================================== */

/* Queue 0 of 64 entries: its rings wrap many times under the random
 * faults. SEG: one WRITE_ZEROES segment per slot, after the status bytes. */
#define QSIZE		64
#define SEG(s)		(0x23000ull + 16ull * (s))

static FILE *log_file;		/* what the device wrote on stderr */
static int real_stderr = -1;

/* The disk file's bytes [@off, +@len) equal @want. */
static void assert_file_holds(uint64_t off, const uint8_t *want, size_t len)
{
	static uint8_t buf[64 * 1024];

	cr_assert_leq(len, sizeof(buf));
	cr_assert_eq(pread(disk_fd, buf, len, (off_t)off), (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], want[i], "file byte %#llx",
			     (unsigned long long)(off + i));
}

/* The disk file's bytes [@off, +@len) still hold the original pattern. */
static void assert_file_is_pattern(uint64_t off, size_t len)
{
	static uint8_t want[64 * 1024];

	cr_assert_leq(len, sizeof(want));
	for (size_t i = 0; i < len; i++)
		want[i] = pattern(off + i);
	assert_file_holds(off, want, len);
}

/* stderr goes to a file while the test runs, so it can count the device's
 * log lines; back afterwards, for the sanitizers' reports at exit. */
static void capture_stderr(void)
{
	log_file = tmpfile();
	cr_assert_not_null(log_file);
	real_stderr = dup(STDERR_FILENO);
	cr_assert_geq(real_stderr, 0);
	cr_assert_geq(dup2(fileno(log_file), STDERR_FILENO), 0);
}

static void restore_stderr(void)
{
	dup2(real_stderr, STDERR_FILENO);
	close(real_stderr);
	fclose(log_file);
}

/* Lines of the log that contain @needle. */
static unsigned log_lines(const char *needle)
{
	char line[512];
	unsigned n = 0;

	cr_assert_eq(fseek(log_file, 0, SEEK_SET), 0);
	while (fgets(line, sizeof(line), log_file))
		n += strstr(line, needle) != NULL;
	return n;
}

static int no_msi(void *host, uint64_t addr, uint32_t data)
{
	(void)host; (void)addr; (void)data;
	return 0;
}

static void suite_init(void)
{
	machine_init_with(QSIZE, no_msi);
	faults_set(NULL, 0);
	capture_stderr();
}

static void suite_fini(void)
{
	machine_fini();
	restore_stderr();
}

TestSuite(blk_faults, .init = suite_init, .fini = suite_fini, .timeout = 60);

/* ======================================================================
 * The guest's driver: polled, in ring order
 * ====================================================================== */

/* Features: VERSION_1 and whatever of FLUSH, WRITE_ZEROES, DISCARD is
 * offered. */
static void drv_init(void)
{
	drv_init_with(device_features() & (VERSION_1 | 1ull << BLK_F_FLUSH |
					   1ull << BLK_F_WRITE_ZEROES |
					   1ull << BLK_F_DISCARD));
}

/* The device on the disk, found, its BARs mapped, MSI-X off (polled: no
 * interrupts), the driver up. */
static void start(void)
{
	struct error err = { "" };

	cr_assert_eq(blk_create(NULL, &err), 0, "realize: %s", err.msg);
	pci_setup();
	cfg_write(caps.msix + 2, 0, 2);
	drv_init();
}

static uint16_t post_zero(unsigned s, uint32_t type, uint64_t sector, uint32_t n)
{
	put64(SEG(s), sector);
	put32(SEG(s) + 8, n);
	put32(SEG(s) + 12, 0);
	return post_req(s, type, 0, &(struct buf){ SEG(s), 16, false }, 1);
}

/* Kicks, waits until the device has used everything made available, and
 * checks the used entries since the last call: each names a head posted
 * in @heads[@n] (in ring order: the I/O thread serves in order), once. */
static void complete(const uint16_t *heads, unsigned n, uint32_t *lens)
{
	kick();
	wait_all_used();
	cr_assert_eq((uint16_t)(drv.used_seen + n), drv.avail_idx);
	for (unsigned i = 0; i < n; i++) {
		uint32_t id, len;

		next_used(&id, &len);
		cr_assert_eq(id, heads[i], "used entry %u: id %u, want %u",
			     (uint16_t)(drv.used_seen - 1), id, heads[i]);
		if (lens)
			lens[i] = len;
	}
}

/* One request in slot 0, completed: its status. */
static uint8_t do_flush(void)
{
	uint16_t h = blk_post(0, T_FLUSH, 0, 0, 0);

	complete(&h, 1, NULL);
	return blk_status(0);
}

static uint8_t do_rw(uint32_t type, uint64_t sector, uint64_t gpa, uint32_t len)
{
	uint16_t h = blk_post(0, type, sector, gpa, len);

	complete(&h, 1, NULL);
	return blk_status(0);
}

/* After the test's requests: one more, served after all of them (the I/O
 * thread works in ring order), proves nothing completed late or twice:
 * used.idx moves by exactly one. */
static void assert_no_late_completion(void)
{
	uint16_t before = used_idx();

	cr_assert_eq(do_rw(T_IN, 0, DATA, SECTOR), S_OK);
	cr_assert_eq(used_idx(), (uint16_t)(before + 1));
}

static void fill(uint64_t gpa, uint8_t seed, size_t len)
{
	uint8_t *p = ram_ptr(gpa);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 31 + i / 251);
}

/* ======================================================================
 * EINTR and short counts: retried, the guest sees OK
 * ====================================================================== */

/* 8 KiB in three buffers that do not end on sector boundaries, so a short
 * count lands inside a buffer and between buffers. */
static const struct buf split_read[] = {
	{ DATA, 1000, true }, { DATA + 1000, 3000, true }, { DATA + 4000, 4192, true },
};
static const struct buf split_write[] = {
	{ DATA, 1000, false }, { DATA + 1000, 3000, false }, { DATA + 4000, 4192, false },
};

Test(blk_faults, eintr_and_short_reads_are_retried)
{
	const struct io_fault f[] = {
		{ IO_PREADV, 1, 1, EINTR, 0 }, { IO_PREADV, 2, 1, 0, 100 },
		{ IO_PREADV, 3, 1, EINTR, 0 }, { IO_PREADV, 4, 1, 0, 1 },
		{ IO_PREADV, 5, 1, 0, 4000 },
	};
	uint32_t len;
	uint16_t h;

	start();
	faults_set(f, 5);
	memset(ram_ptr(DATA), 0, 8192);
	h = post_req(0, T_IN, 16, split_read, 3);
	complete(&h, 1, &len);
	cr_assert_eq(blk_status(0), S_OK);
	cr_assert_eq(len, 8192 + 1, "used.len: all data and the status");
	assert_ram_is_disk(DATA, 16 * SECTOR, 8192);
	cr_assert_eq(shim_read(&shim.injected), 5, "every fault was hit");
	cr_assert_eq(shim_read(&shim.calls[IO_PREADV]), 6, "5 faults, then the rest");
	cr_assert_eq(log_lines("tinyvmm"), 0, "retried calls are not failures");
	assert_no_late_completion();
}

Test(blk_faults, eintr_and_short_writes_are_retried)
{
	const struct io_fault f[] = {
		{ IO_PWRITEV, 1, 1, 0, 513 }, { IO_PWRITEV, 2, 2, EINTR, 0 },
		{ IO_PWRITEV, 4, 3, 0, 700 },
	};
	uint8_t want[8192];
	uint16_t h;

	start();
	faults_set(f, 3);
	fill(DATA, 0x40, sizeof(want));
	memcpy(want, ram_ptr(DATA), sizeof(want));
	h = post_req(0, T_OUT, 32, split_write, 3);
	complete(&h, 1, NULL);
	cr_assert_eq(blk_status(0), S_OK);
	assert_file_holds(32 * SECTOR, want, sizeof(want));
	assert_file_is_pattern(31 * SECTOR, SECTOR);	/* the neighbours */
	assert_file_is_pattern(48 * SECTOR, SECTOR);
	cr_assert_eq(shim_read(&shim.injected), 6);
	cr_assert_eq(log_lines("tinyvmm"), 0);
	assert_no_late_completion();
}

/* ======================================================================
 * EIO and ENOSPC: IOERR, logged once, the device serves on
 * ====================================================================== */

#define LOG_WRITE_EIO	"write failed: Input/output error"
#define LOG_WRITE_NOSPC	"write failed: No space left on device"
#define LOG_READ_EIO	"read failed: Input/output error"
#define LOG_FLUSH	"flush (fdatasync) failed"

Test(blk_faults, eio_and_enospc_fail_the_request_and_are_logged_once)
{
	const struct io_fault f[] = {
		{ IO_PWRITEV, 1, 3, EIO, 0 },		/* writes 0-2 */
		{ IO_PWRITEV, 4, 1, 0, SECTOR },	/* write 3: part of it, */
		{ IO_PWRITEV, 5, 3, ENOSPC, 0 },	/* then full; writes 4, 5 */
		{ IO_PREADV, 1, 2, EIO, 0 },		/* reads 6, 7 */
	};
	uint16_t h[10];
	uint32_t len[10];
	uint8_t want[4096];

	start();
	faults_set(f, 4);
	for (unsigned s = 0; s < 10; s++) {
		bool write = s < 6 || s == 8;

		fill(DATA + 4096 * s, (uint8_t)s, 4096);
		h[s] = blk_post(s, write ? T_OUT : T_IN, 64 + 8 * s, DATA + 4096 * s, 4096);
	}
	memcpy(want, ram_ptr(DATA + 4096 * 8), sizeof(want));
	complete(h, 10, len);
	for (unsigned s = 0; s < 8; s++) {
		cr_assert_eq(blk_status(s), S_IOERR, "request %u", s);
		cr_assert_eq(len[s], 1, "request %u: a failed request returns no data", s);
	}
	cr_assert_eq(blk_status(8), S_OK, "the device serves on after failures");
	cr_assert_eq(blk_status(9), S_OK);
	cr_assert_eq(len[9], 4096 + 1);
	assert_file_holds((64 + 8 * 8) * SECTOR, want, sizeof(want));
	assert_ram_is_disk(DATA + 4096 * 9, (64 + 8 * 9) * SECTOR, 4096);
	for (unsigned s = 0; s < 3; s++)	/* failed before writing */
		assert_file_is_pattern((64 + 8 * s) * SECTOR, 4096);
	cr_assert_eq(shim_read(&shim.injected), 9);
	cr_assert_eq(log_lines(LOG_WRITE_EIO), 1);
	cr_assert_eq(log_lines(LOG_WRITE_NOSPC), 1);
	cr_assert_eq(log_lines(LOG_READ_EIO), 1);
	cr_assert_eq(log_lines("tinyvmm"), 3, "one line per kind");
	assert_no_late_completion();
}

/* ======================================================================
 * WRITE_ZEROES and DISCARD (fallocate, with writes as the fallback)
 * ====================================================================== */

static uint8_t do_zero(uint32_t type, uint64_t sector, uint32_t n)
{
	uint16_t h = post_zero(0, type, sector, n);

	complete(&h, 1, NULL);
	return blk_status(0);
}

static void assert_file_zero(uint64_t off, size_t len)
{
	static const uint8_t zero[64 * 1024];

	assert_file_holds(off, zero, len);
}

Test(blk_faults, write_zeroes_retries_eintr_and_falls_back_to_writes)
{
	const struct io_fault eintr[] = { { IO_FALLOCATE, 1, 2, EINTR, 0 } };
	/* Every fallocate fails: the zeros are written, with a short write. */
	const struct io_fault eio[] = {
		{ IO_FALLOCATE, 1, 2, EIO, 0 }, { IO_PWRITEV, 1, 1, 0, 100 },
	};

	start();
	faults_set(eintr, 1);
	cr_assert_eq(do_zero(T_WRITE_ZEROES, 128, 8), S_OK);
	assert_file_zero(128 * SECTOR, 8 * SECTOR);
	cr_assert_eq(shim_read(&shim.calls[IO_FALLOCATE]), 3, "EINTR twice, then done");
	cr_assert_eq(shim_read(&shim.calls[IO_PWRITEV]), 0, "no fallback for EINTR");
	if (device_features() & 1ull << BLK_F_DISCARD) {	/* the file can punch holes */
		faults_set(eintr, 1);
		cr_assert_eq(do_zero(T_DISCARD, 128, 8), S_OK);
		cr_assert_eq(shim_read(&shim.calls[IO_FALLOCATE]), 3);
	}
	faults_set(eio, 2);
	cr_assert_eq(do_zero(T_WRITE_ZEROES, 256, 8), S_OK);
	assert_file_zero(256 * SECTOR, 8 * SECTOR);
	assert_file_is_pattern(255 * SECTOR, SECTOR);
	assert_file_is_pattern(264 * SECTOR, SECTOR);
	cr_assert_geq(shim_read(&shim.calls[IO_PWRITEV]), 2, "written, after a short count");
	cr_assert_eq(log_lines("tinyvmm"), 0);
	assert_no_late_completion();
}

Test(blk_faults, write_zeroes_and_discard_fail_with_ioerr_when_all_ways_fail)
{
	const struct io_fault f[] = {
		{ IO_FALLOCATE, 1, 100, EIO, 0 }, { IO_PWRITEV, 1, 100, ENOSPC, 0 },
	};

	start();
	faults_set(f, 2);
	cr_assert_eq(do_zero(T_WRITE_ZEROES, 128, 8), S_IOERR);
	cr_assert_eq(do_zero(T_WRITE_ZEROES, 128, 8), S_IOERR);
	cr_assert_eq(log_lines("discard/write-zeroes failed: No space left on device"), 1);
	assert_file_is_pattern(128 * SECTOR, 8 * SECTOR);
	if (device_features() & 1ull << BLK_F_DISCARD) {	/* the file can punch holes */
		cr_assert_eq(do_zero(T_DISCARD, 128, 8), S_IOERR);
		cr_assert_eq(log_lines("discard/write-zeroes failed: Input/output error"), 1);
	}
	faults_set(NULL, 0);
	assert_no_late_completion();
}

/* ======================================================================
 * FLUSH: retried on EINTR; never OK once an fdatasync failed
 * ====================================================================== */

Test(blk_faults, flush_retries_eintr)
{
	const struct io_fault f[] = { { IO_FDATASYNC, 1, 2, EINTR, 0 } };

	start();
	faults_set(f, 1);
	cr_assert_eq(do_flush(), S_OK);
	cr_assert_eq(shim_read(&shim.calls[IO_FDATASYNC]), 3);
	cr_assert_eq(log_lines("tinyvmm"), 0);
}

/* Linux may drop the pages a failed writeback could not write, and then
 * the next fdatasync succeeds: the device must not believe it. */
Test(blk_faults, after_a_failed_fdatasync_no_flush_reports_ok)
{
	const struct io_fault f[] = { { IO_FDATASYNC, 1, 1, EIO, 0 } };

	start();
	faults_set(f, 1);
	fill(DATA, 0x11, 4096);
	cr_assert_eq(do_rw(T_OUT, 200, DATA, 4096), S_OK);
	cr_assert_eq(do_flush(), S_IOERR);
	cr_assert_eq(do_flush(), S_IOERR, "the second fdatasync would succeed: not trusted");
	cr_assert_eq(do_rw(T_OUT, 208, DATA, 4096), S_OK, "writes still served");
	cr_assert_eq(do_rw(T_IN, 200, DATA + 4096, 4096), S_OK, "reads still served");
	cr_assert_eq(memcmp(ram_ptr(DATA), ram_ptr(DATA + 4096), 4096), 0);
	cr_assert_eq(do_flush(), S_IOERR);
	drv_init();		/* a device reset brings no lost page back */
	cr_assert_eq(do_flush(), S_IOERR, "FLUSH OK after a reset");
	cr_assert_eq(shim_read(&shim.calls[IO_FDATASYNC]), 1,
		     "the kernel is not asked again");
	cr_assert_eq(log_lines(LOG_FLUSH), 1);
	cr_assert_eq(log_lines("tinyvmm"), 1);
	assert_no_late_completion();
}

/* What a successful FLUSH covered stays intact through the failures that
 * follow (failed writes elsewhere, failed zeroing, a failed flush), and
 * reads of it through retried faults return it. */
Test(blk_faults, data_flushed_before_faults_is_intact)
{
	const struct io_fault f[] = {
		{ IO_PWRITEV, 1, 1, 0, SECTOR }, { IO_PWRITEV, 2, 10, ENOSPC, 0 },
		{ IO_FALLOCATE, 1, 10, EIO, 0 }, { IO_FDATASYNC, 1, 1, EIO, 0 },
		{ IO_PREADV, 1, 1, EINTR, 0 }, { IO_PREADV, 2, 1, 0, 1000 },
	};
	uint8_t want[8192];

	start();
	fill(DATA, 0x77, sizeof(want));
	memcpy(want, ram_ptr(DATA), sizeof(want));
	cr_assert_eq(do_rw(T_OUT, 300, DATA, sizeof(want)), S_OK);
	cr_assert_eq(do_flush(), S_OK);
	faults_set(f, 6);
	fill(DATA, 0x99, sizeof(want));
	cr_assert_eq(do_rw(T_OUT, 400, DATA, sizeof(want)), S_IOERR);
	cr_assert_eq(do_zero(T_WRITE_ZEROES, 500, 16), S_IOERR);
	cr_assert_eq(do_flush(), S_IOERR);
	memset(ram_ptr(DATA), 0, sizeof(want));
	cr_assert_eq(do_rw(T_IN, 300, DATA, sizeof(want)), S_OK);
	cr_assert_eq(memcmp(ram_ptr(DATA), want, sizeof(want)), 0, "the flushed data read back");
	assert_file_holds(300 * SECTOR, want, sizeof(want));
	assert_no_late_completion();
}

/* ======================================================================
 * Many requests, faults at random calls: each completes exactly once
 * ====================================================================== */

#define BATCHES		15
#define PER_BATCH	20	/* 3 descriptors each: at most QSIZE / 3 */
#define FAULTY_CALLS	240	/* per kind; the calls after them pass */

/* Deterministic: the same faults at every run. */
static unsigned lcg(unsigned *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 16;
}

static unsigned random_faults(struct io_fault *t)
{
	unsigned n = 0, x = 1;

	for (enum io_call c = IO_PREADV; c <= IO_PWRITEV; c++)
		for (unsigned k = 1; k <= FAULTY_CALLS; k++) {
			unsigned r = lcg(&x) % 10;
			int err = r == 0 ? EINTR : r == 2 ? EIO :
				  r == 3 && c == IO_PWRITEV ? ENOSPC : 0;

			if (r < 4)
				t[n++] = (struct io_fault){ c, k, 1, err, 1 + lcg(&x) % 5000 };
		}
	return n;
}

/* Whether the table holds a fault of kind @c with @err that was hit. */
static bool fault_hit(const struct io_fault *t, unsigned n, enum io_call c, int err)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].call == c && t[i].err == err && t[i].first <= shim_read(&shim.calls[c]))
			return true;
	return false;
}

Test(blk_faults, every_request_completes_once_under_random_faults)
{
	static struct io_fault t[2 * FAULTY_CALLS];
	unsigned n = random_faults(t), ioerr = 0, ok = 0;

	start();
	faults_set(t, n);
	for (unsigned b = 0; b < BATCHES; b++) {
		uint16_t h[PER_BATCH];
		uint32_t len[PER_BATCH];

		/* Writes to their own sectors below 2 MiB; reads of the
		 * untouched pattern above. */
		for (unsigned s = 0; s < PER_BATCH; s++) {
			bool write = s % 2;
			uint64_t sector = write ? (b * PER_BATCH + s) * 8 : 4096 + s * 8;

			fill(DATA + 4096 * s, (uint8_t)(b * PER_BATCH + s), 4096);
			h[s] = blk_post(s, write ? T_OUT : T_IN, sector, DATA + 4096 * s, 4096);
		}
		complete(h, PER_BATCH, len);
		for (unsigned s = 0; s < PER_BATCH; s++) {
			bool write = s % 2;
			uint8_t st = blk_status(s);

			cr_assert(st == S_OK || st == S_IOERR, "status %#x", st);
			ioerr += st == S_IOERR;
			ok += st == S_OK;
			cr_assert_eq(len[s], st == S_OK && !write ? 4096 + 1 : 1);
			if (st == S_OK && write)
				assert_file_holds((b * PER_BATCH + s) * 8 * SECTOR,
						  ram_ptr(DATA + 4096 * s), 4096);
			else if (st == S_OK)
				assert_ram_is_disk(DATA + 4096 * s, (4096 + s * 8) * SECTOR,
						      4096);
		}
	}
	cr_assert_eq(ioerr, shim_read(&shim.hard_errors),
		     "each hard error fails exactly its one request");
	cr_assert_gt(ioerr, 10);
	cr_assert_gt(ok, 100);
	cr_assert_gt(shim_read(&shim.injected), shim_read(&shim.hard_errors),
		     "EINTR and short counts were retried too");
	cr_assert_eq(log_lines(LOG_READ_EIO), fault_hit(t, n, IO_PREADV, EIO));
	cr_assert_eq(log_lines(LOG_WRITE_EIO), fault_hit(t, n, IO_PWRITEV, EIO));
	cr_assert_eq(log_lines(LOG_WRITE_NOSPC), fault_hit(t, n, IO_PWRITEV, ENOSPC));
	cr_assert_eq(log_lines("tinyvmm"), fault_hit(t, n, IO_PREADV, EIO) +
		     fault_hit(t, n, IO_PWRITEV, EIO) + fault_hit(t, n, IO_PWRITEV, ENOSPC));
	faults_set(NULL, 0);
	assert_no_late_completion();
}
