/* Boot tests: SIGTERM, SIGINT and SIGHUP in the middle of disk I/O stop
 * the VM in order with VMM_EXIT_SIGNAL; a second SIGINT exits at once; a
 * closed output pipe does not kill tinyvmm; a raw terminal is restored on
 * the exits that skip the teardown (vmm/signals.h); the seccomp sandbox
 * (vmm/sandbox.h). */
#define _GNU_SOURCE	/* POSIX_SPAWN_SETSID, ptsname_r */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/exit_codes.h"
#include "vmm_run.h"

#define DISK_SIZE	(64u << 20)
/* blk-bench's write phases follow this line (guest/README.md). */
#define WRITES_NEXT	"# bench seq-read-1m-qd8"

extern char **environ;

struct child {
	pid_t pid;
	char out[32], err[32];		/* the files its stdout and stderr go to */
};

static char disk[] = "/tmp/tinyvmm-sig-disk-XXXXXX";
static char fifo[] = "/tmp/tinyvmm-sig-fifo-XXXXXX";

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

static void cleanup(void)
{
	unlink(disk);
	unlink(fifo);
}

TestSuite(signals, .init = need_kvm, .fini = cleanup, .timeout = 120);

/* tinyvmm with @argv; stdout to @out_fd when >= 0, else to a file; stdin
 * from @tty in a session of its own (its controlling terminal), else
 * /dev/null. */
static void spawn_on(struct child *c, const char *const *argv, int out_fd,
		     const char *tty)
{
	const char *vmm = getenv("TINYVMM") ? getenv("TINYVMM") : "./tinyvmm";
	char *args[32] = { (char *)vmm };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int n = 1;

	strcpy(c->out, "/tmp/tinyvmm-sig-out-XXXXXX");
	strcpy(c->err, "/tmp/tinyvmm-sig-err-XXXXXX");
	close(mkstemp(c->out));
	close(mkstemp(c->err));
	while (*argv && n < 31)
		args[n++] = (char *)*argv++;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, tty ? POSIX_SPAWN_SETSID : 0);
	posix_spawn_file_actions_addopen(&fa, 0, tty ? tty : "/dev/null", O_RDWR, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, c->out, O_WRONLY | O_TRUNC, 0);
	posix_spawn_file_actions_addopen(&fa, 2, c->err, O_WRONLY | O_TRUNC, 0);
	cr_assert_eq(posix_spawn(&c->pid, vmm, &fa, &attr, args, environ), 0,
		     "cannot run %s", vmm);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
}

static void spawn(struct child *c, const char *const *argv, int out_fd)
{
	spawn_on(c, argv, out_fd, NULL);
}

static void nap_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&t, NULL);
}

/* Whether @path shows @text within @limit_s seconds, while @pid runs. */
static bool wait_for_text(pid_t pid, const char *path, const char *text, int limit_s)
{
	static char buf[65536];

	for (long ms = 0; ms < limit_s * 1000L; ms += 10) {
		read_text_file(path, buf, sizeof(buf));
		if (strstr(buf, text))
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		nap_ms(10);
	}
	return false;
}

/* The exit code (128+N if killed by signal N); SIGKILL after @limit_s. */
static int wait_exit(pid_t pid, int limit_s)
{
	int status = 0;

	for (long ms = 0; waitpid(pid, &status, WNOHANG) != pid; ms += 10) {
		if (ms > limit_s * 1000L) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		nap_ms(10);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Whether @pid's main thread blocks @sig within @limit_s seconds: from
 * then on the signal goes to tinyvmm's signal thread. */
static bool wait_blocked(pid_t pid, int sig, int limit_s)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (long ms = 0; ms < limit_s * 1000L; ms += 10) {
		read_text_file(path, buf, sizeof(buf));
		p = strstr(buf, "SigBlk:");
		if (p && strtoull(p + 7, NULL, 16) & 1ull << (sig - 1))
			return true;
		nap_ms(10);
	}
	return false;
}

static void finish(struct child *c, char *err, size_t size)
{
	read_text_file(c->err, err, size);
	unlink(c->out);
	unlink(c->err);
}

/* Whether writes have allocated blocks in the (sparse) image within
 * @limit_s seconds, while @pid runs. */
static bool wait_for_blocks(pid_t pid, int limit_s)
{
	struct stat st;

	for (long ms = 0; ms < limit_s * 1000L; ms += 10) {
		if (!stat(disk, &st) && st.st_blocks > 0)
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		nap_ms(10);
	}
	return false;
}

static void make_disk(void)
{
	int fd;

	strcpy(disk, "/tmp/tinyvmm-sig-disk-XXXXXX");
	fd = mkstemp(disk);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, DISK_SIZE), 0);
	close(fd);
}

