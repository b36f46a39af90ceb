#include "vmm/qemu_cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/parse.h"
#include "vmm/exit_codes.h"

#define MAX_CHARDEVS	8
#define MAX_DRIVES	8
#define KV_MAX		12
/* QEMU's isa-debug-exit, where -device gives no iobase/iosize. */
#define DEBUG_EXIT_IOBASE	"0x501"
#define DEBUG_EXIT_IOSIZE	"0x2"

struct chardev {
	const char *id;
	const char *out;		/* tinyvmm's serial output */
};

struct drive {
	const char *id, *file;
	bool ro, virtio, used;
};

struct blk {
	const char *drive, *serial;
};

/* What the options said, resolved into tinyvmm's words at the end (QEMU
 * too resolves drives and chardevs after reading every option). */
struct qemu_parse {
	struct qemu_cli *q;
	const char *kernel, *append, *initrd, *mem, *cpus;
	const char *serial;		/* COM1's -serial, as given */
	bool serial_none, nographic, display, nodefaults, monitor_none;
	bool no_hpet;			/* -no-hpet, -machine hpet=off */
	struct chardev chardevs[MAX_CHARDEVS];
	unsigned nchardevs;
	struct drive drives[MAX_DRIVES];
	unsigned ndrives;
	struct blk blks[VMM_MAX_DISKS];
	unsigned nblks;
	const char *devices[VMM_MAX_DEVICES];
	unsigned ndevices;
	const char *fw_cfg[VMM_MAX_FW_CFG];
	unsigned nfw_cfg;
	const char *gdb;		/* --gdb's value, from -gdb or -s */
	bool freeze;			/* -S */
};

/* ---- Words, warnings ---- */

static char *save_vf(struct qemu_cli *q, const char *fmt, va_list ap)
{
	size_t room = sizeof(q->arena) - q->arena_used;
	char *s = q->arena + q->arena_used;
	int n = vsnprintf(s, room, fmt, ap);

	if (n < 0 || (size_t)n >= room)
		return NULL;
	q->arena_used += (size_t)n + 1;
	return s;
}

/* A formatted copy that lives as long as @p->q; NULL (and @err) if full. */
static const char *save(struct qemu_parse *p, struct error *err,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *save(struct qemu_parse *p, struct error *err,
			const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = save_vf(p->q, fmt, ap);
	va_end(ap);
	if (!s)
		error_setf(err, "the command line is longer than %d bytes", QEMU_CLI_ARENA);
	return s;
}

/* One line per kind: the same warning twice is given once. */
static void warn(struct qemu_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warn(struct qemu_parse *p, const char *fmt, ...)
{
	struct qemu_cli *q = p->q;
	char line[QEMU_CLI_WARNING_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < q->nwarnings; i++)
		if (!strcmp(q->warnings[i], line))
			return;
	if (q->nwarnings < QEMU_CLI_MAX_WARNINGS)
		strcpy(q->warnings[q->nwarnings++], line);
}

static int add_word(struct qemu_cli *q, const char *w, struct error *err)
{
	if (!w)
		return -1;
	if (q->argc == QEMU_CLI_MAX_WORDS - 1)	/* and the NULL */
		return error_setf(err, "too many options");
	q->argv[q->argc++] = (char *)w;
	return 0;
}

/* ---- QEMU's KEY=VALUE lists ---- */

struct kv {
	const char *key, *val;
	bool taken;
};

struct kv_list {
	const char *opt;
	char buf[VMM_DISK_ARG_MAX + 256];
	struct kv kv[KV_MAX];
	unsigned n;
};

/* "a=1,b=2", where a bare first item is the value of @implied (QEMU's
 * implied key; NULL: none). QEMU's ",," (a comma inside a value) is
 * refused: tinyvmm's own lists cannot carry it. */
static int kv_split(struct kv_list *l, const char *opt, const char *arg,
		    const char *implied, struct error *err)
{
	char *item, *next;

	l->opt = opt;
	l->n = 0;
	if (strlen(arg) >= sizeof(l->buf))
		return error_setf(err, "%s: the value is too long", opt);
	if (strstr(arg, ",,"))
		return error_setf(err, "%s %s: ',,' (a comma in a value) is not supported",
				  opt, arg);
	strcpy(l->buf, arg);
	for (item = l->buf; item; item = next) {
		char *eq;

		next = strchr(item, ',');
		if (next)
			*next++ = 0;
		eq = strchr(item, '=');
		if (!*item)
			return error_setf(err, "%s %s: an empty parameter", opt, arg);
		if (l->n == KV_MAX)
			return error_setf(err, "%s: too many parameters", opt);
		if (eq) {
			*eq = 0;
			l->kv[l->n++] = (struct kv){ item, eq + 1, false };
		} else if (!l->n && implied) {
			l->kv[l->n++] = (struct kv){ implied, item, false };
		} else {
			return error_setf(err, "%s: '%s' is not KEY=VALUE", opt, item);
		}
	}
	return 0;
}

/* The value of @key (the last one wins, as in QEMU), or NULL. */
static const char *kv_get(struct kv_list *l, const char *key)
{
	const char *val = NULL;

	for (unsigned i = 0; i < l->n; i++) {
		if (!strcmp(l->kv[i].key, key)) {
			l->kv[i].taken = true;
			val = l->kv[i].val;
		}
	}
	return val;
}

/* Every parameter nobody took is refused by name. */
static int kv_done(const struct kv_list *l, struct error *err)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!l->kv[i].taken)
			return error_setf(err, "%s: parameter '%s' is not supported",
					  l->opt, l->kv[i].key);
	return 0;
}

