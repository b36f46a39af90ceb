/* Boot tests of the QEMU front end: a course-style harness
 * (tests/boot/qemu_harness.sh) runs tinyvmm under the name
 * qemu-system-x86_64 and grades the bundled guest, with the same output and
 * status as real QEMU gives (that half when QEMU is installed); exit
 * statuses on reset, with and without -no-reboot; -pidfile. */
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

/* The harness with @path_dir first on PATH (NULL: PATH as it is). */
static void run_harness(const char *path_dir, struct harness_run *h)
{
	char cmd[4 * PATH_MAX], log[PATH_MAX + 8];
	FILE *p, *f;
	int st;

	snprintf(log, sizeof(log), "%s/log", bin_dir);
	snprintf(cmd, sizeof(cmd), "%s%s%s LOG=%s TIMEOUT=%d tests/boot/qemu_harness.sh "
		 BUNDLED_GUEST " \"" APPEND "\"", path_dir ? "PATH=" : "",
		 path_dir ? path_dir : "", path_dir ? ":$PATH" : "", log, HARNESS_LIMIT);
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

static struct harness_run tiny, qemu;

Test(qemu_cli, the_harness_passes_as_with_qemu)
{
	run_harness(bin_dir, &tiny);
	cr_assert_eq(tiny.status, 0, "harness under tinyvmm:\n%s\nserial:\n%s", tiny.out, tiny.log);
	cr_assert(strstr(tiny.out, "exit status 1, "), "%s", tiny.out);
	cr_assert(strstr(tiny.log, "# command line: " BUNDLED_GUEST " " APPEND "\n"),
		  "-append as written, after the path:\n%s", tiny.log);
	if (!have_qemu()) {
		/* stderr, not cr_log_warn (Criterion leaks it: see vmm_run.c) */
		fprintf(stderr, "qemu-system-x86_64 is not installed: the comparison "
			"with QEMU is skipped\n");
		return;
	}
	/* QEMU is the reference, not the unit under test: its -M pc runs the
	 * guest's timing tests slower, under the parallel boot tests' load, so
	 * one differing grade gets a second QEMU run; a real difference stays. */
	run_harness(NULL, &qemu);
	if (strcmp(tiny.out, qemu.out)) {
		fprintf(stderr, "QEMU graded differently, run again. QEMU's grading:\n%s\n"
			"its serial output:\n%s\n", qemu.out, qemu.log);
		run_harness(NULL, &qemu);
	}
	cr_assert_str_eq(tiny.out, qemu.out, "tinyvmm and QEMU graded differently:\n%s\n"
			 "QEMU's serial output:\n%s", qemu.out, qemu.log);
	cr_assert_eq(tiny.status, qemu.status);
	cr_assert(strstr(qemu.log, "# command line: " BUNDLED_GUEST " " APPEND "\n"), "%s", qemu.log);
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
