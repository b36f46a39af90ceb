/* Runs a command once and prints "exit_code wall_ns peak_rss_kib" on fd 3
 * if it is open (else stdout), so the command's own output stays apart.
 *
 *   measure CMD [ARGS...]
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	long long start;
	int status;
	pid_t pid;
	FILE *out = fdopen(3, "w");

	if (argc < 2) {
		fprintf(stderr, "usage: measure CMD [ARGS...]\n");
		return 2;
	}
	start = now_ns();
	pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 2;
	fprintf(out ? out : stdout, "%d %lld %ld\n",
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		now_ns() - start, ru.ru_maxrss);
	return 0;
}
