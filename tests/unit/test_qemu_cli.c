/* QEMU's command line front end: every accepted form, every refusal, and
 * what the VMM's exit codes become. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/exit_codes.h"
#include "vmm/qemu_cli.h"

#define ARGV(...) ((char *const[]){ "qemu-system-x86_64", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *const[]){ "q", __VA_ARGS__ }) / sizeof(char *)))
/* A harness's usual command line, then the options under test. */
#define PARSE(q, e, ...) qemu_cli_parse(ARGC("-kernel", "g.elf", "-display", "none", \
	__VA_ARGS__), ARGV("-kernel", "g.elf", "-display", "none", __VA_ARGS__), (q), (e))

static struct qemu_cli *q;
static struct error e;

static void setup(void)
{
	q = calloc(1, sizeof(*q));
	cr_assert(q);
	memset(&e, 0, sizeof(e));
}

static void teardown(void)
{
	free(q);
}

TestSuite(qemu_cli, .init = setup, .fini = teardown);

static void assert_ok(int ret)
{
	cr_assert_eq(ret, 0, "refused: %s", e.msg);
}

static void assert_refused(int ret, const char *part)
{
	cr_assert_eq(ret, -1, "accepted, wanted '%s'", part);
	cr_assert(strstr(e.msg, part), "'%s' lacks '%s'", e.msg, part);
	cr_assert(!strchr(e.msg, '\n'), "one line");
}

static bool warned(const char *part)
{
	for (unsigned i = 0; i < q->nwarnings; i++)
		if (strstr(q->warnings[i], part))
			return true;
	return false;
}

Test(qemu_cli, the_harness_command_line)
{
	assert_ok(qemu_cli_parse(ARGC("-kernel", "k.elf", "-append", "a b", "-serial", "stdio",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-display", "none",
		"-no-reboot", "-m", "128", "-smp", "2"),
		ARGV("-kernel", "k.elf", "-append", "a b", "-serial", "stdio",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-display", "none",
		"-no-reboot", "-m", "128", "-smp", "2"), q, &e));
	cr_assert_str_eq(q->opts.guest_path, "k.elf");
	cr_assert_str_eq(q->opts.cmdline, "a b");
	cr_assert_str_eq(q->opts.serial, "stdio");
	cr_assert_eq(q->opts.mem_size, 128ull << 20);
	cr_assert_eq(q->opts.ncpus, 2);
	cr_assert(q->no_reboot && q->opts.no_exit_port);
	cr_assert_eq(q->opts.ndevices, 1);
	cr_assert_str_eq(q->opts.devices[0], "isa-debug-exit,iobase=0xf4,iosize=0x04");
	cr_assert_eq(q->nwarnings, 0, "%s", q->warnings[0]);
}

Test(qemu_cli, defaults_are_qemus)
{
	assert_ok(PARSE(q, &e, "-name", "x"));
	cr_assert_eq(q->opts.mem_size, 128ull << 20);
	cr_assert_eq(q->opts.ncpus, 1);
	cr_assert(q->opts.no_exit_port && !q->no_reboot && !q->pidfile);
	cr_assert(q->opts.triple_fault_resets, "a triple fault is a reset, as on QEMU");
	cr_assert_eq(q->opts.ndevices + q->opts.ndisks + q->opts.nmodules, 0);
	cr_assert_str_eq(q->opts.cmdline, "");
	cr_assert_str_eq(q->opts.serial, "none", "a graphical console: nowhere");
}

Test(qemu_cli, two_dashes_and_any_order)
{
	assert_ok(qemu_cli_parse(ARGC("--smp", "3", "--no-reboot", "--kernel", "g", "-m", "1G"),
				 ARGV("--smp", "3", "--no-reboot", "--kernel", "g", "-m", "1G"), q, &e));
	cr_assert_eq(q->opts.ncpus, 3);
	cr_assert_eq(q->opts.mem_size, 1ull << 30);
	cr_assert_str_eq(q->opts.guest_path, "g");
	cr_assert(q->no_reboot);
}

