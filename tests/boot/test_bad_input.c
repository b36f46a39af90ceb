/* Bad user input: one clear line on stderr and the documented exit code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm_run.h"

#define RUN(r, ...) vmm_run((const char *const[]){ __VA_ARGS__, NULL }, 60, (r))

static struct vmm_result res;

static void expect_one_line(int code, const char *part)
{
	const char *nl = strchr(res.err, '\n');

	cr_assert_eq(res.code, code, "exit %d, wanted %d; stderr: %s", res.code, code, res.err);
	cr_assert(strstr(res.err, part), "stderr lacks '%s': %s", part, res.err);
	cr_assert(nl && nl[1] == '\0', "not one line: '%s'", res.err);
	cr_assert(!strncmp(res.err, "tinyvmm: ", 9), "%s", res.err);
}

/* The files write_tmp made, removed when the test ends. */
static char tmp_paths[16][64];
static unsigned ntmp;

static void remove_tmp(void)
{
	while (ntmp)
		unlink(tmp_paths[--ntmp]);
}

static char *write_tmp(const void *data, size_t len)
{
	char *path = tmp_paths[ntmp];
	FILE *f;

	cr_assert_lt(ntmp, 16u);
	ntmp++;
	strcpy(path, "/tmp/tinyvmm-bad-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
	return path;
}

TestSuite(bad_input, .fini = remove_tmp);

Test(bad_input, usage_errors)
{
	RUN(&res, "--bogus", TEST_GUEST("hello64.elf"));
	expect_one_line(2, "unknown option");
	RUN(&res, "-m", "0", TEST_GUEST("hello64.elf"));
	expect_one_line(2, "--mem");
	RUN(&res, "-m", "1T", TEST_GUEST("hello64.elf"));
	expect_one_line(2, "--mem");
	RUN(&res, "-c", "0", TEST_GUEST("hello64.elf"));
	expect_one_line(2, "--cpus");
	RUN(&res, "-c", "10000", TEST_GUEST("hello64.elf"));
	expect_one_line(2, "--cpus");
	RUN(&res, "--timeout", "soon", TEST_GUEST("hello64.elf"));
	expect_one_line(2, "--timeout");
	RUN(&res, "-m", "64M");
	expect_one_line(2, "no guest file");
}

Test(bad_input, bad_guest_files)
{
	RUN(&res, "/nonexistent/guest.elf");
	expect_one_line(4, "cannot open");
	RUN(&res, "/tmp");
	expect_one_line(4, "not a regular file");
	RUN(&res, write_tmp("", 0));
	expect_one_line(4, "is empty");
	RUN(&res, write_tmp("just text\n", 10));
	expect_one_line(4, "not an ELF file");
	RUN(&res, write_tmp("\177ELF\2\1\1", 7));
	expect_one_line(4, "truncated or corrupt");
	unlink(write_tmp("", 0));
}

Test(bad_input, guest_too_big_for_ram)
{
	/* hello64 links at 4 MiB: 2 MiB of RAM cannot hold it. */
	RUN(&res, "-m", "2M", TEST_GUEST("hello64.elf"));
	expect_one_line(4, "outside guest RAM");
}

Test(bad_input, unknown_device)
{
	RUN(&res, "-device", "frobnicator", TEST_GUEST("hello64.elf"));
	expect_one_line(4, "unknown device 'frobnicator'");
	RUN(&res, "-device", "isa-serial,iobase=0x10000", TEST_GUEST("hello64.elf"));
	expect_one_line(4, "iobase");
}

Test(bad_input, info_requests)
{
	RUN(&res, "--help");
	cr_assert_eq(res.code, 0);
	cr_assert(strstr(res.out, "Exit codes"), "%s", res.out);
	RUN(&res, "--version");
	cr_assert_eq(res.code, 0);
	cr_assert(strstr(res.out, "tinyvmm "), "%s", res.out);
	RUN(&res, "-device", "help");
	cr_assert_eq(res.code, 0);
	cr_assert(strstr(res.out, "isa-serial"), "%s", res.out);
	cr_assert(strstr(res.out, "isa-debug-exit"), "%s", res.out);
}
