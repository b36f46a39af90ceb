/* Boot tests: the bundled guest's SMP and local-APIC self-tests with 1, 2,
 * 4 and 8 vCPUs. The guest reads the CPU count from the MADT, so the same
 * image checks that every count matches -c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/guests/loop.h"
#include "vmm_run.h"

static struct vmm_result res;

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

TestSuite(smp, .init = need_kvm, .timeout = 180);

static const char *const smp_tests[] = {
	"acpi-madt", "smp-bringup", "ipi-each", "self-ipi", "tpr-nesting",
	"timer-oneshot", "timer-periodic", "ipi-storm",
};
/* Meaningless with one CPU: reported as skipped. */
static const char *const needs_aps[] = { "ipi-each", "ipi-storm" };

static bool needs_two(const char *name)
{
	for (size_t i = 0; i < sizeof(needs_aps) / sizeof(needs_aps[0]); i++)
		if (!strcmp(name, needs_aps[i]))
			return true;
	return false;
}

static void check_cpus(int ncpus)
{
	char arg[8], diag[64];

	snprintf(arg, sizeof(arg), "%d", ncpus);
	vmm_run((const char *const[]){ "-c", arg, BUNDLED_GUEST, NULL }, 120, &res);
	cr_assert_eq(res.code, 1, "-c %d: exit code %d, wanted 1\nstdout:\n%s\nstderr:\n%s",
		     ncpus, res.code, res.out, res.err);
	cr_assert_null(strstr(res.out, "not ok"), "%s", res.out);
	snprintf(diag, sizeof(diag), "%d CPUs, APIC IDs 0", ncpus);
	cr_assert(strstr(res.out, diag), "no '%s' in:\n%s", diag, res.out);
	for (size_t i = 0; i < sizeof(smp_tests) / sizeof(smp_tests[0]); i++) {
		const char *name = smp_tests[i], *p = tap_find(res.out, name);
		bool skipped = tap_skipped(res.out, name);

		cr_assert(p, "-c %d: no result for %s:\n%s", ncpus, name, res.out);
		cr_assert_eq(skipped, ncpus == 1 && needs_two(name),
			     "-c %d: %s skipped: %d\n%s", ncpus, name, skipped, res.out);
	}
	if (ncpus > 1) {
		snprintf(diag, sizeof(diag), "# %d of %d APs reported in", ncpus - 1, ncpus - 1);
		cr_assert(strstr(res.out, diag), "no '%s' in:\n%s", diag, res.out);
	} else {
		cr_assert(strstr(res.out, "ipi-storm # SKIP 1 CPU"), "%s", res.out);
	}
}

Test(smp, one_cpu) { check_cpus(1); }
Test(smp, two_cpus) { check_cpus(2); }
Test(smp, four_cpus) { check_cpus(4); }
Test(smp, eight_cpus) { check_cpus(8); }

/* From --stats: vCPU @cpu's interrupts injected (with KVM_RUN's synced
 * events plus with KVM_INTERRUPT), or -1 without that line. */
static long injected(const char *err, int cpu)
{
	char key[64];
	const char *p;
	long synced, ioctl;

	snprintf(key, sizeof(key), "vcpu%d interrupts: injected", cpu);
	p = strstr(err, key);
	if (!p || sscanf(p + strlen(key), " %ld with KVM_RUN's synced events, %ld",
			 &synced, &ioctl) != 2)
		return -1;
	return synced + ioctl;
}

/* The IPI benchmark guest in each configuration `make bench` times: CPU 0
 * gets IPI_ROUNDS pongs (0x40), CPU 1 as many pings (0x41), each injected
 * exactly once, whether the target polled or slept in hlt. */
static void check_pingpong(const char *guest, const char *halt_poll_ns)
{
	static const char *const want[] = { "delivered: 0x40=", "delivered: 0x41=" };
	char line[64];

	vmm_run((const char *const[]){ "--stats", "--halt-poll-ns", halt_poll_ns, "-c", "2",
				       guest, NULL }, 120, &res);
	cr_assert_eq(res.code, 1, "%s --halt-poll-ns %s: exit %d\n%s", guest, halt_poll_ns,
		     res.code, res.err);
	for (int cpu = 0; cpu < 2; cpu++) {
		snprintf(line, sizeof(line), "%s%d\n", want[cpu], IPI_ROUNDS);
		cr_assert(strstr(res.err, line), "no '%s' in:\n%s", line, res.err);
		cr_assert_eq(injected(res.err, cpu), IPI_ROUNDS, "vcpu%d:\n%s", cpu, res.err);
	}
}

Test(smp, ipi_pingpong_xapic_polling)
{
	check_pingpong(TEST_GUEST("ipi_pingpong_mb.elf"), "200000");
}
Test(smp, ipi_pingpong_xapic_sleeping)
{
	check_pingpong(TEST_GUEST("ipi_pingpong_mb.elf"), "0");
}
Test(smp, ipi_pingpong_x2apic_polling)
{
	check_pingpong(TEST_GUEST("ipi_pingpong_x2_mb.elf"), "200000");
}
Test(smp, ipi_pingpong_x2apic_sleeping)
{
	check_pingpong(TEST_GUEST("ipi_pingpong_x2_mb.elf"), "0");
}
