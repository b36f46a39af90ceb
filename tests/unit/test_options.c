/* Command-line parser: every option, and every way to get it wrong. */
#include <criterion/criterion.h>
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