/* @sig while the bundled guest's benchmark writes to its disk: the stats
 * that machine_run prints after joining every vCPU show the orderly path,
 * and the image is still the image. */
static void stop_during_writes(int sig)
{
	char arg[sizeof(disk) + 8], err[65536];
	struct child c;
	struct stat st;
	int code;

	make_disk();
	snprintf(arg, sizeof(arg), "%s", disk);
	spawn(&c, (const char *const[]){ "--stats", "--disk", arg, BUNDLED_GUEST,
					  "--", "blk-bench", NULL }, -1);
	cr_assert(wait_for_text(c.pid, c.out, WRITES_NEXT, 60),
		  "the benchmark never reached its write phases");
	cr_assert(wait_for_blocks(c.pid, 20), "no write reached the image");
	kill(c.pid, sig);
	code = wait_exit(c.pid, 20);
	finish(&c, err, sizeof(err));
	cr_assert_eq(code, VMM_EXIT_SIGNAL, "exit code %d after signal %d; stderr:\n%s",
		     code, sig, err);
	cr_assert(strstr(err, "stopping the VM"), "stderr:\n%s", err);
	cr_assert(strstr(err, "--- tinyvmm stats ---"), "no orderly stop:\n%s", err);
	cr_assert(strstr(err, " writes ("), "no virtio-blk stats:\n%s", err);
	cr_assert_not(strstr(err, ", 0 writes ("), "no write was made:\n%s", err);
	cr_assert_eq(stat(disk, &st), 0);
	cr_assert_eq(st.st_size, DISK_SIZE);
}

Test(signals, sigterm_during_disk_writes)
{
	stop_during_writes(SIGTERM);
}

Test(signals, sigint_during_disk_writes)
{
	stop_during_writes(SIGINT);
}

Test(signals, sighup_during_disk_writes)
{
	stop_during_writes(SIGHUP);
}

/* A FIFO nobody reads, as COM2's output: set-up hangs in open(2). */
static void make_fifo(void)
{
	strcpy(fifo, "/tmp/tinyvmm-sig-fifo-XXXXXX");
	close(mkstemp(fifo));
	unlink(fifo);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
}

/* A new pseudo-terminal: the master's fd, the slave's path in @slave. */
/* A FIFO nobody reads holds tinyvmm in open(2) while it sets up: the first
 * SIGINT cannot stop it in order, the second ends it at once. */
Test(signals, second_sigint_exits_at_once)
{
	char err[65536];
	struct child c;
	int code;

	make_fifo();
	spawn(&c, (const char *const[]){ "--serial", fifo,
					  TEST_GUEST("hello64.elf"), NULL }, -1);
	cr_assert(wait_blocked(c.pid, SIGINT, 20), "SIGINT never blocked");
	kill(c.pid, SIGINT);
	cr_assert(wait_for_text(c.pid, c.err, "stopping the VM", 20), "no first stop");
	kill(c.pid, SIGINT);
	code = wait_exit(c.pid, 20);
	finish(&c, err, sizeof(err));
	cr_assert_eq(code, VMM_EXIT_SIGNAL, "exit code %d; stderr:\n%s", code, err);
	cr_assert(strstr(err, "SIGINT again: exiting at once"), "stderr:\n%s", err);
}

static int open_pty(char *slave, size_t size)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);

	cr_assert_geq(m, 0);
	cr_assert(!grantpt(m) && !unlockpt(m) && !ptsname_r(m, slave, size));
	return m;
}

/* Whether the terminal behind @master leaves canonical mode (COM1 made it
 * raw) within @limit_s seconds. */