static int kv_bool(const struct kv_list *l, const char *key, const char *val,
		   bool *out, struct error *err)
{
	if (val && parse_bool(val, out))
		return error_setf(err, "%s: %s=%s is not on or off", l->opt, key, val);
	return 0;
}

/* ---- -m, -smp ---- */

/* QEMU's sizes: a number, a fraction only with a suffix (B K M G T P E,
 * any case), MiB without one. */
static int qemu_size(const char *s, uint64_t *out)
{
	static const char units[] = "BKMGTPE";
	unsigned long long whole;
	double frac = 0;
	unsigned shift = 20;
	const char *u;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	whole = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == '.') {
		if (!isdigit((unsigned char)end[1]))
			return -1;
		frac = strtod(end, &end);
	}
	if (*end) {
		u = strchr(units, toupper((unsigned char)*end));
		if (!u || end[1])
			return -1;
		shift = 10 * (unsigned)(u - units);
	} else if (frac) {
		return -1;
	}
	if (whole > (UINT64_MAX >> shift) - 1)
		return -1;
	*out = ((uint64_t)whole << shift) + (uint64_t)(frac * (double)(1ull << shift));
	return 0;
}

static int opt_mem(struct qemu_parse *p, const char *arg, struct error *err)
{
	struct kv_list l;
	const char *size;
	uint64_t v;

	if (kv_split(&l, "-m", arg, "size", err))
		return -1;
	size = kv_get(&l, "size");
	if (kv_done(&l, err))
		return -1;
	if (!size || qemu_size(size, &v))
		return error_setf(err, "-m %s: not a size (e.g. 128, 128M, 1G)", arg);
	v = (v + 8191) & ~8191ull;	/* QEMU rounds RAM up to 8 KiB */
	if (v < VMM_MEM_MIN || v > VMM_MEM_MAX)
		return error_setf(err, "-m %s: tinyvmm takes 2M..64G of RAM", arg);
	p->mem = save(p, err, "--mem=%llu", (unsigned long long)v);
	return p->mem ? 0 : -1;
}

enum { SMP_CPUS, SMP_MAXCPUS, SMP_SOCKETS, SMP_DIES, SMP_CLUSTERS, SMP_CORES,
       SMP_THREADS, SMP_N };

static int smp_values(struct qemu_parse *p, struct kv_list *l,
		      uint64_t v[SMP_N], struct error *err)
{
	static const char *const keys[SMP_N] = {
		"cpus", "maxcpus", "sockets", "dies", "clusters", "cores", "threads",
	};

	for (int i = 0; i < SMP_N; i++) {
		const char *s = kv_get(l, keys[i]);

		v[i] = 0;
		/* Bounded, so that their product cannot overflow. */
		if (s && (parse_u64(s, &v[i]) || v[i] > 1024))
			return error_setf(err, "-smp: %s=%s is not a CPU count", keys[i], s);
		if (s && !v[i])	/* QEMU: deprecated, taken as not given */
			warn(p, "-smp %s=0: taken as not given, as QEMU does", keys[i]);
	}
	if (v[SMP_CLUSTERS] > 1)
		return error_setf(err, "-smp clusters=%llu: not supported by the pc machine",
				  (unsigned long long)v[SMP_CLUSTERS]);
	return 0;
}

/* QEMU 7.2's smp_parse for pc (cores preferred over sockets), folded to a
 * CPU count: tinyvmm's vCPUs have no topology of their own. */
static int opt_smp(struct qemu_parse *p, const char *arg, struct error *err)
{
	uint64_t v[SMP_N], total;
	struct kv_list l;

	if (kv_split(&l, "-smp", arg, "cpus", err) || smp_values(p, &l, v, err) ||
	    kv_done(&l, err))
		return -1;
	v[SMP_DIES] = v[SMP_DIES] ? v[SMP_DIES] : 1;
	if (!v[SMP_CPUS] && !v[SMP_MAXCPUS]) {
		v[SMP_SOCKETS] = v[SMP_SOCKETS] ? v[SMP_SOCKETS] : 1;
		v[SMP_CORES] = v[SMP_CORES] ? v[SMP_CORES] : 1;
		v[SMP_THREADS] = v[SMP_THREADS] ? v[SMP_THREADS] : 1;
	} else {
		v[SMP_MAXCPUS] = v[SMP_MAXCPUS] ? v[SMP_MAXCPUS] : v[SMP_CPUS];
		v[SMP_SOCKETS] = v[SMP_SOCKETS] ? v[SMP_SOCKETS] : 1;
		if (!v[SMP_CORES]) {
			v[SMP_THREADS] = v[SMP_THREADS] ? v[SMP_THREADS] : 1;
			v[SMP_CORES] = v[SMP_MAXCPUS] /
				       (v[SMP_SOCKETS] * v[SMP_DIES] * v[SMP_THREADS]);
		} else if (!v[SMP_THREADS]) {
			v[SMP_THREADS] = v[SMP_MAXCPUS] /
					 (v[SMP_SOCKETS] * v[SMP_DIES] * v[SMP_CORES]);
		}
	}
	total = v[SMP_SOCKETS] * v[SMP_DIES] * v[SMP_CORES] * v[SMP_THREADS];
	v[SMP_MAXCPUS] = v[SMP_MAXCPUS] ? v[SMP_MAXCPUS] : total;
	v[SMP_CPUS] = v[SMP_CPUS] ? v[SMP_CPUS] : v[SMP_MAXCPUS];
	if (total != v[SMP_MAXCPUS])
		return error_setf(err, "-smp %s: invalid CPU topology: sockets * dies * "
				  "cores * threads must be maxcpus", arg);
	if (v[SMP_MAXCPUS] < v[SMP_CPUS])
		return error_setf(err, "-smp %s: maxcpus is below cpus", arg);
	if (v[SMP_CPUS] > VMM_CPUS_MAX)
		return error_setf(err, "-smp %s: tinyvmm takes 1..%d CPUs", arg, VMM_CPUS_MAX);
	if (v[SMP_MAXCPUS] > v[SMP_CPUS])
		warn(p, "-smp maxcpus=%llu: no CPU hot-plug; the guest sees %llu CPUs",
		     (unsigned long long)v[SMP_MAXCPUS], (unsigned long long)v[SMP_CPUS]);
	p->cpus = save(p, err, "--cpus=%llu", (unsigned long long)v[SMP_CPUS]);
	return p->cpus ? 0 : -1;
}

