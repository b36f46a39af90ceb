#include "vmm/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/parse.h"
#include "vmm/exit_codes.h"

enum opt_id {
	OPT_MEM, OPT_CPUS, OPT_SERIAL, OPT_TRACE, OPT_STATS, OPT_TIMEOUT,
	OPT_DEVICE, OPT_DISK, OPT_INITRD, OPT_FW_CFG, OPT_GDB, OPT_GDB_WAIT,
	OPT_GDB_ARCH, OPT_MTREE, OPT_NO_SANDBOX, OPT_HALT_POLL_NS, OPT_NO_HPET, OPT_VERSION,
	OPT_HELP,
};

struct opt_spec {
	const char *short_name;		/* with its dash; NULL if none */
	const char *long_name;		/* with its dashes */
	bool has_arg;
	enum opt_id id;
};

/* -device is QEMU's spelling; --device is ours. */
static const struct opt_spec opt_specs[] = {
	{ "-m", "--mem", true, OPT_MEM },
	{ "-c", "--cpus", true, OPT_CPUS },
	{ NULL, "--serial", true, OPT_SERIAL },
	{ NULL, "--trace", false, OPT_TRACE },
	{ NULL, "--stats", false, OPT_STATS },
	{ NULL, "--timeout", true, OPT_TIMEOUT },
	{ "-device", "--device", true, OPT_DEVICE },
	{ NULL, "--disk", true, OPT_DISK },
	{ NULL, "--initrd", true, OPT_INITRD },
	{ NULL, "--fw-cfg", true, OPT_FW_CFG },
	{ NULL, "--gdb", true, OPT_GDB },
	{ NULL, "--gdb-wait", false, OPT_GDB_WAIT },
	{ NULL, "--gdb-arch", true, OPT_GDB_ARCH },
	{ NULL, "--mtree", false, OPT_MTREE },
	{ NULL, "--no-sandbox", false, OPT_NO_SANDBOX },
	{ NULL, "--halt-poll-ns", true, OPT_HALT_POLL_NS },
	{ NULL, "--no-hpet", false, OPT_NO_HPET },
	{ "-V", "--version", false, OPT_VERSION },
	{ "-h", "--help", false, OPT_HELP },
};

