/* Hostile guests: each attacks one surface. tinyvmm must keep running and
 * let the guest finish (status 0: exit code 1), or stop with its documented
 * code; never crash, hang or (in `make asan`) trip a sanitizer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vmm_run.h"

static struct vmm_result res;

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

TestSuite(evil, .init = need_kvm, .timeout = 180);

static void expect_survived(const char *guest, const char *cpus)
{
	vmm_run((const char *const[]){ "--serial", "none", "--timeout", "120", "-c", cpus,
				       guest, NULL }, 150, &res);
	cr_assert_eq(res.code, 1, "%s -c %s: exit %d\nstderr:\n%s", guest, cpus, res.code,
		     res.err);
	cr_assert_null(strstr(res.err, "ERROR: AddressSanitizer"), "%s", res.err);
	cr_assert_null(strstr(res.err, "runtime error"), "%s", res.err);
}

Test(evil, every_port_every_width)
{
	expect_survived(TEST_GUEST("evil_ports64.elf"), "1");
}

Test(evil, every_lapic_offset_every_width)
{
	expect_survived(TEST_GUEST("evil_lapic64.elf"), "2");
}

Test(evil, icr_flood_with_illegal_vectors)
{
	expect_survived(TEST_GUEST("evil_icr64.elf"), "4");
}

/* Not hostile, but an SMP workout: INIT-SIPI-SIPI, then IPIs back and forth
 * (the benchmark guest); with one CPU it reports that no AP answered. */
Test(evil, ipi_pingpong_needs_and_uses_two_cpus)
{
	expect_survived(TEST_GUEST("ipi_pingpong_mb.elf"), "2");
	vmm_run((const char *const[]){ "--timeout", "60", "-c", "1",
				       TEST_GUEST("ipi_pingpong_mb.elf"), NULL }, 90, &res);
	cr_assert_eq(res.code, 5, "status 2 expected without an AP, got exit %d", res.code);
}