static bool wait_raw(int master, int limit_s)
{
	struct termios t;

	for (long ms = 0; ms < limit_s * 1000L; ms += 10) {
		if (!tcgetattr(master, &t) && !(t.c_lflag & ICANON))
			return true;
		nap_ms(10);
	}
	return false;
}

static void assert_same_termios(const struct termios *a, const struct termios *b)
{
	cr_assert_eq(a->c_lflag, b->c_lflag, "c_lflag %#x, was %#x",
		     (unsigned)b->c_lflag, (unsigned)a->c_lflag);
	cr_assert_eq(a->c_iflag, b->c_iflag, "c_iflag %#x, was %#x",
		     (unsigned)b->c_iflag, (unsigned)a->c_iflag);
	cr_assert_eq(a->c_cc[VMIN], b->c_cc[VMIN]);
}

/* COM1 reads a terminal (raw), COM2 writes a FIFO nobody reads: the
 * forced exit skips the teardown that restores the terminal, so
 * signals.c does. */
Test(signals, second_sigint_restores_a_raw_terminal)
{
	char slave[64], com2[sizeof(fifo) + 48], err[65536];
	struct termios before, after;
	struct child c;
	int m = open_pty(slave, sizeof(slave)), code;

	make_fifo();
	snprintf(com2, sizeof(com2), "isa-serial,iobase=0x2f8,irq=3,path=%s", fifo);
	cr_assert_eq(tcgetattr(m, &before), 0);
	spawn_on(&c, (const char *const[]){ "-device", com2,
					     TEST_GUEST("hello64.elf"), NULL }, -1, slave);
	cr_assert(wait_raw(m, 20), "the terminal never became raw");
	kill(c.pid, SIGINT);
	cr_assert(wait_for_text(c.pid, c.err, "stopping the VM", 20), "no first stop");
	kill(c.pid, SIGINT);
	code = wait_exit(c.pid, 20);
	finish(&c, err, sizeof(err));
	cr_assert_eq(tcgetattr(m, &after), 0);
	close(m);
	cr_assert_eq(code, VMM_EXIT_SIGNAL, "exit code %d; stderr:\n%s", code, err);
	assert_same_termios(&before, &after);
}

/* The guest writes a line to a pipe nobody reads: without SIGPIPE ignored
 * tinyvmm would die of it (128+13) instead of passing the guest's code;
 * the output is dropped, said once. */
Test(signals, closed_output_pipe_does_not_kill)
{
	char err[65536];
	struct child c;
	int p[2], code;

	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	spawn(&c, (const char *const[]){ TEST_GUEST("hello64.elf"), NULL }, p[1]);
	close(p[1]);
	code = wait_exit(c.pid, 20);
	finish(&c, err, sizeof(err));
	cr_assert_eq(code, (42 << 1) | 1, "exit code %d; stderr:\n%s", code, err);
	/* The failed write is said, once. */
	const char *said = strstr(err, "tinyvmm: serial output: Broken pipe; output dropped");

	cr_assert(said, "stderr:\n%s", err);
	cr_assert_null(strstr(said + 24, "serial output:"), "said twice:\n%s", err);
}

/* ---- The sandbox (vmm/sandbox.h) ---- */

TestSuite(sandbox, .init = need_kvm, .fini = cleanup, .timeout = 120);

static int run_selftest(const char *const *argv, const char *tty, char *err,
			size_t size)
{
	struct child c;
	int code;

	setenv("TINYVMM_SANDBOX_SELFTEST", "1", 1);
	spawn_on(&c, argv, -1, tty);
	unsetenv("TINYVMM_SANDBOX_SELFTEST");
	code = wait_exit(c.pid, 20);
	finish(&c, err, size);
	if (strstr(err, "no sandbox in a sanitizer build"))
		cr_skip_test("a sanitizer build has no sandbox");
	return code;
}

static void skip_without_sandbox(void)
{
	char err[65536];

	run_selftest((const char *const[]){ TEST_GUEST("hello64.elf"), NULL }, NULL,
		     err, sizeof(err));
}

