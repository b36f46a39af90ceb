/* Boot test: a disk image on a full file system, the real-world case of the
 * host I/O faults the unit tests inject (tests/unit/test_blk_faults.c). The
 * image is sparse on a small tmpfs that a filler file has filled, so every
 * guest write to it fails with ENOSPC: the bundled guest must see IOERR on
 * exactly its write tests, tinyvmm must log it once, serve every later
 * request and end with the guest's status. Mounting a tmpfs needs root
 * (CAP_SYS_ADMIN): without it the test is skipped, saying so. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm_run.h"

#define DISK_SIZE	(64 << 20)	/* the guest writes at 1-9 and 10 MiB */

static struct vmm_result res;
static char dir[] = "/tmp/tinyvmm-fullfs-XXXXXX";
static char img[sizeof(dir) + 16];
static bool mounted;

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

static void unmount(void)
{
	if (mounted)
		umount2(dir, MNT_DETACH);
	rmdir(dir);
}

TestSuite(disk_faults, .init = need_kvm, .fini = unmount, .timeout = 180);

/* A 1 MiB tmpfs holding a sparse image, with no free block left. */
static void make_full_fs(void)
{
	static char block[64 * 1024];
	char filler[sizeof(dir) + 16];
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	if (mount("tinyvmm-test", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700"))
		cr_skip_test("cannot mount a tmpfs on %s (%s): this test needs root",
			     dir, strerror(errno));
	mounted = true;
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	fd = open(img, O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, DISK_SIZE), 0);
	close(fd);
	snprintf(filler, sizeof(filler), "%s/filler", dir);
	fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	cr_assert_eq(errno, ENOSPC, "filling the tmpfs: %s", strerror(errno));
	close(fd);
}

/* Lines of @text that contain @needle. */
static unsigned lines_with(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(disk_faults, full_file_system_gives_ioerr_and_the_vm_runs_on)
{
	struct stat st;

	make_full_fs();
	vmm_run((const char *const[]){ "--disk", img, BUNDLED_GUEST, NULL }, 150, &res);
	/* Exactly the two tests that write fail; status 2 -> exit (2 << 1) | 1. */
	cr_assert(tap_find(res.out, "blk-write-verify") && !tap_passed(res.out, "blk-write-verify"),
		  "blk-write-verify should fail:\n%s", res.out);
	cr_assert(strstr(res.out, "# write 8 MiB: status 1, expected 0"),
		  "the guest's write did not get IOERR:\n%s", res.out);
	cr_assert(tap_find(res.out, "blk-intx") && !tap_passed(res.out, "blk-intx"),
		  "blk-intx writes too, and should fail:\n%s", res.out);
	cr_assert_eq(lines_with(res.out, "\nnot ok "), 2, "other failures:\n%s", res.out);
	cr_assert_eq(res.code, (2 << 1) | 1, "exit code %d\nstdout:\n%s\nstderr:\n%s",
		     res.code, res.out, res.err);
	/* Requests after the failures were served. */
	cr_assert(tap_passed(res.out, "blk-flush"), "%s", res.out);
	cr_assert(tap_passed(res.out, "blk-get-id"), "%s", res.out);
	cr_assert(tap_passed(res.out, "blk-reset-inflight"), "%s", res.out);
	cr_assert_eq(lines_with(res.err, "write failed: No space left on device"), 1,
		     "logged once:\n%s", res.err);
	cr_assert_eq(lines_with(res.err, "tinyvmm: disk"), 1, "%s", res.err);
	cr_assert_eq(stat(img, &st), 0);
	cr_assert_eq(st.st_size, DISK_SIZE, "the image changed size");
}