/* ---- Machine, accelerator, CPU ---- */

static bool accel_is_kvm(const char *a)
{
	/* QEMU's "kvm:tcg" list: the first that works is used. */
	return !strcmp(a, "kvm") || !strncmp(a, "kvm:", 4);
}

static int check_accel(const char *opt, const char *a, struct error *err)
{
	if (a && !accel_is_kvm(a))
		return error_setf(err, "%s: accelerator '%s' is not supported: tinyvmm runs "
				  "guests with KVM only", opt, a);
	return 0;
}

static int opt_machine(struct qemu_parse *p, const char *arg, struct error *err)
{
	struct kv_list l;
	const char *type;
	bool hpet = !p->no_hpet;

	if (kv_split(&l, "-machine", arg, "type", err))
		return -1;
	type = kv_get(&l, "type");
	if (type && strcmp(type, "pc") && strcmp(type, "pc-i440fx-7.2"))
		return error_setf(err, "-machine %s: machine type '%s' is not supported "
				  "(tinyvmm is QEMU's pc)", arg, type);
	if (check_accel("-machine", kv_get(&l, "accel"), err) ||
	    kv_bool(&l, "hpet", kv_get(&l, "hpet"), &hpet, err) || kv_done(&l, err))
		return -1;
	p->no_hpet = !hpet;
	return 0;
}

static int opt_no_hpet(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	p->no_hpet = true;
	return 0;
}

static int opt_accel(struct qemu_parse *p, const char *arg, struct error *err)
{
	struct kv_list l;

	(void)p;
	if (kv_split(&l, "-accel", arg, "accel", err))
		return -1;
	return check_accel("-accel", kv_get(&l, "accel"), err) || kv_done(&l, err) ? -1 : 0;
}

static int opt_cpu(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)p;
	if (strcmp(arg, "host") && strcmp(arg, "max"))
		return error_setf(err, "-cpu %s: only host and max are supported (the "
				  "guest sees KVM's CPUID), without feature flags", arg);
	return 0;
}

/* ---- Serial, chardevs, display ---- */

/* tinyvmm's serial output for a file: "stdio" and "none" are its words. */
static const char *serial_file(struct qemu_parse *p, const char *path,
			       struct error *err)
{
	if (!*path)
		return error_setf(err, "an empty file name"), NULL;
	if (!strcmp(path, "stdio") || !strcmp(path, "none"))
		return save(p, err, "./%s", path);
	return save(p, err, "%s", path);
}

static int opt_serial(struct qemu_parse *p, const char *arg, struct error *err)
{
	if (!strcmp(arg, "none")) {
		p->serial_none = true;	/* takes no port, as in QEMU */
		return 0;
	}
	if (p->serial && strcmp(arg, "null"))
		return error_setf(err, "-serial %s: tinyvmm has one serial port (COM1)", arg);
	if (!p->serial)
		p->serial = arg;
	return 0;
}

static int opt_chardev(struct qemu_parse *p, const char *arg, struct error *err)
{
	struct chardev *c = &p->chardevs[p->nchardevs];
	const char *backend, *path;
	struct kv_list l;

	if (p->nchardevs == MAX_CHARDEVS)
		return error_setf(err, "-chardev: at most %d", MAX_CHARDEVS);
	if (kv_split(&l, "-chardev", arg, "backend", err))
		return -1;
	backend = kv_get(&l, "backend");
	c->id = kv_get(&l, "id");
	path = kv_get(&l, "path");
	if (!c->id || !*c->id)
		return error_setf(err, "-chardev %s: an id= is needed", arg);
	if (backend && !strcmp(backend, "stdio") && !path)
		c->out = "stdio";
	else if (backend && !strcmp(backend, "null") && !path)
		c->out = "none";
	else if (backend && !strcmp(backend, "file") && path)
		c->out = serial_file(p, path, err);
	else
		return error_setf(err, "-chardev %s: only stdio, null and file,path=PATH "
				  "are supported", arg);
	for (unsigned i = 0; i < p->nchardevs; i++)
		if (!strcmp(p->chardevs[i].id, c->id))
			return error_setf(err, "-chardev: duplicate id '%s'", c->id);
	c->id = save(p, err, "%s", c->id);
	if (!c->id || !c->out || kv_done(&l, err))
		return -1;
	p->nchardevs++;
	return 0;
}