Test(sandbox, a_forbidden_call_is_stopped_and_named)
{
	char err[65536];
	int code = run_selftest((const char *const[]){ TEST_GUEST("hello64.elf"), NULL },
				NULL, err, sizeof(err));

	cr_assert_eq(code, VMM_EXIT_SANDBOX, "exit code %d; stderr:\n%s", code, err);
	cr_assert(strstr(err, "tinyvmm: sandbox: the main thread made a forbidden "
			 "system call: socket ("), "stderr:\n%s", err);
	cr_assert_not(strstr(err, "was not stopped"), "stderr:\n%s", err);
}

Test(sandbox, no_sandbox_turns_it_off)
{
	char err[65536];
	int code = run_selftest((const char *const[]){ "--no-sandbox",
				TEST_GUEST("hello64.elf"), NULL }, NULL, err, sizeof(err));

	cr_assert_eq(code, (42 << 1) | 1, "exit code %d; stderr:\n%s", code, err);
	cr_assert_not(strstr(err, "sandbox"), "stderr:\n%s", err);
}

/* COM1 made the terminal raw; the SIGSYS handler's _exit skips the
 * teardown that would restore it. */
Test(sandbox, a_violation_restores_a_raw_terminal)
{
	char slave[64], err[65536];
	struct termios before, after;
	int m = open_pty(slave, sizeof(slave)), code;

	cr_assert_eq(tcgetattr(m, &before), 0);
	code = run_selftest((const char *const[]){ TEST_GUEST("hello64.elf"), NULL },
			    slave, err, sizeof(err));
	cr_assert_eq(tcgetattr(m, &after), 0);
	close(m);
	cr_assert_eq(code, VMM_EXIT_SANDBOX, "exit code %d; stderr:\n%s", code, err);
	assert_same_termios(&before, &after);
}

/* The seccomp mode of each of @pid's threads ("Seccomp:" in its status):
 * how many there are, and how many run under a filter (mode 2). */
static void count_filtered(pid_t pid, unsigned *threads, unsigned *filtered)
{
	char path[320], buf[4096], *p;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	cr_assert(dir);
	*threads = *filtered = 0;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, d->d_name);
		read_text_file(path, buf, sizeof(buf));
		p = strstr(buf, "Seccomp:");
		cr_assert(p, "no Seccomp: line in %s", path);
		(*threads)++;
		*filtered += strtoul(p + 8, NULL, 10) == 2;
	}
	closedir(dir);
}

/* Main, vCPU, virtio-blk I/O, GDB stub, signal and (with the LAPIC timer
 * ticking) timer threads, in the middle of the benchmark's disk writes;
 * @opt: --no-sandbox or a harmless --stats. */
static void threads_while_writing(const char *opt, unsigned *threads,
				  unsigned *filtered)
{
	char sock[64], gdb_arg[80], err[65536];
	struct child c;
	int code;

	make_disk();
	snprintf(sock, sizeof(sock), "/tmp/tinyvmm-sig-gdb-%d.sock", (int)getpid());
	snprintf(gdb_arg, sizeof(gdb_arg), "unix:%s", sock);
	spawn(&c, (const char *const[]){ opt, "--gdb", gdb_arg, "--disk", disk,
					  BUNDLED_GUEST, "--", "blk-bench", NULL }, -1);
	cr_assert(wait_for_text(c.pid, c.out, WRITES_NEXT, 60),
		  "the benchmark never reached its write phases");
	count_filtered(c.pid, threads, filtered);
	kill(c.pid, SIGTERM);
	code = wait_exit(c.pid, 20);
	finish(&c, err, sizeof(err));
	unlink(sock);
	cr_assert_eq(code, VMM_EXIT_SIGNAL, "exit code %d; stderr:\n%s", code, err);
}

Test(sandbox, every_thread_runs_under_a_filter)
{
	unsigned threads, filtered;

	skip_without_sandbox();
	threads_while_writing("--stats", &threads, &filtered);
	cr_assert_geq(threads, 5, "only %u threads", threads);
	cr_assert_eq(filtered, threads, "%u of %u threads filtered", filtered, threads);
}

Test(sandbox, no_thread_is_filtered_with_no_sandbox)
{
	unsigned threads, filtered;

	threads_while_writing("--no-sandbox", &threads, &filtered);
	cr_assert_geq(threads, 5, "only %u threads", threads);
	cr_assert_eq(filtered, 0, "%u of %u threads filtered", filtered, threads);
}
