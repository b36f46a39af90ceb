/* Boot tests: the bundled guest's virtio-blk self-tests on a real image,
 * and the host side of the contract: what the guest wrote is in the file,
 * a read-only image is left alone, bad --disk arguments are refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm_run.h"

#define DISK_SIZE	(64u << 20)

static struct vmm_result res;
static char disk[] = "/tmp/tinyvmm-disk-XXXXXX";
static char arg[sizeof(disk) + 64];

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

/* Also after a failed unwritable_image_needs_ro: clear the immutable flag
 * first, or the file could not be removed. */
static void remove_disk(void)
{
	int fd = open(disk, O_RDONLY), flags;

	if (fd >= 0 && !ioctl(fd, FS_IOC_GETFLAGS, &flags)) {
		flags &= ~FS_IMMUTABLE_FL;
		ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	if (fd >= 0)
		close(fd);
	unlink(disk);
}

TestSuite(disk, .init = need_kvm, .fini = remove_disk, .timeout = 180);

/* A fresh 64 MiB image, all zero or holding the pattern. */
static void make_disk(bool with_pattern)
{
	int fd;

	strcpy(disk, "/tmp/tinyvmm-disk-XXXXXX");
	fd = mkstemp(disk);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, DISK_SIZE), 0);
	if (with_pattern)
		write_pattern(fd);
	close(fd);
}

/* The first wrong word of the region, or -1 when all hold the pattern. */
static int64_t check_pattern(void)
{
	int fd = open(disk, O_RDONLY);
	int64_t bad = -1;

	cr_assert_geq(fd, 0);
	for (uint64_t off = PATTERN_START; bad < 0 && off < PATTERN_END; off += 4096) {
		uint64_t block[512];

		cr_assert_eq(pread(fd, block, sizeof(block), (off_t)off), (ssize_t)sizeof(block));
		for (unsigned i = 0; i < 512 && bad < 0; i++)
			if (block[i] != pattern_word(off + 8 * i))
				bad = (int64_t)(off + 8 * i);
	}
	close(fd);
	return bad;
}

static off_t disk_size(void)
{
	struct stat st;

	cr_assert_eq(stat(disk, &st), 0);
	return st.st_size;
}

static void run_guest(const char *opts)
{
	snprintf(arg, sizeof(arg), "%s%s", disk, opts);
	vmm_run((const char *const[]){ "--disk", arg, BUNDLED_GUEST, NULL }, 120, &res);
	cr_assert_eq(res.code, 1, "--disk %s: exit code %d, wanted 1\nstdout:\n%s\nstderr:\n%s",
		     arg, res.code, res.out, res.err);
}

static void assert_passed(const char *name)
{
	cr_assert(tap_passed(res.out, name), "%s did not pass:\n%s", name, res.out);
}

Test(disk, guest_writes_reach_the_image)
{
	make_disk(false);
	run_guest(",serial=tinyvmm-ci");
	assert_passed("blk-features");
	assert_passed("blk-write-verify");
	assert_passed("blk-flush");
	assert_passed("blk-get-id");
	assert_passed("blk-out-of-range");
	assert_passed("blk-reset-inflight");
	cr_assert(strstr(res.out, "# serial: tinyvmm-ci"), "%s", res.out);
	cr_assert_eq(check_pattern(), -1, "image differs from the pattern at byte %lld",
		     (long long)check_pattern());
	cr_assert_eq(disk_size(), DISK_SIZE, "out-of-range writes grew the image");
}