static int opt_display(struct qemu_parse *p, const char *arg, struct error *err)
{
	struct kv_list l;
	const char *type;

	if (kv_split(&l, "-display", arg, "type", err))
		return -1;
	type = kv_get(&l, "type");
	if (!type)
		return error_setf(err, "-display %s: a display type is needed", arg);
	if (strcmp(type, "none")) {
		for (unsigned i = 0; i < l.n; i++)
			l.kv[i].taken = true;	/* display options: host side only */
		warn(p, "-display %s: tinyvmm has no display; taken as -display none", type);
	}
	p->display = true;
	return kv_done(&l, err);
}

static int opt_nographic(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg, (void)err;
	p->nographic = true;
	return 0;
}

static int opt_nodefaults(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg, (void)err;
	p->nodefaults = true;
	return 0;
}

/* -vga, -monitor, -net, -nic, -parallel: only "none", which tinyvmm is. */
static int only_none(const char *opt, const char *arg, struct error *err)
{
	if (strcmp(arg, "none"))
		return error_setf(err, "%s %s: not supported (only %s none)", opt, arg, opt);
	return 0;
}

#define ONLY_NONE(fn, opt) \
	static int fn(struct qemu_parse *p, const char *arg, struct error *err) \
	{ \
		(void)p; \
		return only_none(opt, arg, err); \
	}
ONLY_NONE(opt_vga, "-vga")
ONLY_NONE(opt_net, "-net")
ONLY_NONE(opt_nic, "-nic")
ONLY_NONE(opt_parallel, "-parallel")

static int opt_monitor(struct qemu_parse *p, const char *arg, struct error *err)
{
	p->monitor_none = true;
	return only_none("-monitor", arg, err);
}

static int opt_vnc(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)err;
	if (strcmp(arg, "none")) {
		warn(p, "-vnc %s: tinyvmm has no display and no VNC server", arg);
		p->display = true;	/* said once */
	}
	return 0;
}

/* ---- Boot ---- */

static int opt_kernel(struct qemu_parse *p, const char *arg, struct error *err)
{
	if (!*arg || arg[0] == '-')
		return error_setf(err, "-kernel '%s': not a file name tinyvmm takes", arg);
	p->kernel = arg;
	return 0;
}

static int opt_append(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)err;
	p->append = arg;
	return 0;
}

static int opt_initrd(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)err;
	p->initrd = arg;	/* a second one replaces the first, as in QEMU */
	return 0;
}

static int opt_fw_cfg(struct qemu_parse *p, const char *arg, struct error *err)
{
	if (p->nfw_cfg == VMM_MAX_FW_CFG)
		return error_setf(err, "-fw_cfg: at most %d items", VMM_MAX_FW_CFG);
	p->fw_cfg[p->nfw_cfg++] = arg;
	return 0;
}

static int opt_rtc(struct qemu_parse *p, const char *arg, struct error *err)
{
	const char *base, *clock, *driftfix;
	struct kv_list l;

	if (kv_split(&l, "-rtc", arg, NULL, err))
		return -1;
	base = kv_get(&l, "base");
	clock = kv_get(&l, "clock");
	driftfix = kv_get(&l, "driftfix");
	if (base && strcmp(base, "utc"))
		return error_setf(err, "-rtc base=%s: only base=utc (the RTC keeps UTC)", base);
	if (clock && strcmp(clock, "host") && strcmp(clock, "vm"))
		return error_setf(err, "-rtc clock=%s: only host or vm", clock);
	if (driftfix && strcmp(driftfix, "none"))
		warn(p, "-rtc driftfix=%s: not honoured (no lost-tick catch-up)", driftfix);
	return kv_done(&l, err);
}

/* ---- Host integration ---- */

static int opt_no_reboot(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg, (void)err;
	p->q->no_reboot = true;
	return 0;
}

static int opt_pidfile(struct qemu_parse *p, const char *arg, struct error *err)
{
	if (!*arg)
		return error_setf(err, "-pidfile: an empty file name");
	p->q->pidfile = arg;
	return 0;
}

/* -gdb tcp::PORT | tcp:HOST:PORT | unix:PATH[,server=on,wait=off] | none:
 * tinyvmm's stub always listens (as a server) and never waits for the
 * connection itself (-S does). */
static int opt_gdb(struct qemu_parse *p, const char *arg, struct error *err)
{
	size_t n = strcspn(arg, ",");

	if (!strcmp(arg, "none")) {
		p->gdb = NULL;
		return 0;
	}
	if (!strncmp(arg, "tcp:", 4) && n > 4)
		p->gdb = save(p, err, "%.*s", (int)(n - 4 - (arg[4] == ':')),
			      arg + 4 + (arg[4] == ':'));
	else if (!strncmp(arg, "unix:", 5) && n > 5)
		p->gdb = save(p, err, "%.*s", (int)n, arg);
	else
		return error_setf(err, "-gdb %s: not supported (tcp::PORT, tcp:HOST:PORT, "
				  "unix:PATH, none)", arg);
	return p->gdb ? 0 : -1;
}

/* -s: -gdb tcp::1234, QEMU's shorthand. */
static int opt_gdb_default(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg;
	return opt_gdb(p, "tcp::1234", err);
}

static int opt_freeze(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg, (void)err;
	p->freeze = true;
	return 0;
}

/* -name, -k, -enable-kvm, -no-user-config: nothing to do headless. */
static int opt_accepted(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)p, (void)arg, (void)err;
	return 0;
}

