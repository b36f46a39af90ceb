/* Boot tests: ./tinyvmm on real guests, asserting exit codes and output.
 * They need /dev/kvm and skip, saying so, where it is absent. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm_run.h"

#define RUN(r, ...) vmm_run((const char *const[]){ __VA_ARGS__, NULL }, 120, (r))

static struct vmm_result res;

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

TestSuite(boot, .init = need_kvm, .timeout = 180);

static void expect(const struct vmm_result *r, int code, const char *out_part,
		   const char *err_part)
{
	cr_assert_eq(r->code, code, "exit code %d, wanted %d\nstdout:\n%s\nstderr:\n%s",
		     r->code, code, r->out, r->err);
	if (out_part)
		cr_assert(strstr(r->out, out_part), "stdout lacks '%s':\n%s", out_part, r->out);
	if (err_part)
		cr_assert(strstr(r->err, err_part), "stderr lacks '%s':\n%s", err_part, r->err);
}

/* What the machine gives the bundled guest; a self-test that needs one of
 * these (any of its bits) reports SKIP without it, and passes with it. */
enum {
	HAVE_APS = 1,		/* -c 2 or more */
	HAVE_HIGHMEM = 2,	/* RAM above 4 GiB: -m 4G */
	HAVE_RW_DISK = 4,	/* --disk IMAGE, 10 MiB + 4 KiB at least */
	HAVE_RO_DISK = 8,	/* --disk IMAGE,ro holding the guest's pattern */
	HAVE_DISK = HAVE_RW_DISK | HAVE_RO_DISK,
	HAVE_HPET = 16,		/* no --no-hpet */
};

/* Every self-test that may skip, and what it needs; all others must pass
 * on any tinyvmm machine. */
static const struct {
	const char *name;
	unsigned needs;
} may_skip[] = {
	{ "highmem", HAVE_HIGHMEM },
	{ "ipi-each", HAVE_APS },
	{ "ipi-storm", HAVE_APS },
	{ "blk-features", HAVE_DISK },
	{ "blk-write-verify", HAVE_RW_DISK },
	{ "blk-readonly", HAVE_RO_DISK },
	{ "blk-flush", HAVE_DISK },
	{ "blk-get-id", HAVE_DISK },
	{ "blk-out-of-range", HAVE_DISK },
	{ "blk-reset-inflight", HAVE_DISK },
	{ "blk-intx", HAVE_DISK },
	{ "hpet", HAVE_HPET },
};

static bool expect_skip(const char *name, unsigned have)
{
	for (size_t i = 0; i < sizeof(may_skip) / sizeof(may_skip[0]); i++)
		if (!strcmp(name, may_skip[i].name))
			return !(may_skip[i].needs & have);
	return false;
}

/* The guest's TAP report in @out: its plan, one result per planned test in
 * order, each SKIP exactly where the machine lacks what the test needs and
 * every other result a pass; and the guest knew it ran on tinyvmm (its
 * relaxed checks for other machines hang on the loader name). */
static void assert_tap(const char *out, unsigned have)
{
	const char *line;
	int plan = -1, n = 0;

	cr_assert(strstr(out, "multiboot magic 0x2badb002, loader 'tinyvmm'\n"),
		  "the guest did not see tinyvmm's loader name:\n%s", out);
	line = strstr(out, "\n1..");
	cr_assert(line && sscanf(line, "\n1..%d", &plan) == 1, "no TAP plan:\n%s", out);
	for (line = out; (line = strchr(line, '\n')); ) {
		char name[64];
		int num;

		line++;
		if (sscanf(line, "ok %d - %63s", &num, name) != 2 &&
		    sscanf(line, "not ok %d - %63s", &num, name) != 2)
			continue;
		cr_assert_eq(num, ++n, "result %d numbered %d:\n%s", n, num, out);
		if (expect_skip(name, have))
			cr_assert(tap_skipped(out, name), "%s should skip:\n%s", name, out);
		else
			cr_assert(tap_passed(out, name), "%s did not pass:\n%s", name, out);
	}
	cr_assert_eq(n, plan, "%d results for a plan of %d:\n%s", n, plan, out);
	for (size_t i = 0; i < sizeof(may_skip) / sizeof(may_skip[0]); i++)
		cr_assert(tap_find(out, may_skip[i].name), "no result for %s:\n%s",
			  may_skip[i].name, out);
}

Test(boot, bundled_guest_alone)
{
	RUN(&res, BUNDLED_GUEST);
	expect(&res, 1, "TAP version 13", NULL);
	assert_tap(res.out, HAVE_HPET);
}

/* QEMU's -no-hpet: no HPET and no HPET table, so the guest's hpet test
 * skips. */
Test(boot, bundled_guest_without_an_hpet)
{
	RUN(&res, "--no-hpet", BUNDLED_GUEST);
	expect(&res, 1, "TAP version 13", NULL);
	assert_tap(res.out, 0);
	cr_assert(strstr(res.out, "ok 37 - hpet # SKIP no HPET table\n"), "%s", res.out);
}

/* A fresh sparse image large enough for every disk test. */
static void make_image(char *path)
{
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 16 << 20), 0);
	close(fd);
}

