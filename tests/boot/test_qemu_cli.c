/* Boot tests of the QEMU front end: a course-style harness
 * (tests/boot/qemu_harness.sh) runs tinyvmm under the name
 * qemu-system-x86_64 and grades the bundled guest, with the same output,
 * status and skipped tests as real QEMU gives (that half when QEMU is
 * installed), without a disk, and with a virtio-blk-pci disk (writable,
 * with a multiboot module and a fw_cfg file; read-only); exit
 * statuses on reset, with and without -no-reboot; -pidfile. */
#define _GNU_SOURCE	/* strchrnul, memmem */
#include <criterion/criterion.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm_run.h"

#define APPEND		"two  spaces, 'quoted words' "
#define HARNESS_LIMIT	240
#define DISK_BYTES	(16 << 20)	/* the blk tests' pattern needs 9 MiB */
#define DISK_SERIAL	"harness-disk"
#define OTHER_LOADER	"the loader is not tinyvmm's"

static char bin_dir[] = "/tmp/tinyvmm-qemu-XXXXXX";
static char pidfile[PATH_MAX];
static struct vmm_result res;

/* A folder holding qemu-system-x86_64 -> the tinyvmm under test, as
 * build/qemu/ does for `make`'s ./tinyvmm. */
static void setup(void)
{
	char vmm[PATH_MAX], link[PATH_MAX + 32];
	const char *env = getenv("TINYVMM") ? getenv("TINYVMM") : "./tinyvmm";

	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
	cr_assert(realpath(env, vmm), "no %s", env);
	cr_assert(mkdtemp(bin_dir));
	snprintf(link, sizeof(link), "%s/qemu-system-x86_64", bin_dir);
	cr_assert_eq(symlink(vmm, link), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/pid", bin_dir);
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (strcmp(bin_dir + strlen(bin_dir) - 6, "XXXXXX")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", bin_dir);
		cr_assert_eq(system(cmd), 0);
	}
}

TestSuite(qemu_cli, .init = setup, .fini = cleanup, .timeout = 2 * HARNESS_LIMIT + 60);

struct harness_run {
	char out[16384];	/* the harness's grading */
	char log[65536];	/* the guest's serial output */
	int status;		/* the harness's */
};

static void slurp(FILE *f, char *buf, size_t size)
{
	size_t n = fread(buf, 1, size - 1, f);

	buf[n] = 0;
}

/* What the machine of a harness run has besides the guest. */
enum harness_machine {
	NO_DISK,
	/* a zeroed writable disk, a multiboot module with the guest's
	 * pattern, a fw_cfg user file */
	DISK_MODULE_FILE,
	READ_ONLY_DISK,		/* holding the pattern blk-readonly checks */
};

/* Fresh files for one run of @m, as QEMU_EXTRA's options and INITRD's
 * value (empty if none). */
static void harness_files(enum harness_machine m, char *extra, size_t extra_size,
			  char *initrd, size_t initrd_size)
{
	char img[PATH_MAX + 16], mod[PATH_MAX + 16];
	FILE *f;

	extra[0] = initrd[0] = 0;
	if (m == NO_DISK)
		return;
	snprintf(img, sizeof(img), "%s/disk.img", bin_dir);
	f = fopen(img, "w");
	cr_assert(f && ftruncate(fileno(f), DISK_BYTES) == 0, "%s", img);
	if (m == READ_ONLY_DISK)
		write_pattern(fileno(f));
	fclose(f);
	snprintf(extra, extra_size, "-drive file=%s,if=none,id=d0,format=raw%s "
		 "-device virtio-blk-pci,drive=d0,serial=" DISK_SERIAL "%s", img,
		 m == READ_ONLY_DISK ? ",readonly=on" : "",
		 m == DISK_MODULE_FILE ? " -fw_cfg name=opt/tinyvmm/test,string=hello" : "");
	if (m != DISK_MODULE_FILE)
		return;
	snprintf(mod, sizeof(mod), "%s/module", bin_dir);
	f = fopen(mod, "w");
	cr_assert(f, "%s", mod);
	write_module(fileno(f));
	fclose(f);
	snprintf(initrd, initrd_size, "%s pattern", mod);
}

/* The harness with @path_dir first on PATH (NULL: PATH as it is) on the
 * machine @m. */
static void run_harness(const char *path_dir, enum harness_machine m, struct harness_run *h)
{
	char cmd[8 * PATH_MAX], log[PATH_MAX + 8], extra[3 * PATH_MAX], initrd[PATH_MAX + 32];
	FILE *p, *f;
	int st;

	harness_files(m, extra, sizeof(extra), initrd, sizeof(initrd));
	snprintf(log, sizeof(log), "%s/log", bin_dir);
	snprintf(cmd, sizeof(cmd), "%s%s%s LOG=%s TIMEOUT=%d QEMU_EXTRA='%s' INITRD='%s' "
		 "tests/boot/qemu_harness.sh " BUNDLED_GUEST " \"" APPEND "\"",
		 path_dir ? "PATH=" : "", path_dir ? path_dir : "", path_dir ? ":$PATH" : "",
		 log, HARNESS_LIMIT, extra, initrd);
	p = popen(cmd, "r");
	cr_assert(p);
	slurp(p, h->out, sizeof(h->out));
	st = pclose(p);
	h->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	f = fopen(log, "r");
	cr_assert(f);
	slurp(f, h->log, sizeof(h->log));
	fclose(f);
}

static bool have_qemu(void)
{
	return system("command -v qemu-system-x86_64 >/dev/null 2>&1") == 0;
}

/* The serial log's TAP SKIP lines, one after another, into @buf: the
 * harness grades a SKIP as OK, so which tests skipped is compared apart.
 * Left out: the test that checks tinyvmm's own ROM and skips, by design,
 * under any other loader. */
static void skip_lines(const char *log, char *buf, size_t size)
{
	const char *l, *end;
	size_t n = 0;

	buf[0] = 0;
	for (l = log; *l; l = *end ? end + 1 : end) {
		end = strchrnul(l, '\n');
		if (memmem(l, (size_t)(end - l), "# SKIP", 6) &&
		    !memmem(l, (size_t)(end - l), OTHER_LOADER, strlen(OTHER_LOADER)) &&
		    n + (size_t)(end - l) + 2 < size)
			n += (size_t)snprintf(buf + n, size - n, "%.*s\n", (int)(end - l), l);
	}
}

static struct harness_run tiny, qemu;

/* What the guest printed of the module and the fw_cfg file, when the
 * machine @m has them. */
static void assert_module_and_file(enum harness_machine m, const char *log)
{
	char line[64];

	if (m != DISK_MODULE_FILE)
		return;
	snprintf(line, sizeof(line), "# module 0: pattern ok (%u words)\n", MODULE_WORDS);
	cr_assert(strstr(log, line), "%s", log);
	cr_assert(strstr(log, "# opt/tinyvmm/test: 'hello'\n"), "%s", log);
}

/* The harness under tinyvmm passes; under QEMU (if installed) it grades
 * every test the same and skips the same tests. */
static void harness_as_with_qemu(enum harness_machine m)
{
	static char tiny_skips[4096], qemu_skips[4096];
	bool disk = m != NO_DISK;

	run_harness(bin_dir, m, &tiny);
	cr_assert_eq(tiny.status, 0, "harness under tinyvmm:\n%s\nserial:\n%s", tiny.out, tiny.log);
	cr_assert(strstr(tiny.out, "exit status 1, "), "%s", tiny.out);
	cr_assert(strstr(tiny.log, "# command line: " BUNDLED_GUEST " " APPEND "\n"),
		  "-append as written, after the path:\n%s", tiny.log);
	cr_assert_eq(!tap_skipped(tiny.log, "blk-features"), disk, "%s", tiny.log);
	cr_assert_eq(tap_skipped(tiny.log, "blk-write-verify"), m != DISK_MODULE_FILE,
		     "%s", tiny.log);
	cr_assert(!disk || strstr(tiny.log, "# serial: " DISK_SERIAL "\n"), "%s", tiny.log);
	assert_module_and_file(m, tiny.log);
	if (!have_qemu()) {
		/* stderr, not cr_log_warn (Criterion leaks it: see vmm_run.c) */
		fprintf(stderr, "qemu-system-x86_64 is not installed: the comparison "
			"with QEMU is skipped\n");
		return;
	}
	/* QEMU is the reference, not the unit under test: its -M pc runs the
	 * guest's timing tests slower, under the parallel boot tests' load, so
	 * one differing grade gets a second QEMU run; a real difference stays. */
	run_harness(NULL, m, &qemu);
	if (strcmp(tiny.out, qemu.out)) {
		fprintf(stderr, "QEMU graded differently, run again. QEMU's grading:\n%s\n"
			"its serial output:\n%s\n", qemu.out, qemu.log);
		run_harness(NULL, m, &qemu);
	}
	cr_assert_str_eq(tiny.out, qemu.out, "tinyvmm and QEMU graded differently:\n%s\n"
			 "QEMU's serial output:\n%s", qemu.out, qemu.log);
	cr_assert_eq(tiny.status, qemu.status);
	cr_assert(strstr(qemu.log, "# command line: " BUNDLED_GUEST " " APPEND "\n"), "%s", qemu.log);
	cr_assert(!disk || strstr(qemu.log, "# serial: " DISK_SERIAL "\n"), "%s", qemu.log);
	assert_module_and_file(m, qemu.log);
	skip_lines(tiny.log, tiny_skips, sizeof(tiny_skips));
	skip_lines(qemu.log, qemu_skips, sizeof(qemu_skips));
	cr_assert_str_eq(tiny_skips, qemu_skips, "tinyvmm skipped:\n%s\nQEMU skipped:\n%s",
			 tiny_skips, qemu_skips);
}

Test(qemu_cli, the_harness_passes_as_with_qemu)
{
	harness_as_with_qemu(NO_DISK);
}

/* virtio-blk-pci, -initrd and -fw_cfg on both: every blk-* test runs on
 * each side, the module and the user file are checked. */
Test(qemu_cli, with_a_disk_a_module_and_a_file_the_harness_passes_as_with_qemu)
{
	harness_as_with_qemu(DISK_MODULE_FILE);
}

Test(qemu_cli, with_a_read_only_disk_the_harness_passes_as_with_qemu)
{
	harness_as_with_qemu(READ_ONLY_DISK);
}

static void run_qemu_cli(const char *const *args)
{
	const char *argv[16] = { "--qemu" };
	int n = 1;

	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	vmm_run(argv, 60, &res);
}

Test(qemu_cli, a_reset_with_no_reboot_is_status_0)
{
	run_qemu_cli((const char *const[]){ "-kernel", TEST_GUEST("reset_cf9_mb.elf"),
		"-display", "none", "-no-reboot", NULL });
	cr_assert_eq(res.code, 0, "stderr:\n%s", res.err);
}

/* QEMU resets on a triple fault too: with -no-reboot, status 0. */
Test(qemu_cli, a_triple_fault_is_a_reset)
{
	run_qemu_cli((const char *const[]){ "-kernel", TEST_GUEST("triple64.elf"),
		"-display", "none", "-no-reboot", NULL });
	cr_assert_eq(res.code, 0, "stderr:\n%s", res.err);
	cr_assert(strstr(res.err, "triple fault: the machine resets"), "%s", res.err);
}

/* Without -no-reboot the guest boots again: this one resets every time,
 * so it is stopped after a few boots. */
Test(qemu_cli, a_reset_without_no_reboot_boots_again)
{
	const char *p;
	int resets = 0;

	vmm_run((const char *const[]){ "--qemu", "-kernel", TEST_GUEST("reset_cf9_mb.elf"),
		"-display", "none", NULL }, 3, &res);
	for (p = res.err; (p = strstr(p, "reset the machine")); p++)
		resets++;
	cr_assert_geq(resets, 2, "stderr:\n%s", res.err);
	cr_assert_eq(res.code, 128 + SIGKILL, "still running: %d", res.code);
}

Test(qemu_cli, the_exit_port_only_where_asked)
{
	/* reset_none writes 0 to port 0xf4 and then, still running, 1. */
	run_qemu_cli((const char *const[]){ "-kernel", TEST_GUEST("reset_none_mb.elf"),
		"-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", NULL });
	cr_assert_eq(res.code, 1, "stderr:\n%s", res.err);
	run_qemu_cli((const char *const[]){ "-kernel", TEST_GUEST("reset_none_mb.elf"),
		"-display", "none", "-device", "isa-debug-exit", NULL });
	/* QEMU's default port is 0x501: both writes miss, the guest halts with
	 * interrupts off (QEMU would hang there; tinyvmm ends it as an error). */
	cr_assert_eq(res.code, 1);
	cr_assert(strstr(res.err, "deadlock"), "stderr:\n%s", res.err);
}

Test(qemu_cli, errors_are_status_1)
{
	run_qemu_cli((const char *const[]){ "-kernel", "/nonexistent.elf", "-display", "none",
		NULL });
	cr_assert_eq(res.code, 1);
	cr_assert(strstr(res.err, "nonexistent"), "%s", res.err);
	run_qemu_cli((const char *const[]){ "-kernel", BUNDLED_GUEST, "-S", NULL });
	cr_assert_eq(res.code, 1);
	cr_assert_str_eq(res.err, "tinyvmm: -S: tinyvmm has no monitor to continue from; "
			 "use it with -s or -gdb\n");
}

Test(qemu_cli, pidfile_is_written_and_removed)
{
	pid_t pid = fork();
	char buf[32] = "";
	FILE *f = NULL;

	cr_assert_geq(pid, 0);
	if (!pid) {
		const char *vmm = getenv("TINYVMM") ? getenv("TINYVMM") : "./tinyvmm";

		execl(vmm, vmm, "--qemu", "-kernel", TEST_GUEST("spin64.elf"), "-display",
		      "none", "-pidfile", pidfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000 && !(f = fopen(pidfile, "r")); i++)
		usleep(10000);
	cr_assert(f, "no pid file");
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(atoi(buf), pid);
	unlink(pidfile);
	run_qemu_cli((const char *const[]){ "-kernel", TEST_GUEST("reset_none_mb.elf"),
		"-display", "none", "-device", "isa-debug-exit,iobase=0xf4", "-pidfile",
		pidfile, NULL });
	cr_assert_eq(res.code, 1, "%s", res.err);
	cr_assert_neq(access(pidfile, F_OK), 0, "removed at exit");
}