static int opt_help(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg, (void)err;
	p->q->opts.help = true;
	return 0;
}

static int opt_version(struct qemu_parse *p, const char *arg, struct error *err)
{
	(void)arg, (void)err;
	p->q->opts.version = true;
	return 0;
}

/* ---- Drives and devices ---- */

static struct drive *find_drive(struct qemu_parse *p, const char *id)
{
	for (unsigned i = 0; i < p->ndrives; i++)
		if (p->drives[i].id && !strcmp(p->drives[i].id, id))
			return &p->drives[i];
	return NULL;
}

static int drive_interface(struct qemu_parse *p, struct kv_list *l,
			   struct drive *d, struct error *err)
{
	const char *iface = kv_get(l, "if"), *id = kv_get(l, "id");

	if (!iface)
		return error_setf(err, "-drive: if=ide (QEMU's default) is not supported: "
				  "use if=virtio, or if=none with -device virtio-blk-pci");
	if (strcmp(iface, "none") && strcmp(iface, "virtio"))
		return error_setf(err, "-drive: if=%s is not supported (none or virtio)", iface);
	d->virtio = !strcmp(iface, "virtio");
	if (!id && !d->virtio)
		return error_setf(err, "-drive if=none: an id= is needed");
	if (id && find_drive(p, id))
		return error_setf(err, "-drive: duplicate id '%s'", id);
	d->id = id ? save(p, err, "%s", id) : NULL;
	return id && !d->id ? -1 : 0;
}

static int drive_host_side(struct qemu_parse *p, struct kv_list *l,
			   struct error *err)
{
	const char *format = kv_get(l, "format"), *cache = kv_get(l, "cache");
	const char *media = kv_get(l, "media"), *aio = kv_get(l, "aio");

	if (format && strcmp(format, "raw"))
		return error_setf(err, "-drive format=%s: only raw images", format);
	if (!format)
		warn(p, "-drive: no format= given: the image is read as raw");
	if (media && strcmp(media, "disk"))
		return error_setf(err, "-drive media=%s: only disks", media);
	if (cache && strcmp(cache, "writeback"))
		warn(p, "-drive cache=%s: not honoured (tinyvmm writes back; a guest "
		     "FLUSH is fdatasync)", cache);
	if (aio)
		warn(p, "-drive aio=%s: not honoured (an I/O thread does preadv/pwritev)", aio);
	return 0;
}

static int opt_drive(struct qemu_parse *p, const char *arg, struct error *err)
{
	struct drive *d = &p->drives[p->ndrives];
	struct kv_list l;
	const char *file;

	if (p->ndrives == MAX_DRIVES)
		return error_setf(err, "-drive: at most %d", MAX_DRIVES);
	if (kv_split(&l, "-drive", arg, NULL, err))
		return -1;
	memset(d, 0, sizeof(*d));
	file = kv_get(&l, "file");
	if (!file || !*file)
		return error_setf(err, "-drive %s: a file= is needed", arg);
	d->file = save(p, err, "%s", file);
	if (!d->file || drive_interface(p, &l, d, err) || drive_host_side(p, &l, err) ||
	    kv_bool(&l, "readonly", kv_get(&l, "readonly"), &d->ro, err) ||
	    kv_done(&l, err))
		return -1;
	p->ndrives++;
	return 0;
}

static int dev_virtio_blk(struct qemu_parse *p, struct kv_list *l,
			  struct error *err)
{
	struct blk *b = &p->blks[p->nblks];

	if (p->nblks == VMM_MAX_DISKS)
		return error_setf(err, "-device virtio-blk-pci: at most %d disks",
				  VMM_MAX_DISKS);
	b->drive = kv_get(l, "drive");
	b->serial = kv_get(l, "serial");
	kv_get(l, "id");
	if (!b->drive)
		return error_setf(err, "-device virtio-blk-pci: drive property not set");
	b->drive = save(p, err, "%s", b->drive);
	b->serial = b->serial ? save(p, err, "%s", b->serial) : NULL;
	if (!b->drive || kv_done(l, err))
		return -1;
	p->nblks++;
	return 0;
}

static int dev_debug_exit(struct qemu_parse *p, struct kv_list *l,
			  struct error *err)
{
	const char *iobase = kv_get(l, "iobase"), *iosize = kv_get(l, "iosize");
	const char *spec;

	kv_get(l, "id");
	if (kv_done(l, err))
		return -1;
	if (p->ndevices == VMM_MAX_DEVICES)
		return error_setf(err, "-device: at most %d", VMM_MAX_DEVICES);
	spec = save(p, err, "isa-debug-exit,iobase=%s,iosize=%s",
		    iobase ? iobase : DEBUG_EXIT_IOBASE, iosize ? iosize : DEBUG_EXIT_IOSIZE);
	if (!spec)
		return -1;
	p->devices[p->ndevices++] = spec;
	return 0;
}

/* The devices -device takes, in QEMU's categories (its -device help). */
static const struct qemu_device {
	const char *name, *category, *bus;
	int (*add)(struct qemu_parse *p, struct kv_list *l, struct error *err);
} qemu_devices[] = {
	{ "virtio-blk-pci", "Storage", "PCI", dev_virtio_blk },
	{ "isa-debug-exit", "Misc", "ISA", dev_debug_exit },
};
#define NDEVICES (sizeof(qemu_devices) / sizeof(qemu_devices[0]))

