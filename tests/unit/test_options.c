/* Command-line parser: every option, and every way to get it wrong. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vmm/options.h"

#define ARGV(...) ((char *const[]){ "tinyvmm", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *const[]){ "tinyvmm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, e, ...) options_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (e))

Test(options, defaults)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "g.elf"), 0);
	cr_assert_str_eq(o.guest_path, "g.elf");
	cr_assert_eq(o.mem_size, 128ull << 20);
	cr_assert_eq(o.ncpus, 1);
	cr_assert_str_eq(o.serial, "stdio");
	cr_assert(!o.trace && !o.stats && o.timeout == 0 && o.ndevices == 0);
	cr_assert_str_eq(o.cmdline, "");
}

Test(options, every_option)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "-m", "1G", "--cpus=4", "--serial", "out.txt",
			   "--trace", "--stats", "--timeout", "2.5", "-device",
			   "isa-serial,iobase=0x2f8", "--device=isa-debug-exit",
			   "g.elf", "--", "console=ttyS0", "quiet"), 0, "%s", e.msg);
	cr_assert_eq(o.mem_size, 1ull << 30);
	cr_assert_eq(o.ncpus, 4);
	cr_assert_str_eq(o.serial, "out.txt");
	cr_assert(o.trace && o.stats);
	cr_assert_float_eq(o.timeout, 2.5, 1e-9);
	cr_assert_eq(o.ndevices, 2);
	cr_assert_str_eq(o.devices[0], "isa-serial,iobase=0x2f8");
	cr_assert_str_eq(o.devices[1], "isa-debug-exit");
	cr_assert_str_eq(o.cmdline, "console=ttyS0 quiet");
}

Test(options, mem_suffixes)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "--mem=4096K", "g"), 0);
	cr_assert_eq(o.mem_size, 4ull << 20);
	cr_assert_eq(PARSE(&o, &e, "-m", "64G", "g"), 0);
	cr_assert_eq(o.mem_size, 64ull << 30);
	cr_assert_eq(PARSE(&o, &e, "-m", "3MiB", "g"), 0);
	cr_assert_eq(o.mem_size, 3ull << 20);
}

struct bad_case {
	const char *args[4];
	const char *msg;	/* a part of the one-line error */
};

static const struct bad_case bad_cases[] = {
	{ { "-m", "0", "g" }, "out of range" },
	{ { "-m", "1T", "g" }, "out of range" },
	{ { "-m", "1M", "g" }, "out of range" },
	{ { "-m", "12Q", "g" }, "not a size" },
	{ { "-m", "-5M", "g" }, "not a size" },
	{ { "-m", "99999999999999999999G", "g" }, "not a size" },
	{ { "-m", "4097K", "g" }, "multiple of 4K" },
	{ { "-c", "0", "g" }, "from 1 to" },
	{ { "-c", "10000", "g" }, "from 1 to" },
	{ { "-c", "two", "g" }, "from 1 to" },
	{ { "--timeout", "0", "g" }, "seconds" },
	{ { "--timeout", "abc", "g" }, "seconds" },
	{ { "--timeout", "-1", "g" }, "seconds" },
	{ { "--bogus", "g" }, "unknown option" },
	{ { "-m" }, "needs a value" },
	{ { "--trace" }, "no guest file" },
	{ { "g", "extra" }, "after the guest file" },
	{ { "--trace=yes", "g" }, "unknown option" },
	{ { "--serial", "", "g" }, "empty" },
	{ { "--gdb", "0", "g" }, "[HOST:]PORT" },
	{ { "--gdb", "65536", "g" }, "[HOST:]PORT" },
	{ { "--gdb", "host:x", "g" }, "[HOST:]PORT" },
	{ { "--gdb", "unix:", "g" }, "unix socket path" },
	{ { "--gdb-arch", "arm", "g" }, "i386, x86-64 or dual" },
	{ { "--halt-poll-ns", "-1", "g" }, "nanoseconds" },
	{ { "--halt-poll-ns", "20000000", "g" }, "nanoseconds" },
};

Test(options, bad_command_lines)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char *argv[6] = { "tinyvmm" };
		int argc = 1;
		struct vmm_options o;
		struct error e = { "" };

		for (int j = 0; j < 4 && bad_cases[i].args[j]; j++)
			argv[argc++] = (char *)bad_cases[i].args[j];
		cr_assert_eq(options_parse(argc, argv, &o, &e), -1, "case %zu accepted", i);
		cr_assert(strstr(e.msg, bad_cases[i].msg), "case %zu: '%s' lacks '%s'",
			  i, e.msg, bad_cases[i].msg);
		cr_assert(!strchr(e.msg, '\n'), "one line");
	}
}

/* Found by fuzz_options: a quoted argument must not break the one line. */
Test(options, control_characters_in_arguments_stay_one_line)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "--device--\nev", "g"), -1);
	cr_assert_str_eq(e.msg, "unknown option '--device--?ev' (see --help)");
}

