/* Boot tests: ./tinyvmm on real guests, asserting exit codes and output.
 * They need /dev/kvm and skip, saying so, where it is absent. */
#include <criterion/criterion.h>
#include <stdio.h>
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

Test(boot, bundled_guest_passes_its_self_tests)
{
	RUN(&res, BUNDLED_GUEST);
	expect(&res, 1, "TAP version 13", NULL);
	cr_assert_null(strstr(res.out, "not ok"), "%s", res.out);
	cr_assert(strstr(res.out, "ok "), "%s", res.out);
	cr_assert(strstr(res.out, "ok ") && strstr(res.out, "rom"), "%s", res.out);
}

Test(boot, bundled_guest_reads_ram_above_4g)
{
	RUN(&res, "-m", "4G", BUNDLED_GUEST);
	expect(&res, 1, "TAP version 13", NULL);
	cr_assert_null(strstr(res.out, "not ok"), "%s", res.out);
	cr_assert(strstr(res.out, "highmem"), "%s", res.out);
	cr_assert_null(strstr(res.out, "highmem # SKIP"), "%s", res.out);
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

Test(boot, smp_vcpus_start_parked)
{
	RUN(&res, "-c", "4", TEST_GUEST("hello64.elf"));
	expect(&res, 85, "hello from an ELF64 guest", NULL);
}

Test(boot, extra_devices_from_the_command_line)
{
	RUN(&res, "-device", "isa-debug-exit,iobase=0x501,iosize=1",
	    "-device", "isa-serial,iobase=0x2f8,path=none", TEST_GUEST("hello64.elf"));
	expect(&res, 85, NULL, NULL);
}