static int opt_device(struct qemu_parse *p, const char *arg, struct error *err)
{
	struct kv_list l;
	const char *driver;

	if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
		p->q->opts.device_help = true;
		return 0;
	}
	if (kv_split(&l, "-device", arg, "driver", err))
		return -1;
	driver = kv_get(&l, "driver");
	for (size_t i = 0; i < NDEVICES; i++)
		if (driver && !strcmp(driver, qemu_devices[i].name))
			return qemu_devices[i].add(p, &l, err);
	return error_setf(err, "-device %s: '%s' is not supported (-device help "
			  "lists what is)", arg, driver ? driver : "");
}

/* ---- The table ---- */

struct qemu_option {
	const char *name;	/* QEMU takes it with one dash or two */
	const char *arg;	/* the value, as -help names it; NULL: none */
	int (*apply)(struct qemu_parse *p, const char *arg, struct error *err);
	/* For -help; NULL: not listed (a synonym). Without @apply: why the
	 * option is refused. */
	const char *help;
};

static const struct qemu_option qemu_options[] = {
	{ "kernel", "FILE", opt_kernel, "the guest: ELF64, or multiboot (ELF32, a.out kludge)" },
	{ "append", "CMDLINE", opt_append, "the guest's command line (it sees \"FILE CMDLINE\")" },
	{ "initrd", "\"FILE ARGS,...\"", opt_initrd, "multiboot modules (',,' is a comma)" },
	{ "m", "[size=]SIZE", opt_mem, "RAM: MiB, or with a K M G T suffix; 2M..64G" },
	{ "smp", "[cpus=]N[,maxcpus=,sockets=,dies=,cores=,threads=]", opt_smp,
	  "vCPUs (the topology is folded to a count)" },
	{ "machine", "[type=]pc[,accel=kvm][,hpet=on|off]", opt_machine, "the machine: pc only" },
	{ "M", "[type=]pc[,accel=kvm][,hpet=on|off]", opt_machine, NULL },
	{ "no-hpet", NULL, opt_no_hpet, "no HPET (the same as -machine hpet=off)" },
	{ "accel", "kvm", opt_accel, "the accelerator: kvm only" },
	{ "enable-kvm", NULL, opt_accepted, "the same as -accel kvm (always)" },
	{ "cpu", "host|max", opt_cpu, "the CPU: KVM's CPUID" },
	{ "serial", "stdio|null|none|file:PATH|chardev:ID|mon:stdio", opt_serial,
	  "COM1's output" },
	{ "chardev", "stdio|null|file,id=ID[,path=PATH]", opt_chardev,
	  "an output for -serial chardev:ID" },
	{ "nographic", NULL, opt_nographic, "no display; COM1 on stdio unless -serial" },
	{ "display", "none", opt_display, "no display (others: warned, as none)" },
	{ "vga", "none", opt_vga, "no VGA (tinyvmm has none)" },
	{ "vnc", "none", opt_vnc, "no VNC server (others: warned)" },
	{ "monitor", "none", opt_monitor, "no monitor (tinyvmm has none)" },
	{ "nodefaults", NULL, opt_nodefaults, "no default devices (COM1 stays: warned)" },
	{ "net", "none", opt_net, "no network" },
	{ "nic", "none", opt_nic, "no network" },
	{ "parallel", "none", opt_parallel, "no parallel port" },
	{ "device", "isa-debug-exit[,iobase=,iosize=]|virtio-blk-pci,drive=ID[,serial=]|help",
	  opt_device, "a device (-device help lists them)" },
	{ "drive", "file=FILE,if=none|virtio[,id=,format=raw,readonly=on,cache=]",
	  opt_drive, "a raw disk image" },
	{ "fw_cfg", "[name=]NAME,file=FILE|string=STR", opt_fw_cfg, "a named fw_cfg item" },
	{ "rtc", "base=utc[,clock=host|vm]", opt_rtc, "the RTC keeps UTC" },
	{ "no-reboot", NULL, opt_no_reboot, "a guest reset ends tinyvmm (status 0)" },
	{ "pidfile", "FILE", opt_pidfile, "write the process ID to FILE" },
	{ "name", "NAME", opt_accepted, "accepted (no window to title)" },
	{ "k", "LANG", opt_accepted, "accepted (no display, no keymap)" },
	{ "no-user-config", NULL, opt_accepted, "accepted (no config files)" },
	{ "s", NULL, opt_gdb_default, "the GDB stub on TCP port 1234 (-gdb tcp::1234)" },
	{ "S", NULL, opt_freeze, "vCPUs wait for the debugger's continue (needs -s or -gdb)" },
	{ "gdb", "tcp::PORT|tcp:HOST:PORT|unix:PATH|none", opt_gdb, "the GDB stub" },
	{ "h", NULL, opt_help, NULL },
	{ "help", NULL, opt_help, "print this help" },
	{ "version", NULL, opt_version, "print the version" },
};

static const struct qemu_option *find_option(const char *word)
{
	if (word[0] != '-')
		return NULL;
	word += word[1] == '-' ? 2 : 1;
	for (size_t i = 0; i < sizeof(qemu_options) / sizeof(qemu_options[0]); i++)
		if (!strcmp(word, qemu_options[i].name))
			return &qemu_options[i];
	return NULL;
}

/* ---- Resolving into tinyvmm's command line ---- */

static const char *find_chardev(struct qemu_parse *p, const char *id)
{
	for (unsigned i = 0; i < p->nchardevs; i++)
		if (!strcmp(p->chardevs[i].id, id))
			return p->chardevs[i].out;
	return NULL;
}