Test(qemu_cli, the_last_of_a_single_valued_option_wins)
{
	assert_ok(PARSE(q, &e, "-m", "64", "-append", "one", "-m", "256M", "-append", "two",
			"-initrd", "a x", "-initrd", "b y"));
	cr_assert_eq(q->opts.mem_size, 256ull << 20);
	cr_assert_str_eq(q->opts.cmdline, "two");
	cr_assert_eq(q->opts.nmodules, 1);
	cr_assert_str_eq(q->opts.modules[0].arg, "b y");
}

Test(qemu_cli, append_reaches_the_guest_as_written)
{
	static char *const cases[] = {
		"", " lead", "trail ", "two  spaces", "quote=\"a b\" 'c'", "-- --x -m 5",
		"tab\there", "a,b=c,,d",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ok(PARSE(q, &e, "-append", cases[i]));
		cr_assert_str_eq(q->opts.cmdline, cases[i]);
	}
}

Test(qemu_cli, mem_forms)
{
	static const struct { char *arg; unsigned long long bytes; } cases[] = {
		{ "128", 128ull << 20 }, { "128M", 128ull << 20 }, { "128m", 128ull << 20 },
		{ "1G", 1ull << 30 }, { "0.5G", 512ull << 20 }, { "size=64M", 64ull << 20 },
		{ "131072K", 128ull << 20 }, { "3", 3ull << 20 }, { "64G", 64ull << 30 },
		{ "100000000B", 100007936ull }, { "size=2", 2ull << 20 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ok(PARSE(q, &e, "-m", cases[i].arg));
		cr_assert_eq(q->opts.mem_size, cases[i].bytes, "-m %s", cases[i].arg);
	}
}

Test(qemu_cli, mem_refusals)
{
	static char *const cases[][2] = {
		{ "1.5", "not a size" }, { "128MB", "not a size" }, { "", "an empty parameter" },
		{ "x", "not a size" }, { "1", "2M..64G" }, { "65G", "2M..64G" },
		{ "1T", "2M..64G" }, { "99999999999999999999", "not a size" },
		{ "64M,slots=2", "parameter 'slots'" }, { "size=1G,maxmem=2G", "parameter 'maxmem'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_refused(PARSE(q, &e, "-m", cases[i][0]), cases[i][1]);
}

Test(qemu_cli, smp_forms)
{
	static const struct { char *arg; unsigned cpus; } cases[] = {
		{ "2", 2 }, { "cpus=2", 2 }, { "sockets=2", 2 }, { "sockets=2,cores=2", 4 },
		{ "4,sockets=1,cores=2", 4 }, { "cores=2,threads=2", 4 }, { "maxcpus=3", 3 },
		{ "2,dies=2", 2 }, { "2,maxcpus=4", 2 }, { "64", 64 }, { "0", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ok(PARSE(q, &e, "-smp", cases[i].arg));
		cr_assert_eq(q->opts.ncpus, cases[i].cpus, "-smp %s", cases[i].arg);
	}
	assert_ok(PARSE(q, &e, "-smp", "2,maxcpus=4"));
	cr_assert(warned("no CPU hot-plug"));
}

Test(qemu_cli, smp_refusals)
{
	static char *const cases[][2] = {
		{ "cpus=2,sockets=2,cores=2", "topology" }, { "4,maxcpus=2", "below cpus" },
		{ "65", "1..64" }, { "2,foo=1", "parameter 'foo'" }, { "two", "not a CPU count" },
		{ "2,clusters=2", "clusters" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_refused(PARSE(q, &e, "-smp", cases[i][0]), cases[i][1]);
}

Test(qemu_cli, serial_forms)
{
	static char *const cases[][2] = {
		{ "stdio", "stdio" }, { "null", "none" }, { "file:out.txt", "out.txt" },
		{ "file:none", "./none" }, { "file:stdio", "./stdio" }, { "mon:stdio", "stdio" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ok(PARSE(q, &e, "-serial", cases[i][0]));
		cr_assert_str_eq(q->opts.serial, cases[i][1], "-serial %s", cases[i][0]);
	}
	cr_assert(warned("no monitor"));
	assert_ok(PARSE(q, &e, "-serial", "none", "-serial", "stdio"));
	cr_assert_str_eq(q->opts.serial, "stdio", "none takes no port");
	cr_assert_eq(q->nwarnings, 0);
}

Test(qemu_cli, chardevs_before_or_after_their_serial)
{
	assert_ok(PARSE(q, &e, "-serial", "chardev:c0", "-chardev", "file,id=c0,path=log.txt"));
	cr_assert_str_eq(q->opts.serial, "log.txt");
	assert_ok(PARSE(q, &e, "-chardev", "stdio,id=s", "-serial", "chardev:s"));
	cr_assert_str_eq(q->opts.serial, "stdio");
	assert_ok(PARSE(q, &e, "-chardev", "null,id=n", "-serial", "chardev:n"));
	cr_assert_str_eq(q->opts.serial, "none");
}

Test(qemu_cli, default_serial_follows_qemus_rules)
{
	assert_ok(qemu_cli_parse(ARGC("-kernel", "g", "-nographic"),
				 ARGV("-kernel", "g", "-nographic"), q, &e));
	cr_assert_str_eq(q->opts.serial, "stdio");
	cr_assert_eq(q->nwarnings, 0);
	assert_ok(qemu_cli_parse(ARGC("-kernel", "g"), ARGV("-kernel", "g"), q, &e));
	cr_assert_str_eq(q->opts.serial, "none");
	cr_assert(warned("no display"));
	assert_ok(PARSE(q, &e, "-nodefaults"));
	cr_assert_str_eq(q->opts.serial, "none");
	cr_assert(warned("-nodefaults: COM1 stays present"));
	assert_ok(PARSE(q, &e, "-serial", "none"));
	cr_assert(warned("-serial none: COM1 stays present"));
	assert_ok(PARSE(q, &e, "-nodefaults", "-serial", "stdio"));
	cr_assert_str_eq(q->opts.serial, "stdio");
	cr_assert_eq(q->nwarnings, 0);
}

Test(qemu_cli, serial_refusals)
{
	assert_refused(PARSE(q, &e, "-serial", "pty"), "-serial pty: not supported");
	assert_refused(PARSE(q, &e, "-serial", "chardev:x"), "no -chardev with id 'x'");
	assert_refused(PARSE(q, &e, "-serial", "stdio", "-serial", "file:x"), "one serial port");
	assert_refused(PARSE(q, &e, "-serial", "file:"), "empty file name");
	assert_refused(PARSE(q, &e, "-chardev", "socket,id=s,port=4"), "only stdio, null and file");
	assert_refused(PARSE(q, &e, "-chardev", "stdio"), "an id= is needed");
	assert_refused(PARSE(q, &e, "-chardev", "stdio,id=a", "-chardev", "null,id=a"),
		       "duplicate id 'a'");
	assert_refused(PARSE(q, &e, "-chardev", "stdio,id=a,signal=off"), "parameter 'signal'");
}

Test(qemu_cli, debug_exit_where_asked_and_only_then)
{
	assert_ok(PARSE(q, &e, "-device", "isa-debug-exit"));
	cr_assert_str_eq(q->opts.devices[0], "isa-debug-exit,iobase=0x501,iosize=0x2",
			 "QEMU's defaults");
	assert_ok(PARSE(q, &e, "-device", "isa-debug-exit,iosize=1,id=x", "-device",
			"driver=isa-debug-exit,iobase=0x600"));
	cr_assert_eq(q->opts.ndevices, 2);
	cr_assert_str_eq(q->opts.devices[0], "isa-debug-exit,iobase=0x501,iosize=1");
	cr_assert_str_eq(q->opts.devices[1], "isa-debug-exit,iobase=0x600,iosize=0x2");
	assert_refused(PARSE(q, &e, "-device", "isa-debug-exit,bus=isa.0"), "parameter 'bus'");
}

Test(qemu_cli, drives_pair_with_devices_in_any_order)
{
	assert_ok(PARSE(q, &e, "-device", "virtio-blk-pci,drive=d1,serial=S1",
			"-drive", "file=a.img,if=virtio,format=raw",
			"-drive", "id=d1,file=b.img,if=none,format=raw,readonly=on,cache=writeback",
			"-drive", "file=c.img,if=none,id=unused,format=raw"));
	cr_assert_eq(q->opts.ndisks, 2);
	cr_assert_str_eq(q->opts.disks[0].path, "b.img");
	cr_assert(q->opts.disks[0].ro);
	cr_assert_str_eq(q->opts.disks[0].serial, "S1");
	cr_assert_str_eq(q->opts.disks[1].path, "a.img");
	cr_assert(!q->opts.disks[1].ro && !q->opts.disks[1].serial[0]);
	cr_assert_eq(q->nwarnings, 0, "an unused drive: QEMU says nothing");
}

Test(qemu_cli, drive_warnings)
{
	assert_ok(PARSE(q, &e, "-drive", "file=a.img,if=virtio,cache=none,aio=native"));
	cr_assert(warned("no format= given"));
	cr_assert(warned("cache=none: not honoured"));
	cr_assert(warned("aio=native"));
}

Test(qemu_cli, drive_and_device_refusals)
{
	static char *const cases[][3] = {
		{ "-device", "virtio-blk-pci,drive=nope", "no -drive if=none with id 'nope'" },
		{ "-device", "virtio-blk-pci", "drive property not set" },
		{ "-device", "virtio-blk-pci,drive=d,bootindex=1", "parameter 'bootindex'" },
		{ "-device", "e1000", "'e1000' is not supported" },
		{ "-device", "isa-serial,chardev=x", "'isa-serial' is not supported" },
		{ "-drive", "file=a.img", "if=ide" },
		{ "-drive", "file=a.img,if=scsi", "if=scsi" },
		{ "-drive", "file=a.img,if=none,format=raw", "an id= is needed" },
		{ "-drive", "file=a.img,if=virtio,format=qcow2", "only raw" },
		{ "-drive", "file=a.img,if=virtio,snapshot=on", "parameter 'snapshot'" },
		{ "-drive", "file=a,,b.img,if=virtio", "',,'" },
		{ "-drive", "file=a.img,if=virtio,readonly=maybe", "not on or off" },
		{ "-drive", "if=virtio", "a file= is needed" },
		{ "-drive", "file=a.img,if=virtio,media=cdrom", "only disks" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_refused(PARSE(q, &e, "-drive", "file=d.img,if=none,id=d,format=raw",
				     cases[i][0], cases[i][1]), cases[i][2]);
	assert_refused(PARSE(q, &e, "-drive", "file=d.img,if=none,id=d,format=raw",
			     "-device", "virtio-blk-pci,drive=d", "-device", "virtio-blk-pci,drive=d"),
		       "already in use");
	assert_refused(PARSE(q, &e, "-drive", "file=a.img,if=none,id=d,format=raw",
			     "-drive", "file=b.img,if=none,id=d,format=raw"), "duplicate id 'd'");
}

Test(qemu_cli, initrd_and_fw_cfg_go_to_tinyvmms_parser)
{
	assert_ok(PARSE(q, &e, "-initrd", "m1 a b,m2,,x c", "-fw_cfg", "name=opt/a,string=x,,y",
			"-fw_cfg", "opt/b,file=f.bin"));
	cr_assert_eq(q->opts.nmodules, 2);
	cr_assert_str_eq(q->opts.modules[0].arg, "m1 a b");
	cr_assert_str_eq(q->opts.modules[1].arg, "m2,x c");
	cr_assert_eq(q->opts.nfw_cfg, 2);
	cr_assert_str_eq(q->opts.fw_cfg[0].value, "x,y");
	cr_assert(q->opts.fw_cfg[1].is_file);
	assert_refused(PARSE(q, &e, "-fw_cfg", "name=opt/a"), "-fw_cfg: name, plus exactly one");
	assert_refused(PARSE(q, &e, "-initrd", " x"), "-initrd: module 1");
}

/* -s, -S and -gdb become tinyvmm's --gdb and --gdb-wait. */
Test(qemu_cli, gdb_stub_options)
{
	assert_ok(PARSE(q, &e, "-s", "-S"));
	cr_assert(q->opts.gdb && q->opts.gdb_wait);
	cr_assert_not(q->opts.gdb_addr.is_unix);
	cr_assert_str_eq(q->opts.gdb_addr.host, "127.0.0.1");
	cr_assert_eq(q->opts.gdb_addr.port, 1234);
	assert_ok(PARSE(q, &e, "-gdb", "tcp:0.0.0.0:4321"));
	cr_assert(q->opts.gdb && !q->opts.gdb_wait);
	cr_assert_str_eq(q->opts.gdb_addr.host, "0.0.0.0");
	cr_assert_eq(q->opts.gdb_addr.port, 4321);
	assert_ok(PARSE(q, &e, "-gdb", "unix:/tmp/g.sock,server=on,wait=off", "-S"));
	cr_assert(q->opts.gdb_addr.is_unix && q->opts.gdb_wait);
	cr_assert_str_eq(q->opts.gdb_addr.path, "/tmp/g.sock");
	assert_ok(PARSE(q, &e, "-s", "-gdb", "none"));
	cr_assert_not(q->opts.gdb);
}

Test(qemu_cli, machine_accel_cpu)
{
	static char *const ok[][2] = {
		{ "-M", "pc" }, { "-machine", "pc,accel=kvm" }, { "-machine", "type=pc" },
		{ "-machine", "accel=kvm:tcg" }, { "-M", "pc-i440fx-7.2" }, { "-accel", "kvm" },
		{ "-accel", "accel=kvm" }, { "-cpu", "host" }, { "-cpu", "max" },
		{ "-enable-kvm", "-no-user-config" },
	};
	static char *const bad[][3] = {
		{ "-M", "q35", "machine type 'q35'" }, { "-M", "microvm", "'microvm'" },
		{ "-M", "pc,vmport=off", "parameter 'vmport'" }, { "-accel", "tcg", "KVM only" },
		{ "-machine", "accel=tcg", "KVM only" }, { "-accel", "kvm,kernel-irqchip=off",
		"parameter 'kernel-irqchip'" }, { "-cpu", "qemu64", "only host and max" },
		{ "-cpu", "host,-cx16", "only host and max" },
		{ "-M", "pc,hpet=maybe", "hpet=maybe is not on or off" },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_ok(PARSE(q, &e, ok[i][0], ok[i][1]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(PARSE(q, &e, bad[i][0], bad[i][1]), bad[i][2]);
}

/* QEMU's pc has an HPET unless -no-hpet or -machine hpet=off; the last
 * word wins. */
Test(qemu_cli, hpet_on_and_off)
{
	assert_ok(PARSE(q, &e, "-M", "pc"));
	cr_assert_not(q->opts.no_hpet);
	assert_ok(PARSE(q, &e, "-no-hpet"));
	cr_assert(q->opts.no_hpet);
	assert_ok(PARSE(q, &e, "-M", "pc,hpet=off"));
	cr_assert(q->opts.no_hpet);
	assert_ok(PARSE(q, &e, "-no-hpet", "-M", "pc,hpet=on"));
	cr_assert_not(q->opts.no_hpet);
	assert_ok(PARSE(q, &e, "-M", "hpet=off", "-M", "pc"));
	cr_assert(q->opts.no_hpet);
}

Test(qemu_cli, display_and_host_options)
{
	assert_ok(PARSE(q, &e, "-nographic", "-vga", "none", "-monitor", "none", "-vnc", "none",
			"-nodefaults", "-serial", "stdio", "-name", "guest=x,debug-threads=on",
			"-k", "de", "-net", "none", "-nic", "none", "-parallel", "none",
			"-rtc", "base=utc,clock=host,driftfix=none", "-pidfile", "/tmp/p"));
	cr_assert_eq(q->nwarnings, 0, "%s", q->warnings[0]);
	cr_assert_str_eq(q->pidfile, "/tmp/p");
	assert_ok(PARSE(q, &e, "-display", "gtk,zoom-to-fit=on", "-vnc", ":1",
			"-rtc", "driftfix=slew"));
	cr_assert_eq(q->nwarnings, 3);
	cr_assert(warned("-display gtk: tinyvmm has no display"));
	cr_assert(warned("-vnc :1"));
	cr_assert(warned("driftfix=slew"));
}

Test(qemu_cli, a_warning_is_given_once)
{
	assert_ok(PARSE(q, &e, "-vnc", ":1", "-vnc", ":1"));
	cr_assert_eq(q->nwarnings, 1);
}

Test(qemu_cli, refusals_name_the_option)
{
	static char *const cases[][3] = {
		{ "-S", NULL, "-S: tinyvmm has no monitor" },
		{ "-gdb", "udp::1234", "-gdb udp::1234: not supported" },
		{ "-gdb", "tcp:", "-gdb tcp:: not supported" },
		{ "-snapshot", NULL, "-snapshot: not supported by tinyvmm" },
		{ "-bios", "x.bin", "-bios: not supported" },
		{ "disk.img", NULL, "'disk.img': a disk image" },
		{ "-vga", "std", "-vga std: not supported" },
		{ "-monitor", "stdio", "-monitor stdio" }, { "-net", "user", "-net user" },
		{ "-rtc", "base=localtime", "base=localtime" }, { "-rtc", "clock=rt", "clock=rt" },
		{ "-display", "gl=on", "a display type is needed" },
		{ "-kernel", "-x", "-kernel '-x'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i][1])
			assert_refused(PARSE(q, &e, cases[i][0], cases[i][1]), cases[i][2]);
		else
			assert_refused(PARSE(q, &e, cases[i][0]), cases[i][2]);
	}
	assert_refused(qemu_cli_parse(ARGC("-m", "64"), ARGV("-m", "64"), q, &e), "no -kernel");
	assert_refused(qemu_cli_parse(ARGC("-kernel"), ARGV("-kernel"), q, &e),
		       "-kernel: requires an argument");
}

Test(qemu_cli, help_version_and_device_help)
{
	assert_ok(qemu_cli_parse(ARGC("-help", "-bogus"), ARGV("-help", "-bogus"), q, &e));
	cr_assert(q->opts.help, "at once, as QEMU");
	assert_ok(qemu_cli_parse(ARGC("-h"), ARGV("-h"), q, &e));
	cr_assert(q->opts.help);
	assert_ok(qemu_cli_parse(ARGC("--version"), ARGV("--version"), q, &e));
	cr_assert(q->opts.version);
	assert_ok(qemu_cli_parse(ARGC("-device", "help"), ARGV("-device", "help"), q, &e));
	cr_assert(q->opts.device_help);
	assert_ok(qemu_cli_parse(ARGC("-device", "?"), ARGV("-device", "?"), q, &e));
	cr_assert(q->opts.device_help);
	assert_refused(qemu_cli_parse(ARGC("-bogus", "-help"), ARGV("-bogus", "-help"), q, &e),
		       "-bogus");
}

Test(qemu_cli, device_help_is_in_qemus_format)
{
	char buf[1024] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	qemu_cli_print_devices(f);
	fclose(f);
	cr_assert(!strncmp(buf, "Storage devices:\nname \"virtio-blk-pci\", bus PCI, desc \"",
			   strlen("Storage devices:\nname \"virtio-blk-pci\", bus PCI, desc \"")), "%s", buf);
	cr_assert(strstr(buf, "\n\nMisc devices:\nname \"isa-debug-exit\", bus ISA, desc \""), "%s", buf);
}

Test(qemu_cli, wanted_by_name_or_flag)
{
	cr_assert(qemu_cli_wanted(1, (char *const[]){ "qemu-system-x86_64", NULL }));
	cr_assert(qemu_cli_wanted(1, (char *const[]){ "build/qemu/qemu-system-x86_64", NULL }));
	cr_assert(qemu_cli_wanted(2, (char *const[]){ "./tinyvmm", "--qemu", NULL }));
	cr_assert(!qemu_cli_wanted(1, (char *const[]){ "./tinyvmm", NULL }));
	cr_assert(!qemu_cli_wanted(1, (char *const[]){ "qemu-system-i386", NULL }));
	cr_assert(!qemu_cli_wanted(3, (char *const[]){ "tinyvmm", "g", "--qemu", NULL }));
}

Test(qemu_cli, exit_status_mapping)
{
	static const struct { int code; bool no_reboot; int status; } cases[] = {
		{ 1, false, 1 }, { 3, false, 3 }, { 255, true, 255 },
		{ VMM_EXIT_POWEROFF, false, 0 },
		{ VMM_EXIT_RESET, true, 0 }, { VMM_EXIT_RESET, false, QEMU_CLI_REBOOT },
		{ VMM_EXIT_USAGE, true, 1 }, { VMM_EXIT_ERROR, true, 1 },
		{ VMM_EXIT_GUEST_CRASH, true, 1 }, { VMM_EXIT_TIMEOUT, true, 1 },
		{ VMM_EXIT_DEADLOCK, false, 1 }, { VMM_EXIT_KILLED, false, 0 },
		{ VMM_EXIT_SIGNAL, false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		q->no_reboot = cases[i].no_reboot;
		cr_assert_eq(qemu_cli_exit_status(q, cases[i].code), cases[i].status,
			     "code %d", cases[i].code);
	}
}

/* QEMU: the monitor is on stdio with -nographic, and stdio takes one. */
Test(qemu_cli, nographic_and_serial_stdio_need_the_monitor_elsewhere)
{
	assert_refused(PARSE(q, &e, "-nographic", "-serial", "stdio"),
		       "cannot use stdio by multiple character devices");
	assert_refused(PARSE(q, &e, "-nographic", "-chardev", "stdio,id=s", "-serial",
			     "chardev:s"), "multiple character devices");
	assert_ok(PARSE(q, &e, "-nographic", "-serial", "stdio", "-monitor", "none"));
	assert_ok(PARSE(q, &e, "-nographic", "-serial", "stdio", "-nodefaults"));
	assert_ok(PARSE(q, &e, "-nographic", "-serial", "mon:stdio"));
	cr_assert_str_eq(q->opts.serial, "stdio");
}

Test(qemu_cli, limits_are_refused_in_qemus_terms)
{
	char *argv[64] = { "q", "-kernel", "g", "-display", "none" };
	int argc = 5;

	for (int i = 0; i < 5; i++) {
		argv[argc++] = "-drive";
		argv[argc++] = "file=a.img,if=virtio,format=raw";
	}
	assert_refused(qemu_cli_parse(argc, argv, q, &e),
		       "-device virtio-blk-pci: at most 4 disks");
	argc = 5;
	for (int i = 0; i <= VMM_MAX_DEVICES; i++) {
		argv[argc++] = "-device";
		argv[argc++] = "isa-debug-exit";
	}
	assert_refused(qemu_cli_parse(argc, argv, q, &e), "-device: at most 16");
}