Test(boot, bundled_guest_with_aps_highmem_and_a_disk)
{
	char image[] = "/tmp/tinyvmm-boot-XXXXXX";

	make_image(image);
	RUN(&res, "-c", "2", "-m", "4G", "--disk", image, BUNDLED_GUEST);
	unlink(image);
	expect(&res, 1, "TAP version 13", NULL);
	assert_tap(res.out, HAVE_APS | HAVE_HIGHMEM | HAVE_RW_DISK | HAVE_HPET);
	cr_assert(strstr(res.out, ") reads back"), "highmem: %s", res.out);
}

Test(boot, multiboot_command_line_reaches_the_guest)
{
	RUN(&res, BUNDLED_GUEST, "--", "hello=world", "x");
	expect(&res, 1, "hello=world x", NULL);
}

Test(boot, elf64_guest_prints_and_exits)
{
	RUN(&res, TEST_GUEST("hello64.elf"));
	expect(&res, 85, "hello from an ELF64 guest", NULL);
}

Test(boot, rom_write_leaves_rom_unchanged)
{
	RUN(&res, TEST_GUEST("romwrite64.elf"));
	expect(&res, 1, NULL, NULL);
}

Test(boot, triple_fault_is_a_guest_crash)
{
	RUN(&res, TEST_GUEST("triple64.elf"));
	expect(&res, 6, NULL, "triple fault");
	cr_assert(strstr(res.err, "rip "), "register dump missing:\n%s", res.err);
}

Test(boot, hlt_with_interrupts_off_is_a_deadlock)
{
	RUN(&res, TEST_GUEST("halt64.elf"));
	expect(&res, 10, NULL, "deadlock");
	RUN(&res, "-c", "2", TEST_GUEST("halt64.elf"));
	expect(&res, 10, NULL, "deadlock");
}

Test(boot, timeout_stops_a_spinning_guest)
{
	RUN(&res, "--timeout", "1", TEST_GUEST("spin64.elf"));
	expect(&res, 8, NULL, "--timeout");
}

Test(boot, trace_and_stats)
{
	RUN(&res, "--trace", "--stats", TEST_GUEST("hello64.elf"));
	expect(&res, 85, NULL, "vcpu0 io   write 0x3f8/1 = 0x68 serial");
	cr_assert(strstr(res.err, "vcpu0 exits: io="), "%s", res.err);
	cr_assert(strstr(res.err, "serial: "), "%s", res.err);
	cr_assert(strstr(res.err, "debug-exit"), "%s", res.err);
}

Test(boot, serial_to_a_file)
{
	char path[] = "/tmp/tinyvmm-serial-XXXXXX";
	char buf[4096] = "";
	FILE *f;

	close(mkstemp(path));
	RUN(&res, "--serial", path, TEST_GUEST("hello64.elf"));
	expect(&res, 85, NULL, NULL);
	cr_assert_null(strstr(res.out, "hello"), "serial went to stdout");
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_gt(fread(buf, 1, sizeof(buf) - 1, f), 0);
	fclose(f);
	unlink(path);
	cr_assert(strstr(buf, "hello from an ELF64 guest"), "%s", buf);
}

/* The APs wait for INIT-SIPI: they never run the kernel's entry (it would
 * print its line again) nor anything else. halt64 ends in a deadlock only
 * once no vCPU runs: by then an AP that had started would have exits. */
Test(boot, smp_vcpus_start_parked)
{
	const char *first;

	RUN(&res, "-c", "4", TEST_GUEST("hello64.elf"));
	expect(&res, 85, "hello from an ELF64 guest", NULL);
	first = strstr(res.out, "hello from");
	cr_assert_null(strstr(first + 1, "hello from"), "printed twice:\n%s", res.out);
	RUN(&res, "--stats", "-c", "4", TEST_GUEST("halt64.elf"));
	expect(&res, 10, NULL, "deadlock");
	for (int cpu = 1; cpu < 4; cpu++) {
		char none[32];

		snprintf(none, sizeof(none), "vcpu%d exits:\n", cpu);
		cr_assert(strstr(res.err, none), "vcpu%d ran:\n%s", cpu, res.err);
	}
	/* --stats ends with the process's figures, the vCPUs joined: main,
	 * the signal thread and the UART's input reader are left. */
	cr_assert(strstr(res.err, " open fds, 3 threads, peak RSS "), "%s", res.err);
}

/* Devices from -device exist where their properties put them: they take
 * the guest's accesses from the board's own at the same ports. */
Test(boot, extra_devices_from_the_command_line)
{
	char path[] = "/tmp/tinyvmm-serial-XXXXXX", arg[64], buf[256] = "";
	FILE *f;

	/* hello64 writes 'h' (0x68) to COM1 first: here the exit port. */
	RUN(&res, "-device", "isa-debug-exit,iobase=0x3f8,iosize=1", TEST_GUEST("hello64.elf"));
	expect(&res, (0x68 << 1) | 1, NULL, NULL);

	close(mkstemp(path));
	snprintf(arg, sizeof(arg), "isa-serial,iobase=0x3f8,path=%s", path);
	RUN(&res, "-device", arg, TEST_GUEST("hello64.elf"));
	expect(&res, 85, NULL, NULL);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_gt(fread(buf, 1, sizeof(buf) - 1, f), 0, "nothing in %s", path);
	fclose(f);
	unlink(path);
	cr_assert(strstr(buf, "hello from an ELF64 guest"), "%s", buf);
	cr_assert_null(strstr(res.out, "hello"), "the board's COM1 got it:\n%s", res.out);
}