static const char *serial_output(struct qemu_parse *p, struct error *err)
{
	const char *s = p->serial, *out;

	if (!strcmp(s, "stdio"))
		return "stdio";
	if (!strcmp(s, "null"))
		return "none";
	if (!strncmp(s, "file:", 5))
		return serial_file(p, s + 5, err);
	if (!strncmp(s, "chardev:", 8)) {
		out = find_chardev(p, s + 8);
		if (!out)
			error_setf(err, "-serial %s: no -chardev with id '%s'", s, s + 8);
		return out;
	}
	error_setf(err, "-serial %s: not supported (stdio, null, none, file:PATH, "
		   "chardev:ID, mon:stdio)", s);
	return NULL;
}

/* -nographic puts QEMU's monitor on stdio, unless -monitor none or
 * -nodefaults; QEMU then refuses a serial port there too. */
static const char *serial_given(struct qemu_parse *p, struct error *err)
{
	const char *out;

	if (!strcmp(p->serial, "mon:stdio")) {
		warn(p, "-serial mon:stdio: tinyvmm has no monitor; COM1 on stdio");
		return "stdio";
	}
	out = serial_output(p, err);
	if (out && !strcmp(out, "stdio") && p->nographic && !p->monitor_none &&
	    !p->nodefaults) {
		error_setf(err, "-serial %s: cannot use stdio by multiple character devices "
			   "(-nographic puts the monitor there: add -monitor none)", p->serial);
		return NULL;
	}
	return out;
}

/* QEMU 7.2's default serial: stdio with -nographic, else a graphical
 * console, which is nowhere for tinyvmm; none with -nodefaults or
 * -serial none. tinyvmm's COM1 is always there. */
static const char *resolve_serial(struct qemu_parse *p, struct error *err)
{
	if (!p->nographic && !p->display)
		warn(p, "no -nographic or -display none: tinyvmm has no display");
	if (p->serial)
		return serial_given(p, err);
	if (p->serial_none || p->nodefaults) {
		warn(p, "%s: COM1 stays present (its output is discarded); QEMU would "
		     "have no serial port", p->serial_none ? "-serial none" : "-nodefaults");
		return "none";
	}
	return p->nographic ? "stdio" : "none";
}

static int add_disk(struct qemu_parse *p, struct drive *d, const char *serial,
		    struct error *err)
{
	if (strchr(d->file, ','))
		return error_setf(err, "-drive file=%s: a ',' in the file name is not "
				  "supported", d->file);
	return add_word(p->q, save(p, err, "--disk=%s%s%s%s", d->file, d->ro ? ",ro" : "",
				   serial ? ",serial=" : "", serial ? serial : ""), err);
}

/* -device virtio-blk-pci in order, then the if=virtio drives, as QEMU
 * adds their devices after the command line's. */
static int resolve_disks(struct qemu_parse *p, struct error *err)
{
	for (unsigned i = 0; i < p->nblks; i++) {
		struct drive *d = find_drive(p, p->blks[i].drive);

		if (!d || d->virtio)
			return error_setf(err, "-device virtio-blk-pci,drive=%s: no -drive "
					  "if=none with id '%s'", p->blks[i].drive, p->blks[i].drive);
		if (d->used)
			return error_setf(err, "-device virtio-blk-pci,drive=%s: drive '%s' "
					  "is already in use by another device",
					  p->blks[i].drive, p->blks[i].drive);
		d->used = true;
		if (add_disk(p, d, p->blks[i].serial, err))
			return -1;
	}
	for (unsigned i = 0; i < p->ndrives; i++)
		if (p->drives[i].virtio && add_disk(p, &p->drives[i], NULL, err))
			return -1;
	return 0;
}

static int add_option_word(struct qemu_parse *p, const char *opt, const char *val,
			   struct error *err)
{
	return add_word(p->q, save(p, err, "%s=%s", opt, val), err);
}

/* QEMU's -S without a debugger waits for the monitor's "cont", which
 * tinyvmm does not have: refused, rather than a VM that never starts. */
static int resolve_gdb(struct qemu_parse *p, struct error *err)
{
	if (p->freeze && !p->gdb)
		return error_setf(err, "-S: tinyvmm has no monitor to continue from; "
				  "use it with -s or -gdb");
	if (p->gdb && add_option_word(p, "--gdb", p->gdb, err))
		return -1;
	return p->freeze ? add_word(p->q, "--gdb-wait", err) : 0;
}

static int resolve_words(struct qemu_parse *p, struct error *err)
{
	struct qemu_cli *q = p->q;
	const char *serial = resolve_serial(p, err);

	if (!serial || add_word(q, "tinyvmm", err) ||
	    (p->mem && add_word(q, p->mem, err)) || (p->cpus && add_word(q, p->cpus, err)) ||
	    add_option_word(p, "--serial", serial, err) || resolve_disks(p, err) ||
	    (p->initrd && add_option_word(p, "--initrd", p->initrd, err)))
		return -1;
	for (unsigned i = 0; i < p->ndevices; i++)
		if (add_option_word(p, "--device", p->devices[i], err))
			return -1;
	for (unsigned i = 0; i < p->nfw_cfg; i++)
		if (add_option_word(p, "--fw-cfg", p->fw_cfg[i], err))
			return -1;
	if ((p->no_hpet && add_word(q, "--no-hpet", err)) || resolve_gdb(p, err) ||
	    add_word(q, p->kernel, err))
		return -1;
	/* One word after "--": the guest gets -append as it was written. */
	if (p->append && (add_word(q, "--", err) || add_word(q, p->append, err)))
		return -1;
	q->argv[q->argc] = NULL;
	return 0;
}