void options_print_help(const char *prog)
{
	printf("Usage: %s [options] GUEST.elf [-- guest command line]\n\n"
	       "Boots GUEST.elf in a KVM virtual machine: an ELF64 x86-64 image starts in\n"
	       "64-bit long mode at its entry point, a multiboot v1 image (ELF32, or the\n"
	       "a.out kludge) in 32-bit flat protected mode with EAX=0x2BADB002 and\n"
	       "EBX=multiboot info, as QEMU's -kernel.\n\n"
	       "Options:\n"
	       "  -m, --mem SIZE        guest RAM (K/M/G suffixes; default 128M, 2M..64G,\n"
	       "                        a multiple of 4K); above 3G the rest sits at 4G\n"
	       "  -c, --cpus N          vCPUs (1..%d; default 1)\n"
	       "      --serial OUT      COM1: stdio (default; input from stdin too), none,\n"
	       "                        or a file (output only)\n"
	       "      --trace           one line per exit on stderr\n"
	       "      --stats           exit counts by reason and by device at the end\n"
	       "      --timeout SECS    stop the VM after SECS seconds (exit code 8)\n"
	       "  -device, --device SPEC  add a device: NAME[,prop=value...];\n"
	       "                        'help' lists the types and their properties\n"
	       "      --disk FILE[,ro][,serial=ID]\n"
	       "                        a raw disk image as a virtio-blk PCI device\n"
	       "                        (read-only with ro; ID: up to 20 characters)\n"
	       "      --initrd \"FILE ARGS[,FILE ARGS...]\"\n"
	       "                        multiboot modules (up to %d), in this order; each\n"
	       "                        gets \"FILE ARGS\" as its string; ',,' is a comma\n"
	       "      --fw-cfg [name=]NAME,file=PATH | [name=]NAME,string=STR\n"
	       "                        a named fw_cfg item (up to %d; NAME: at most %d\n"
	       "                        bytes, by convention \"opt/...\"); ',,' is a comma\n"
	       "      --gdb [HOST:]PORT | unix:PATH\n"
	       "                        a GDB remote stub (TCP on 127.0.0.1 unless HOST\n"
	       "                        says otherwise, or a unix socket): `target remote`\n"
	       "      --gdb-wait        hold every vCPU before its first instruction until\n"
	       "                        the debugger continues (QEMU's -S)\n"
	       "      --gdb-arch i386|x86-64|dual\n"
	       "                        the register layout gdb sees (default: x86-64 for\n"
	       "                        an ELF64 guest; dual for multiboot, whose code\n"
	       "                        switches modes: 32- and 64-bit names of the same\n"
	       "                        registers, gdb's view follows `set architecture`)\n"
	       "      --mtree           print the memory region tree and each address\n"
	       "                        space's flat view, then exit\n"
	       "      --halt-poll-ns N  poll up to N ns for an interrupt before a halted\n"
	       "                        vCPU sleeps (0: never; default: adaptive, <= 200000)\n"
	       "      --no-hpet         no HPET at 0xfed00000 (QEMU's -no-hpet)\n"
	       "      --no-sandbox      no seccomp filter on tinyvmm's threads (debugging)\n"
	       "  -V, --version         print the version\n"
	       "  -h, --help            print this help\n\n"
	       "Exit codes:\n"
	       "  odd   the guest wrote v to the exit port 0xf4: code = ((v << 1) | 1) & 0xff\n"
	       "  %-5d the guest powered off (ACPI S5); --help, --version, -device help\n"
	       "  %-5d usage error (bad option or value)\n"
	       "  %-5d VMM error (missing or bad guest file, KVM or host failure)\n"
	       "  %-5d guest crash (triple fault, KVM internal error; registers on stderr)\n"
	       "  %-5d --timeout expired\n"
	       "  %-5d deadlock: every vCPU halted with interrupts off\n"
	       "  %-5d the guest reset the machine (0xcf9, 8042, port 0x92, ACPI)\n"
	       "  %-5d killed from the debugger (--gdb, gdb's kill)\n"
	       "  %-5d stopped by SIGTERM, SIGINT or SIGHUP (a second SIGINT: at once)\n"
	       "  %-5d the sandbox stopped a forbidden system call (named on stderr)\n",
	       prog, VMM_CPUS_MAX, VMM_MAX_MODULES, VMM_MAX_FW_CFG,
	       VMM_FW_CFG_NAME_MAX - 1, VMM_EXIT_INFO, VMM_EXIT_USAGE, VMM_EXIT_ERROR,
	       VMM_EXIT_GUEST_CRASH, VMM_EXIT_TIMEOUT, VMM_EXIT_DEADLOCK, VMM_EXIT_RESET,
	       VMM_EXIT_KILLED, VMM_EXIT_SIGNAL, VMM_EXIT_SANDBOX);
}

static int parse_mem(const char *arg, struct vmm_options *o, struct error *err)
{
	uint64_t v;

	if (parse_size(arg, &v))
		return error_setf(err, "--mem: '%s' is not a size (e.g. 512M, 2G)", arg);
	if (v < VMM_MEM_MIN || v > VMM_MEM_MAX)
		return error_setf(err, "--mem: %s is out of range (2M..64G)", arg);
	if (v & 0xfff)
		return error_setf(err, "--mem: %s is not a multiple of 4K", arg);
	o->mem_size = v;
	return 0;
}

static int parse_cpus(const char *arg, struct vmm_options *o, struct error *err)
{
	uint64_t v;

	if (parse_u64(arg, &v) || v < 1 || v > VMM_CPUS_MAX)
		return error_setf(err, "--cpus: '%s' is not a number from 1 to %d",
				  arg, VMM_CPUS_MAX);
	o->ncpus = (unsigned)v;
	return 0;
}

static int parse_timeout(const char *arg, struct vmm_options *o,
			 struct error *err)
{
	char *end;
	double v = strtod(arg, &end);

	/* An upper bound keeps the later timespec arithmetic in range. */
	if (end == arg || *end || !(v > 0) || v > 1e6)
		return error_setf(err, "--timeout: '%s' is not a number of seconds "
				  "(0 < SECS <= 1000000)", arg);
	o->timeout = v;
	return 0;
}

static int add_device(const char *arg, struct vmm_options *o, struct error *err)
{
	if (!strcmp(arg, "help")) {
		o->device_help = true;
		return 0;
	}
	if (o->ndevices == VMM_MAX_DEVICES)
		return error_setf(err, "--device: at most %d devices", VMM_MAX_DEVICES);
	o->devices[o->ndevices++] = arg;
	return 0;
}