Test(options, info_requests_need_no_guest)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "--help"), 0);
	cr_assert(o.help);
	cr_assert_eq(PARSE(&o, &e, "--version"), 0);
	cr_assert(o.version);
	cr_assert_eq(PARSE(&o, &e, "-device", "help"), 0);
	cr_assert(o.device_help);
}

Test(options, too_many_devices)
{
	char *argv[2 + 2 * (VMM_MAX_DEVICES + 1)];
	int argc = 0;
	struct vmm_options o;
	struct error e;

	argv[argc++] = "tinyvmm";
	for (int i = 0; i <= VMM_MAX_DEVICES; i++) {
		argv[argc++] = "-device";
		argv[argc++] = "isa-serial";
	}
	argv[argc++] = "g";
	cr_assert_eq(options_parse(argc, argv, &o, &e), -1);
	cr_assert(strstr(e.msg, "at most"));
}

Test(options, cmdline_too_long)
{
	static char big[VMM_CMDLINE_MAX + 10];
	struct vmm_options o;
	struct error e;

	memset(big, 'a', sizeof(big) - 1);
	cr_assert_eq(PARSE(&o, &e, "g", "--", big), -1);
	cr_assert(strstr(e.msg, "longer than"));
}

/* QEMU's -initrd for multiboot: "FILE ARGS" items, ',,' for a comma. */
Test(options, initrd_modules)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "--initrd", "a args a1,mod,,c x y,b", "g"), 0, "%s", e.msg);
	cr_assert_eq(o.nmodules, 3);
	cr_assert_str_eq(o.modules[0].arg, "a args a1");
	cr_assert_str_eq(o.modules[0].path, "a");
	cr_assert_str_eq(o.modules[1].arg, "mod,c x y");
	cr_assert_str_eq(o.modules[1].path, "mod,c");
	cr_assert_str_eq(o.modules[2].arg, "b");
	cr_assert_str_eq(o.modules[2].path, "b");
	/* As QEMU, the last one counts. */
	cr_assert_eq(PARSE(&o, &e, "--initrd", "a,b", "--initrd=c", "g"), 0, "%s", e.msg);
	cr_assert_eq(o.nmodules, 1);
	cr_assert_str_eq(o.modules[0].path, "c");
}

Test(options, fw_cfg_items)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "--fw-cfg", "name=opt/a,string=x,,y",
			   "--fw-cfg", "opt/b,file=/some,,file", "--fw-cfg=string=s,name=etc/c",
			   "g"), 0, "%s", e.msg);
	cr_assert_eq(o.nfw_cfg, 3);
	cr_assert_str_eq(o.fw_cfg[0].name, "opt/a");
	cr_assert_str_eq(o.fw_cfg[0].value, "x,y");
	cr_assert(!o.fw_cfg[0].is_file);
	cr_assert_str_eq(o.fw_cfg[1].name, "opt/b");
	cr_assert_str_eq(o.fw_cfg[1].value, "/some,file");
	cr_assert(o.fw_cfg[1].is_file);
	cr_assert_str_eq(o.fw_cfg[2].name, "etc/c");	/* QEMU only warns */
	cr_assert_str_eq(o.fw_cfg[2].value, "s");
}

static const struct bad_case bad_modules_and_fw_cfg[] = {
	{ { "--initrd", "a,", "g" }, "module 2 ('') has no file name" },
	{ { "--initrd", "a, b", "g" }, "module 2 (' b') has no file name" },
	{ { "--initrd", "", "g" }, "no file name" },
	{ { "--fw-cfg", "name=opt/0123456789012345678901234567890123456789012345678901,string=x",
	    "g" }, "name is longer than 55" },
	{ { "--fw-cfg", "string=x", "g" }, "name, plus exactly one" },
	{ { "--fw-cfg", "name=opt/a", "g" }, "name, plus exactly one" },
	{ { "--fw-cfg", "name=opt/a,string=x,file=y", "g" }, "name, plus exactly one" },
	{ { "--fw-cfg", "name=opt/a,string=", "g" }, "name, plus exactly one" },
	{ { "--fw-cfg", "name=,string=x", "g" }, "name, plus exactly one" },
	{ { "--fw-cfg", "name=opt/a,string=x,bogus=1", "g" }, "unknown parameter 'bogus'" },
	{ { "--fw-cfg", "name=opt/a,string=x,junk", "g" }, "'junk' is not KEY=VALUE" },
};