/* options_parse names tinyvmm's options; the user wrote QEMU's. */
static void rename_error(struct error *err)
{
	static const char *const names[][2] = {
		{ "--initrd:", "-initrd:" }, { "--fw-cfg:", "-fw_cfg:" },
		{ "--disk:", "-device virtio-blk-pci:" }, { "--device:", "-device:" },
	};
	char msg[sizeof(err->msg)];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i][0]);

		if (!strncmp(err->msg, names[i][0], n)) {
			snprintf(msg, sizeof(msg), "%s%s", names[i][1], err->msg + n);
			strcpy(err->msg, msg);
			return;
		}
	}
}

static int finish(struct qemu_parse *p, struct error *err)
{
	struct qemu_cli *q = p->q;

	if (!p->kernel)
		return error_setf(err, "no -kernel given: tinyvmm boots -kernel guests only");
	if (resolve_words(p, err))
		return -1;
	if (options_parse(q->argc, q->argv, &q->opts, err)) {
		rename_error(err);
		return -1;
	}
	q->opts.no_exit_port = true;	/* only where -device puts it */
	q->opts.triple_fault_resets = true;
	return 0;
}

static int parse_words(int argc, char *const argv[], struct qemu_parse *p,
		       struct error *err)
{
	for (int i = 1; i < argc; i++) {
		const struct qemu_option *o = find_option(argv[i]);
		const char *arg = NULL;

		if (argv[i][0] != '-')
			return error_setf(err, "'%s': a disk image without -drive is not "
					  "supported", argv[i]);
		if (!o)
			return error_setf(err, "%s: not supported by tinyvmm (-help lists "
					  "what is)", argv[i]);
		if (!o->apply)
			return error_setf(err, "%s: %s", argv[i], o->help);
		if (o->arg) {
			if (i + 1 == argc)
				return error_setf(err, "%s: requires an argument", argv[i]);
			arg = argv[++i];
		}
		if (o->apply(p, arg, err))
			return -1;
		if (p->q->opts.help || p->q->opts.version)
			return 0;	/* QEMU prints them at once */
	}
	return 0;
}

int qemu_cli_parse(int argc, char *const argv[], struct qemu_cli *q,
		   struct error *err)
{
	struct qemu_parse p = { .q = q };

	memset(q, 0, sizeof(*q));
	if (parse_words(argc, argv, &p, err))
		return -1;
	if (q->opts.help || q->opts.version || q->opts.device_help)
		return 0;
	return finish(&p, err);
}

bool qemu_cli_wanted(int argc, char *const argv[])
{
	const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const char *base = slash ? slash + 1 : argc > 0 ? argv[0] : "";

	return !strcmp(base, QEMU_CLI_PROG) || (argc > 1 && !strcmp(argv[1], "--qemu"));
}

int qemu_cli_exit_status(const struct qemu_cli *q, int vmm_code)
{
	if (vmm_code & 1)
		return vmm_code;	/* isa-debug-exit: (v << 1) | 1 */
	switch (vmm_code) {
	case VMM_EXIT_POWEROFF:
	case VMM_EXIT_KILLED:	/* QEMU: "Terminated via GDBstub", status 0 */
	case VMM_EXIT_SIGNAL:	/* QEMU: "terminating on signal N", status 0 */
		return 0;
	case VMM_EXIT_RESET:
		return q->no_reboot ? 0 : QEMU_CLI_REBOOT;
	default:
		return 1;	/* QEMU's one error status */
	}
}

/* ---- Help ---- */

void qemu_cli_print_version(FILE *out, const char *version)
{
	fprintf(out, "tinyvmm version %s, as " QEMU_CLI_PROG " (QEMU 7.2's command line "
		"for -kernel guests)\n", version);
}

void qemu_cli_print_help(FILE *out, const char *version)
{
	qemu_cli_print_version(out, version);
	fprintf(out, "usage: " QEMU_CLI_PROG " -kernel FILE [options]\n\n"
		"tinyvmm reads QEMU's options below (one or two dashes); anything else is\n"
		"refused with status 1. Exit status: the guest's isa-debug-exit value v\n"
		"as (v << 1) | 1; 0 on poweroff, and on a reset with -no-reboot (without\n"
		"it the guest boots again); 1 on errors.\n\n");
	for (size_t i = 0; i < sizeof(qemu_options) / sizeof(qemu_options[0]); i++) {
		const struct qemu_option *o = &qemu_options[i];

		if (o->apply && o->help)
			fprintf(out, "-%s%s%s\n                %s\n", o->name, o->arg ? " " : "",
				o->arg ? o->arg : "", o->help);
	}
}

void qemu_cli_print_devices(FILE *out)
{
	const char *category = NULL;

	for (size_t i = 0; i < NDEVICES; i++) {
		const struct qemu_device *d = &qemu_devices[i];
		const struct object_class *oc = object_class_by_name(d->name);

		if (!category || strcmp(category, d->category))
			fprintf(out, "%s%s devices:\n", category ? "\n" : "", d->category);
		category = d->category;
		fprintf(out, "name \"%s\", bus %s", d->name, d->bus);
		if (oc && oc->type->description)
			fprintf(out, ", desc \"%s\"", oc->type->description);
		fputc('\n', out);
	}
}