/* One option after the file name: "ro" or "serial=ID". */
static int disk_option(const char *opt, size_t len, struct vmm_disk *d,
		       struct error *err)
{
	static const char serial[] = "serial=";
	size_t n = sizeof(serial) - 1;

	if (len == 2 && !strncmp(opt, "ro", 2)) {
		d->ro = true;
		return 0;
	}
	if (len >= n && !strncmp(opt, serial, n)) {
		if (len - n > VMM_DISK_SERIAL_MAX)
			return error_setf(err, "--disk: serial is at most %d "
					  "characters", VMM_DISK_SERIAL_MAX);
		memcpy(d->serial, opt + n, len - n);
		d->serial[len - n] = 0;
		return 0;
	}
	return error_setf(err, "--disk: unknown option '%.*s' (FILE[,ro][,serial=ID])",
			  (int)len, opt);
}

static int add_disk(const char *arg, struct vmm_options *o, struct error *err)
{
	struct vmm_disk *d = &o->disks[o->ndisks];
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);

	if (o->ndisks == VMM_MAX_DISKS)
		return error_setf(err, "--disk: at most %d disks", VMM_MAX_DISKS);
	if (!len || len >= sizeof(d->path))
		return error_setf(err, "--disk: '%s' does not name a file", arg);
	memset(d, 0, sizeof(*d));
	memcpy(d->path, arg, len);
	while (comma) {
		const char *opt = comma + 1;

		comma = strchr(opt, ',');
		if (disk_option(opt, comma ? (size_t)(comma - opt) : strlen(opt), d, err))
			return -1;
	}
	o->ndisks++;
	return 0;
}

/* Copies the next item of a ','-separated list at @s into @out, where ",,"
 * stands for a ',' (QEMU's option syntax); *@fits says whether it fitted in
 * @cap bytes. Returns where the next item starts, NULL after the last (so
 * "a," has an empty second item). */
static const char *next_item(const char *s, char *out, size_t cap, bool *fits)
{
	size_t n = 0;

	*fits = true;
	for (; *s && !(*s == ',' && s[1] != ','); s++) {
		if (*s == ',')
			s++;
		if (n + 1 < cap)
			out[n++] = *s;
		else
			*fits = false;
	}
	out[n] = 0;
	return *s ? s + 1 : NULL;
}

/* As QEMU's -initrd for multiboot: FILE is an item up to its first space. A
 * second --initrd replaces the first, as in QEMU. */
static int parse_initrd(const char *arg, struct vmm_options *o, struct error *err)
{
	const char *p = arg;

	o->nmodules = 0;
	do {
		struct vmm_module *m = &o->modules[o->nmodules];
		size_t len;
		bool fits;

		if (o->nmodules == VMM_MAX_MODULES)
			return error_setf(err, "--initrd: at most %d modules", VMM_MAX_MODULES);
		p = next_item(p, m->arg, sizeof(m->arg), &fits);
		if (!fits)
			return error_setf(err, "--initrd: module %u is longer than %d bytes",
					  o->nmodules + 1, VMM_MODULE_ARG_MAX - 1);
		len = strcspn(m->arg, " ");
		if (!len)
			return error_setf(err, "--initrd: module %u ('%s') has no file name "
					  "(\"FILE ARGS,...\")", o->nmodules + 1, m->arg);
		memcpy(m->path, m->arg, len);
		m->path[len] = 0;
		o->nmodules++;
	} while (p);
	return 0;
}

static int copy_fw_cfg_value(char *dst, size_t cap, const char *key,
			     const char *val, struct error *err)
{
	if (strlen(val) >= cap)
		return error_setf(err, "--fw-cfg: %s is longer than %zu bytes", key, cap - 1);
	strcpy(dst, val);
	return 0;
}

/* One KEY=VALUE of --fw-cfg; the first item may be the bare name. */
static int fw_cfg_item(const char *item, bool first, struct vmm_fw_cfg *f,
		       unsigned *nvalues, struct error *err)
{
	const char *eq = strchr(item, '=');
	size_t klen = eq ? (size_t)(eq - item) : 0;

	if (!eq && !first)
		return error_setf(err, "--fw-cfg: '%s' is not KEY=VALUE", item);
	if (!eq || (klen == 4 && !strncmp(item, "name", 4)))
		return copy_fw_cfg_value(f->name, sizeof(f->name), "name",
					 eq ? eq + 1 : item, err);
	if ((klen == 4 && !strncmp(item, "file", 4)) ||
	    (klen == 6 && !strncmp(item, "string", 6))) {
		f->is_file = klen == 4;
		(*nvalues)++;
		return copy_fw_cfg_value(f->value, sizeof(f->value),
					 f->is_file ? "file" : "string", eq + 1, err);
	}
	return error_setf(err, "--fw-cfg: unknown parameter '%.*s' (name, file or string)",
			  (int)klen, item);
}

