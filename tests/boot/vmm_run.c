#include "vmm_run.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

bool kvm_available(void)
{
	int fd = open("/dev/kvm", O_RDWR);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void read_text_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

static void slurp(const char *path, char *buf, size_t size)
{
	read_text_file(path, buf, size);
	unlink(path);
}

/* Whether the file at @path holds @marker yet. */
static bool file_has(const char *path, const char *marker)
{
	static char buf[65536];

	read_text_file(path, buf, sizeof(buf));
	return strstr(buf, marker) != NULL;
}

/* Waits for the child; kills it after @limit_s seconds, or with SIGKILL as
 * soon as its stdout (@out_path) shows @marker, when there is one. */
static int wait_with_limit(pid_t pid, int limit_s, const char *out_path,
			   const char *marker)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	int status;

	for (long waited_ms = 0;; waited_ms += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (marker && file_has(out_path, marker)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		if (waited_ms > limit_s * 1000L) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			/* Not cr_log_*: Criterion leaks each message, which
			 * LeakSanitizer then reports under make asan. */
			fprintf(stderr, "tinyvmm still running after %d s: killed\n", limit_s);
			break;
		}
		nanosleep(&nap, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void vmm_run(const char *const *argv, int limit_s, struct vmm_result *r)
{
	vmm_run_until(argv, limit_s, NULL, r);
}

void vmm_run_until(const char *const *argv, int limit_s, const char *marker,
		   struct vmm_result *r)
{
	char out_path[] = "/tmp/tinyvmm-out-XXXXXX", err_path[] = "/tmp/tinyvmm-err-XXXXXX";
	const char *vmm = getenv("TINYVMM") ? getenv("TINYVMM") : "./tinyvmm";
	char *args[64] = { (char *)vmm };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int n = 1;

	close(mkstemp(out_path));
	close(mkstemp(err_path));
	while (*argv && n < 63)
		args[n++] = (char *)*argv++;
	args[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	/* COM1 reads stdin with --serial stdio: never the tester's terminal. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_TRUNC, 0);
	posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_TRUNC, 0);
	cr_assert_eq(posix_spawn(&pid, vmm, &fa, NULL, args, environ), 0,
		     "cannot run %s", vmm);
	posix_spawn_file_actions_destroy(&fa);
	r->code = wait_with_limit(pid, limit_s, out_path, marker);
	slurp(out_path, r->out, sizeof(r->out));
	slurp(err_path, r->err, sizeof(r->err));
}

const char *tap_find(const char *out, const char *name)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " - %s", name);
	for (p = strstr(out, pat); p; p = strstr(p + 1, pat)) {
		char next = p[strlen(pat)];

		if (next == '\n' || next == ' ')
			return p;
	}
	return NULL;
}

bool tap_skipped(const char *out, const char *name)
{
	const char *p = tap_find(out, name);

	return p && !strncmp(p + 3 + strlen(name), " # SKIP", 7);
}

bool tap_passed(const char *out, const char *name)
{
	const char *p = tap_find(out, name), *line = p;

	if (!p || tap_skipped(out, name))
		return false;
	while (line > out && line[-1] != '\n')
		line--;
	return !strncmp(line, "ok ", 3);
}

uint64_t pattern_word(uint64_t off)
{
	return off % 4096 ? 0x7061747400000000ull | (off % 4096)
			  : 0x74766d6d00000000ull | (off / 4096);
}

void write_pattern(int fd)
{
	uint64_t block[512];

	for (uint64_t off = PATTERN_START; off < PATTERN_END; off += sizeof(block)) {
		for (unsigned i = 0; i < 512; i++)
			block[i] = pattern_word(off + 8 * i);
		cr_assert_eq(pwrite(fd, block, sizeof(block), (off_t)off), (ssize_t)sizeof(block));
	}
}

void write_module(int fd)
{
	uint64_t w[MODULE_WORDS];

	for (uint64_t i = 0; i < MODULE_WORDS; i++)
		w[i] = 0x6d6f645f00000000ull | i;
	cr_assert_eq(write(fd, w, sizeof(w)), (ssize_t)sizeof(w));
}
