/* The three ways a PC guest resets the machine (the 8042's pulse command,
 * port 0x92's fast reset, the chipset's 0xCF9), each ending tinyvmm with
 * VMM_EXIT_RESET, and POST codes on port 0x80, which end nothing. The same
 * guests reset QEMU -M pc -no-reboot (it exits 0 there). */
#include <criterion/criterion.h>
#include <string.h>

#include "vmm/exit_codes.h"
#include "vmm_run.h"

static struct vmm_result res;

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

TestSuite(reset, .init = need_kvm, .timeout = 90);

static void run(const char *guest, int code)
{
	vmm_run((const char *const[]){ "--serial", "none", "--timeout", "60", guest, NULL },
		75, &res);
	/* 3: the guest is still running after its reset write. */
	cr_assert_eq(res.code, code, "%s: exit %d, wanted %d\nstderr:\n%s", guest,
		     res.code, code, res.err);
}

Test(reset, keyboard_controller_pulse)
{
	run(TEST_GUEST("reset_kbc_mb.elf"), VMM_EXIT_RESET);
}

Test(reset, port92_fast_reset)
{
	run(TEST_GUEST("reset_port92_mb.elf"), VMM_EXIT_RESET);
}

Test(reset, reset_control_register_cf9)
{
	run(TEST_GUEST("reset_cf9_mb.elf"), VMM_EXIT_RESET);
}

Test(reset, post_codes_end_nothing)
{
	run(TEST_GUEST("reset_none_mb.elf"), 1);
}
