/* Boot tests: the bundled guest's `irq` group (guest/tests_irq.c) on
 * tinyvmm's PC: the 8259 pair with the 8254 and the RTC, the I/O APIC
 * (edge: the PIT on the MADT's pin; level: the RTC, remote IRR and EOI),
 * COM1's THRE interrupts and virtio-blk completions on INTx. QEMU -M pc
 * passes the same (guest/README.md has the command lines). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm_run.h"

#define DISK_SIZE	(16 << 20)	/* blk-intx works past 10 MiB */

static struct vmm_result res;
static char disk[] = "/tmp/tinyvmm-irq-disk-XXXXXX";

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

static void remove_disk(void)
{
	if (strcmp(disk + strlen(disk) - 6, "XXXXXX"))
		unlink(disk);
}

TestSuite(irq, .init = need_kvm, .fini = remove_disk, .timeout = 240);

static const char *const irq_tests[] = {
	"pic-pit-ticks", "pit-calibrate", "pic-spurious", "ioapic-pit",
	"ioapic-level", "rtc-irq", "uart-thre", "blk-intx",
};

static void assert_irq_group_passed(void)
{
	cr_assert_null(strstr(res.out, "not ok"), "%s\nstderr:\n%s", res.out, res.err);
	for (size_t i = 0; i < sizeof(irq_tests) / sizeof(irq_tests[0]); i++)
		cr_assert(tap_passed(res.out, irq_tests[i]), "%s did not pass:\n%s",
			  irq_tests[i], res.out);
	/* the interrupt-driven characters reached the console in order */
	cr_assert(strstr(res.out, "# uart-thre: sent by THRE interrupts\n"), "%s", res.out);
}

Test(irq, controllers_and_sources_match_qemu_pc)
{
	char arg[sizeof(disk)];
	int fd = mkstemp(disk);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, DISK_SIZE), 0);
	close(fd);
	snprintf(arg, sizeof(arg), "%s", disk);
	vmm_run((const char *const[]){ "-c", "2", "--disk", arg, BUNDLED_GUEST, NULL },
		200, &res);
	cr_assert_eq(res.code, 1, "exit code %d, wanted 1\nstdout:\n%s\nstderr:\n%s",
		     res.code, res.out, res.err);
	assert_irq_group_passed();
}

/* Without a disk every controller test still runs; only blk-intx skips. */
Test(irq, without_a_disk_only_blk_intx_skips)
{
	vmm_run((const char *const[]){ "-c", "1", BUNDLED_GUEST, NULL }, 200, &res);
	cr_assert_eq(res.code, 1, "exit code %d, wanted 1\nstdout:\n%s\nstderr:\n%s",
		     res.code, res.out, res.err);
	cr_assert(tap_skipped(res.out, "blk-intx"), "%s", res.out);
	for (size_t i = 0; i < sizeof(irq_tests) / sizeof(irq_tests[0]) - 1; i++)
		cr_assert(tap_passed(res.out, irq_tests[i]), "%s did not pass:\n%s",
			  irq_tests[i], res.out);
}