Test(options, bad_modules_and_fw_cfg)
{
	for (size_t i = 0; i < sizeof(bad_modules_and_fw_cfg) / sizeof(bad_modules_and_fw_cfg[0]); i++) {
		const struct bad_case *c = &bad_modules_and_fw_cfg[i];
		char *argv[6] = { "tinyvmm" };
		int argc = 1;
		struct vmm_options o;
		struct error e = { "" };

		for (int j = 0; j < 4 && c->args[j]; j++)
			argv[argc++] = (char *)c->args[j];
		cr_assert_eq(options_parse(argc, argv, &o, &e), -1, "case %zu accepted", i);
		cr_assert(strstr(e.msg, c->msg), "case %zu: '%s' lacks '%s'", i, e.msg, c->msg);
		cr_assert(!strchr(e.msg, '\n'), "one line");
	}
}

Test(options, fw_cfg_duplicates_and_limits)
{
	static char big[VMM_FW_CFG_ARG_MAX + 32];
	char *argv[3 + 2 * (VMM_MAX_FW_CFG + 1)] = { "tinyvmm" };
	char names[VMM_MAX_FW_CFG + 1][32];
	struct vmm_options o;
	struct error e;
	int argc = 1;

	cr_assert_eq(PARSE(&o, &e, "--fw-cfg", "opt/a,string=1", "--fw-cfg",
			   "opt/a,string=2", "g"), -1);
	cr_assert(strstr(e.msg, "duplicate name 'opt/a'"), "%s", e.msg);
	snprintf(big, sizeof(big), "opt/a,string=");
	memset(big + strlen(big), 'x', sizeof(big) - strlen(big) - 1);
	cr_assert_eq(PARSE(&o, &e, "--fw-cfg", big, "g"), -1);
	cr_assert(strstr(e.msg, "longer than"), "%s", e.msg);
	for (int i = 0; i <= VMM_MAX_FW_CFG; i++) {
		snprintf(names[i], sizeof(names[i]), "opt/%d,string=x", i);
		argv[argc++] = "--fw-cfg";
		argv[argc++] = names[i];
	}
	argv[argc++] = "g";
	cr_assert_eq(options_parse(argc, argv, &o, &e), -1);
	cr_assert(strstr(e.msg, "at most 16"), "%s", e.msg);
	cr_assert_eq(options_parse(argc - 3, argv, &o, &e), -1);	/* 16: no guest left */
	cr_assert(strstr(e.msg, "no guest file"), "%s", e.msg);
}

Test(options, too_many_modules)
{
	static char list[32 * (VMM_MAX_MODULES + 1)];
	static char longone[VMM_MODULE_ARG_MAX + 8];
	struct vmm_options o;
	struct error e;

	for (int i = 0; i <= VMM_MAX_MODULES; i++)
		snprintf(list + strlen(list), 32, "%sm%d", i ? "," : "", i);
	cr_assert_eq(PARSE(&o, &e, "--initrd", list, "g"), -1);
	cr_assert(strstr(e.msg, "at most 16 modules"), "%s", e.msg);
	memset(longone, 'm', sizeof(longone) - 1);
	cr_assert_eq(PARSE(&o, &e, "--initrd", longone, "g"), -1);
	cr_assert(strstr(e.msg, "longer than"), "%s", e.msg);
}

Test(options, gdb_stub)
{
	struct vmm_options o;
	struct error e;

	cr_assert_eq(PARSE(&o, &e, "g"), 0);
	cr_assert(!o.gdb && !o.gdb_wait && o.gdb_arch == VMM_GDB_ARCH_AUTO);
	cr_assert_eq(o.halt_poll_ns, -1);
	cr_assert_eq(PARSE(&o, &e, "--gdb", "1234", "--gdb-wait", "--gdb-arch", "i386", "g"), 0);
	cr_assert(o.gdb && o.gdb_wait && !o.gdb_addr.is_unix);
	cr_assert_str_eq(o.gdb_addr.host, "127.0.0.1");
	cr_assert_eq(o.gdb_addr.port, 1234);
	cr_assert_eq(o.gdb_arch, VMM_GDB_ARCH_I386);
	cr_assert_eq(PARSE(&o, &e, "--gdb=0.0.0.0:99", "--gdb-arch=dual", "g"), 0);
	cr_assert_str_eq(o.gdb_addr.host, "0.0.0.0");
	cr_assert_eq(o.gdb_addr.port, 99);
	cr_assert_eq(o.gdb_arch, VMM_GDB_ARCH_DUAL);
	cr_assert_eq(PARSE(&o, &e, "--gdb", "unix:/tmp/s", "--halt-poll-ns", "0", "g"), 0);
	cr_assert(o.gdb_addr.is_unix);
	cr_assert_str_eq(o.gdb_addr.path, "/tmp/s");
	cr_assert_eq(o.halt_poll_ns, 0);
	cr_assert_eq(PARSE(&o, &e, "--mtree", "g"), 0);
	cr_assert(o.mtree);
	cr_assert_not(o.no_hpet);
	cr_assert_eq(PARSE(&o, &e, "--no-hpet", "g"), 0);
	cr_assert(o.no_hpet);
}