/* FNV-1a of the whole image: "byte for byte unchanged" in one number. */
static uint64_t disk_hash(void)
{
	static uint8_t buf[1 << 20];
	uint64_t h = 0xcbf29ce484222325ull;
	int fd = open(disk, O_RDONLY);
	ssize_t n;

	cr_assert_geq(fd, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	close(fd);
	return h;
}

Test(disk, read_only_image_is_unchanged)
{
	struct stat before, after;
	uint64_t hash;

	make_disk(true);
	hash = disk_hash();
	cr_assert_eq(stat(disk, &before), 0);
	run_guest(",ro");
	assert_passed("blk-readonly");
	cr_assert(tap_skipped(res.out, "blk-write-verify"),
		  "a read-only disk must skip the write test:\n%s", res.out);
	cr_assert_eq(disk_hash(), hash, "the read-only image changed");
	cr_assert_eq(stat(disk, &after), 0);
	cr_assert_eq(after.st_size, before.st_size);
}

/* The guest writes the pattern and FLUSHes; tinyvmm is SIGKILLed the
 * moment the guest reports the FLUSH complete (no orderly exit, no close):
 * the data must be in the image. (Page-cache data survives a process kill
 * anyway; that FLUSH means fdatasync before completion is proven by the
 * unit test flush_completes_after_fdatasync_with_the_data_written.) */
Test(disk, flushed_data_survives_sigkill)
{
	make_disk(false);
	snprintf(arg, sizeof(arg), "%s", disk);
	vmm_run_until((const char *const[]){ "--disk", arg, BUNDLED_GUEST, NULL }, 120,
		      "# flushed:", &res);
	cr_assert_eq(res.code, 128 + SIGKILL, "exit %d, not killed after the flush\n%s",
		     res.code, res.out);
	cr_assert_eq(check_pattern(), -1, "after SIGKILL the image lacks the flushed data");
}

Test(disk, no_disk_skips_the_block_tests)
{
	vmm_run((const char *const[]){ BUNDLED_GUEST, NULL }, 120, &res);
	cr_assert_eq(res.code, 1, "%s\n%s", res.out, res.err);
	cr_assert(tap_skipped(res.out, "blk-features"), "%s", res.out);
}

/* One line on stderr naming the problem, and the VMM error code. */
static void assert_refused(const char *disk_arg, int code, const char *msg)
{
	vmm_run((const char *const[]){ "--disk", disk_arg, BUNDLED_GUEST, NULL }, 30, &res);
	cr_assert_eq(res.code, code, "--disk %s: code %d\n%s", disk_arg, res.code, res.err);
	cr_assert(strstr(res.err, msg), "--disk %s: no '%s' in: %s", disk_arg, msg, res.err);
	cr_assert_eq(strchr(res.err, '\n'), res.err + strlen(res.err) - 1,
		     "not one line: %s", res.err);
}

Test(disk, bad_disks_are_refused)
{
	int fd;

	assert_refused("/nonexistent/disk.img", 4, "No such file or directory");
	assert_refused("/tmp", 4, "Is a directory");
	make_disk(false);
	snprintf(arg, sizeof(arg), "%s,rw", disk);
	assert_refused(arg, 2, "unknown option 'rw'");
	snprintf(arg, sizeof(arg), "%s,serial=123456789012345678901", disk);
	assert_refused(arg, 2, "serial is at most 20");
	assert_refused("", 2, "does not name a file");
	fd = open(disk, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	close(fd);
	assert_refused(disk, 4, "the file is empty");
	cr_assert_eq(truncate(disk, 100), 0);
	assert_refused(disk, 4, "smaller than one 512-byte sector");
	assert_refused("/dev/null", 4, "not a regular file or block device");
}

/* An image the host will not let us write (immutable: even root cannot
 * open it for writing) is refused unless given as ro. */
Test(disk, unwritable_image_needs_ro)
{
	int fd, flags;

	make_disk(true);
	fd = open(disk, O_RDONLY);
	cr_assert_geq(fd, 0);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) ||
	    (flags |= FS_IMMUTABLE_FL, ioctl(fd, FS_IOC_SETFLAGS, &flags))) {
		close(fd);
		cr_skip_test("%s: no immutable files here (%s)", disk, strerror(errno));
	}
	assert_refused(disk, 4, "Operation not permitted");
	run_guest(",ro");
	assert_passed("blk-readonly");
	close(fd);	/* remove_disk clears the flag */
}