/* QEMU's -fw_cfg rules: a name below 56 bytes, exactly one non-empty file
 * or string, no name twice. (QEMU warns about names outside "opt/"; whoever
 * adds the item can.) */
static int parse_fw_cfg(const char *arg, struct vmm_options *o, struct error *err)
{
	char item[VMM_FW_CFG_ARG_MAX + sizeof("string=")];
	struct vmm_fw_cfg *f = &o->fw_cfg[o->nfw_cfg];
	unsigned nvalues = 0;
	const char *p = arg;
	bool first = true, fits;

	if (o->nfw_cfg == VMM_MAX_FW_CFG)
		return error_setf(err, "--fw-cfg: at most %d items", VMM_MAX_FW_CFG);
	memset(f, 0, sizeof(*f));
	do {
		p = next_item(p, item, sizeof(item), &fits);
		if (!fits)
			return error_setf(err, "--fw-cfg: an item is longer than %d bytes",
					  VMM_FW_CFG_ARG_MAX - 1);
		if (fw_cfg_item(item, first, f, &nvalues, err))
			return -1;
		first = false;
	} while (p);
	if (!f->name[0] || nvalues != 1 || !f->value[0])
		return error_setf(err, "--fw-cfg: name, plus exactly one non-empty file "
				  "or string, are needed ([name=]NAME,file=PATH or "
				  "[name=]NAME,string=STR)");
	for (unsigned i = 0; i < o->nfw_cfg; i++)
		if (!strcmp(o->fw_cfg[i].name, f->name))
			return error_setf(err, "--fw-cfg: duplicate name '%s'", f->name);
	o->nfw_cfg++;
	return 0;
}

/* [HOST:]PORT, or unix:PATH. HOST is numeric: no resolver in the VMM. */
static int parse_gdb(const char *arg, struct vmm_options *o, struct error *err)
{
	struct vmm_gdb_addr *a = &o->gdb_addr;
	const char *colon = strrchr(arg, ':');
	const char *port = colon ? colon + 1 : arg;
	uint64_t v;

	memset(a, 0, sizeof(*a));
	o->gdb = true;
	if (!strncmp(arg, "unix:", 5)) {
		a->is_unix = true;
		if (!arg[5] || strlen(arg + 5) >= sizeof(a->path))
			return error_setf(err, "--gdb: unix socket path empty or longer "
					  "than %zu bytes", sizeof(a->path) - 1);
		strcpy(a->path, arg + 5);
		return 0;
	}
	if (parse_u64(port, &v) || v < 1 || v > 65535)
		return error_setf(err, "--gdb: '%s' is not [HOST:]PORT (1..65535) "
				  "or unix:PATH", arg);
	a->port = (unsigned)v;
	if (!colon || colon == arg) {
		strcpy(a->host, "127.0.0.1");
		return 0;
	}
	if ((size_t)(colon - arg) >= sizeof(a->host))
		return error_setf(err, "--gdb: host too long in '%s'", arg);
	memcpy(a->host, arg, (size_t)(colon - arg));
	return 0;
}

static int parse_gdb_arch(const char *arg, struct vmm_options *o,
			  struct error *err)
{
	if (!strcmp(arg, "i386"))
		o->gdb_arch = VMM_GDB_ARCH_I386;
	else if (!strcmp(arg, "x86-64") || !strcmp(arg, "i386:x86-64"))
		o->gdb_arch = VMM_GDB_ARCH_X86_64;
	else if (!strcmp(arg, "dual"))
		o->gdb_arch = VMM_GDB_ARCH_DUAL;
	else
		return error_setf(err, "--gdb-arch: '%s' is not i386, x86-64 or dual", arg);
	return 0;
}

static int parse_halt_poll(const char *arg, struct vmm_options *o,
			   struct error *err)
{
	uint64_t v;

	if (parse_u64(arg, &v) || v > VMM_HALT_POLL_NS_MAX)
		return error_setf(err, "--halt-poll-ns: '%s' is not a number of "
				  "nanoseconds from 0 to %d", arg, VMM_HALT_POLL_NS_MAX);
	o->halt_poll_ns = (long)v;
	return 0;
}

