/* QEMU's command line front end at its limits: each repeatable option takes
 * exactly as many as it says (the last one still reaches the VMM), one more
 * is refused with a one-line message; and the words it cannot pass on. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/qemu_cli.h"

#define MAX_CHARDEVS	8	/* as vmm/qemu_cli.c documents in its errors */
#define MAX_DRIVES	8

static struct qemu_cli *q;
static struct error e;
static char *argv[QEMU_CLI_MAX_WORDS * 2];
static int argc;
static char words[QEMU_CLI_MAX_WORDS * 2][64];

static void setup(void)
{
	q = calloc(1, sizeof(*q));
	cr_assert(q);
	e = (struct error){ "" };
	argc = 0;
	argv[argc++] = "qemu-system-x86_64";
	argv[argc++] = "-kernel";
	argv[argc++] = "g.elf";
}

static void teardown(void)
{
	free(q);
}

TestSuite(qemu_cli_limits, .init = setup, .fini = teardown);

/* Appends option @opt with the value @fmt % @i. */
static void add(const char *opt, const char *fmt, unsigned i)
{
	cr_assert_lt(argc + 2, (int)(sizeof(argv) / sizeof(argv[0])));
	argv[argc++] = (char *)opt;
	snprintf(words[argc], sizeof(words[argc]), fmt, i, i);
	argv[argc] = words[argc];
	argc++;
	argv[argc] = NULL;
}

static int parse(void)
{
	return qemu_cli_parse(argc, argv, q, &e);
}

static void assert_refused(const char *part)
{
	cr_assert_eq(parse(), -1, "accepted, wanted '%s'", part);
	cr_assert(strstr(e.msg, part), "'%s' lacks '%s'", e.msg, part);
	cr_assert(!strchr(e.msg, '\n'), "one line");
}

Test(qemu_cli_limits, fw_cfg_items)
{
	for (unsigned i = 0; i < VMM_MAX_FW_CFG; i++)
		add("-fw_cfg", "name=opt/f%u,string=v%u", i);
	cr_assert_eq(parse(), 0, "%s", e.msg);
	cr_assert_eq(q->opts.nfw_cfg, VMM_MAX_FW_CFG);
	cr_assert_str_eq(q->opts.fw_cfg[VMM_MAX_FW_CFG - 1].name, "opt/f15");

	memset(q, 0, sizeof(*q));
	add("-fw_cfg", "name=opt/f%u,string=v%u", VMM_MAX_FW_CFG);
	assert_refused("-fw_cfg: at most 16 items");
}

Test(qemu_cli_limits, chardevs)
{
	for (unsigned i = 0; i < MAX_CHARDEVS; i++)
		add("-chardev", "file,id=c%u,path=c%u.log", i);
	add("-serial", "chardev:c%u", MAX_CHARDEVS - 1);
	cr_assert_eq(parse(), 0, "%s", e.msg);
	cr_assert_str_eq(q->opts.serial, "c7.log", "the last one is there to use");

	memset(q, 0, sizeof(*q));
	add("-chardev", "null,id=c%u", MAX_CHARDEVS);
	assert_refused("-chardev: at most 8");
}

Test(qemu_cli_limits, drives_and_disks)
{
	for (unsigned i = 0; i < MAX_DRIVES; i++)
		add("-drive", "file=d%u.img,if=none,id=d%u,format=raw", i);
	for (unsigned i = MAX_DRIVES - VMM_MAX_DISKS; i < MAX_DRIVES; i++)
		add("-device", "virtio-blk-pci,drive=d%u", i);
	cr_assert_eq(parse(), 0, "%s", e.msg);
	cr_assert_eq(q->opts.ndisks, VMM_MAX_DISKS);
	cr_assert_str_eq(q->opts.disks[VMM_MAX_DISKS - 1].path, "d7.img");

	memset(q, 0, sizeof(*q));
	add("-device", "virtio-blk-pci,drive=d%u", 0);
	assert_refused("at most 4 disks");

	memset(q, 0, sizeof(*q));
	argc -= 2 * (VMM_MAX_DISKS + 1);
	add("-drive", "file=d%u.img,if=none,id=d%u,format=raw", MAX_DRIVES);
	assert_refused("-drive: at most 8");
}

Test(qemu_cli_limits, words_it_cannot_pass_on)
{
	add("-drive", "file=a,,b.img,if=virtio,format=raw%.0u", 0);
	assert_refused("',,' (a comma in a value) is not supported");

	memset(q, 0, sizeof(*q));
	argc -= 2;
	add("-pidfile", "%.0u", 0);
	assert_refused("-pidfile: an empty file name");
}