static int apply_option(enum opt_id id, const char *arg, struct vmm_options *o,
			struct error *err)
{
	switch (id) {
	case OPT_MEM:
		return parse_mem(arg, o, err);
	case OPT_CPUS:
		return parse_cpus(arg, o, err);
	case OPT_SERIAL:
		o->serial = arg;
		return *arg ? 0 : error_setf(err, "--serial: empty output name");
	case OPT_TRACE:
		o->trace = true;
		return 0;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_TIMEOUT:
		return parse_timeout(arg, o, err);
	case OPT_DEVICE:
		return add_device(arg, o, err);
	case OPT_DISK:
		return add_disk(arg, o, err);
	case OPT_INITRD:
		return parse_initrd(arg, o, err);
	case OPT_FW_CFG:
		return parse_fw_cfg(arg, o, err);
	case OPT_GDB:
		return parse_gdb(arg, o, err);
	case OPT_GDB_WAIT:
		o->gdb_wait = true;
		return 0;
	case OPT_GDB_ARCH:
		return parse_gdb_arch(arg, o, err);
	case OPT_MTREE:
		o->mtree = true;
		return 0;
	case OPT_NO_SANDBOX:
		o->no_sandbox = true;
		return 0;
	case OPT_HALT_POLL_NS:
		return parse_halt_poll(arg, o, err);
	case OPT_NO_HPET:
		o->no_hpet = true;
		return 0;
	case OPT_VERSION:
		o->version = true;
		return 0;
	case OPT_HELP:
		o->help = true;
		return 0;
	}
	return error_setf(err, "internal: unknown option id");
}

/* Matches "-m", "--mem", "--mem=VALUE"; sets *inline_arg for the last. */
static const struct opt_spec *find_option(const char *word,
					  const char **inline_arg)
{
	for (size_t i = 0; i < sizeof(opt_specs) / sizeof(opt_specs[0]); i++) {
		const struct opt_spec *s = &opt_specs[i];
		size_t n = strlen(s->long_name);

		*inline_arg = NULL;
		if (s->short_name && !strcmp(word, s->short_name))
			return s;
		if (!strncmp(word, s->long_name, n) &&
		    (word[n] == '\0' || (word[n] == '=' && s->has_arg))) {
			if (word[n] == '=')
				*inline_arg = word + n + 1;
			return s;
		}
	}
	return NULL;
}

static int join_cmdline(int argc, char *const argv[], int i,
			struct vmm_options *o, struct error *err)
{
	size_t used = 0;

	for (; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (used + n + 2 > sizeof(o->cmdline))
			return error_setf(err, "guest command line longer than %d bytes",
					  VMM_CMDLINE_MAX - 1);
		if (used)
			o->cmdline[used++] = ' ';
		memcpy(o->cmdline + used, argv[i], n + 1);
		used += n;
	}
	return 0;
}

static void options_defaults(struct vmm_options *o)
{
	memset(o, 0, sizeof(*o));
	o->mem_size = VMM_MEM_DEFAULT;
	o->ncpus = 1;
	o->serial = "stdio";
	o->halt_poll_ns = -1;
}

/* The words after the guest: nothing, or "--" and the guest command line. */
static int parse_guest_args(int argc, char *const argv[], int i,
			    struct vmm_options *o, struct error *err)
{
	if (i == argc)
		return 0;
	if (strcmp(argv[i], "--"))
		return error_setf(err, "unexpected '%s' after the guest file "
				  "(options go before it, the guest command line after --)",
				  argv[i]);
	return join_cmdline(argc, argv, i + 1, o, err);
}

int options_parse(int argc, char *const argv[], struct vmm_options *o,
		  struct error *err)
{
	int i;

	options_defaults(o);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *arg;
		const struct opt_spec *s = find_option(argv[i], &arg);

		if (!s)
			return error_setf(err, "unknown option '%s' (see --help)", argv[i]);
		if (s->has_arg && !arg) {
			if (i + 1 == argc)
				return error_setf(err, "%s needs a value", argv[i]);
			arg = argv[++i];
		}
		if (apply_option(s->id, arg, o, err))
			return -1;
	}
	if (o->help || o->version || o->device_help)
		return 0;
	if (i == argc)
		return error_setf(err, "no guest file given (see --help)");
	o->guest_path = argv[i];
	return parse_guest_args(argc, argv, i + 1, o, err);
}
