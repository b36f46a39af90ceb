/* The packets gdb sends, answered while the VM is held (all-stop); a
 * resume (c, s, vCont) answers later, with the stop reply. Unknown packets
 * get the empty reply, as the protocol says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/exit_codes.h"
#include "vmm/gdb/internal.h"
#include "vmm/gdb/monitor.h"
#include "vmm/machine.h"

#define REPLY_MAX	GDB_PACKET_MAX
/* The largest m read whose hex reply fits in a packet. */
#define MEM_CHUNK	((GDB_PACKET_MAX - 1) / 2)

static bool starts(const char *p, const char *prefix)
{
	return !strncmp(p, prefix, strlen(prefix));
}

static void reply_error(struct gdb_stub *s, int code)
{
	char e[8];

	snprintf(e, sizeof(e), "E%02x", code & 0xff);
	gdb_send_str(s, e);
}

static void reply_ok_or(struct gdb_stub *s, int r)
{
	if (r)
		reply_error(s, 1);
	else
		gdb_send_str(s, "OK");
}

/* "ADDR,LEN" then @sep (or the end of the packet when sep is 0). */
static bool parse_addr_len(const char **p, char sep, uint64_t *addr, uint64_t *len)
{
	if (!gdb_parse_hex(p, addr) || **p != ',')
		return false;
	(*p)++;
	if (!gdb_parse_hex(p, len) || **p != sep)
		return false;
	if (sep)
		(*p)++;
	return true;
}

/* gdb's thread ids are vCPU ids + 1; 0 and -1 mean any and all. */
static bool parse_thread(const char *p, int *cpu, struct gdb_stub *s)
{
	uint64_t id;

	if (!strcmp(p, "-1") || !strcmp(p, "0")) {
		*cpu = -1;
		return true;
	}
	if (!gdb_parse_hex(&p, &id) || *p || id < 1 || id > s->m->ncpus)
		return false;
	*cpu = (int)id - 1;
	return true;
}

static void cmd_read_regs(struct gdb_stub *s)
{
	static char hex[REPLY_MAX];
	struct gdb_cpu cpu;

	if (gdb_cpu_get(s, s->g_cpu, &cpu) ||
	    !gdb_regs_read_all(s->arch, &cpu, hex, sizeof(hex)))
		reply_error(s, 14);
	else
		gdb_send_str(s, hex);
}

static void cmd_write_regs(struct gdb_stub *s, const char *p, size_t len)
{
	struct gdb_cpu cpu;

	if (gdb_cpu_get(s, s->g_cpu, &cpu) ||
	    gdb_regs_write_all(s->arch, &cpu, p, len) ||
	    gdb_cpu_set(s, s->g_cpu, &cpu))
		reply_error(s, 22);
	else
		gdb_send_str(s, "OK");
}

static void cmd_read_reg(struct gdb_stub *s, const char *p)
{
	char hex[256];
	struct gdb_cpu cpu;
	uint64_t n;

	/* An unknown register is "E" + reply, and gdb then treats it as
	 * unavailable. */
	if (!gdb_parse_hex(&p, &n) || *p || gdb_cpu_get(s, s->g_cpu, &cpu) ||
	    n > 0xffff || gdb_reg_read(s->arch, &cpu, (unsigned)n, hex, sizeof(hex)) < 0)
		reply_error(s, 14);
	else
		gdb_send_str(s, hex);
}

static void cmd_write_reg(struct gdb_stub *s, const char *p)
{
	struct gdb_cpu cpu;
	uint64_t n;

	if (!gdb_parse_hex(&p, &n) || *p != '=' || n > 0xffff ||
	    gdb_cpu_get(s, s->g_cpu, &cpu) ||
	    gdb_reg_write(s->arch, &cpu, (unsigned)n, p + 1, strlen(p + 1)) ||
	    gdb_cpu_set(s, s->g_cpu, &cpu))
		reply_error(s, 22);
	else
		gdb_send_str(s, "OK");
}

static void cmd_read_mem(struct gdb_stub *s, const char *p)
{
	static uint8_t buf[MEM_CHUNK];
	static char hex[2 * MEM_CHUNK + 1];
	uint64_t addr, len, done;

	if (!parse_addr_len(&p, 0, &addr, &len))
		{ reply_error(s, 22); return; }
	if (len > MEM_CHUNK)
		len = MEM_CHUNK;	/* gdb asks again for the rest */
	done = gdb_mem_read(s, s->g_cpu, addr, buf, len);
	if (!done && len)
		{ reply_error(s, 14); return; }
	gdb_hex_encode(buf, done, hex);
	gdb_send_str(s, hex);
}

/* M (hex) and X (binary) writes: all or an error. */
static void cmd_write_mem(struct gdb_stub *s, const char *p, size_t plen, bool binary)
{
	static uint8_t buf[GDB_PACKET_MAX];
	const char *start = p;
	uint64_t addr, len;
	size_t data_len;

	if (!parse_addr_len(&p, ':', &addr, &len) || len > sizeof(buf))
		{ reply_error(s, 22); return; }
	data_len = plen - (size_t)(p - start);
	if (binary ? data_len != len :
	    gdb_hex_decode(p, data_len, buf, sizeof(buf)) != (long)len)
		{ reply_error(s, 22); return; }
	if (binary)
		memcpy(buf, p, len);
	if (gdb_mem_write(s, s->g_cpu, addr, buf, len) != len)
		{ reply_error(s, 14); return; }
	gdb_send_str(s, "OK");
}

static void cmd_breakpoint(struct gdb_stub *s, const char *p, bool insert)
{
	uint64_t type, addr, kind;
	int r;

	/* Z TYPE,ADDR,KIND[;conditions]: conditions are gdb's to evaluate. */
	if (!gdb_parse_hex(&p, &type) || *p++ != ',' || !gdb_parse_hex(&p, &addr) ||
	    *p++ != ',' || !gdb_parse_hex(&p, &kind) || (*p && *p != ';')) {
		reply_error(s, 22);
		return;
	}
	r = insert ? gdb_break_insert(s, (int)type, addr, kind)
		   : gdb_break_remove(s, (int)type, addr, kind);
	if (r > 0)
		gdb_send_str(s, "");
	else
		reply_ok_or(s, r);
}

static void resume_all(struct gdb_stub *s)
{
	gdb_resume(s);
	s->running = true;
}

/* c/s (and C/S, whose signal a VM has no use for): the selected thread
 * steps with everyone else held, or all continue. */
static void cmd_legacy_resume(struct gdb_stub *s, char c, const char *p)
{
	bool step = c == 's' || c == 'S';
	uint64_t v;

	if (c == 'C' || c == 'S') {	/* skip ";addr" after the signal */
		gdb_parse_hex(&p, &v);
		if (*p == ';')
			p++;
	}
	if (*p && gdb_parse_hex(&p, &v)) {
		struct gdb_cpu cpu;

		if (gdb_cpu_get(s, s->c_cpu, &cpu) == 0) {
			cpu.regs.rip = v;
			gdb_cpu_set(s, s->c_cpu, &cpu);
		}
	}
	for (unsigned i = 0; i < s->m->ncpus; i++)
		s->vcpu[i].action = step ? GDB_STAY : GDB_CONTINUE;
	if (step)
		s->vcpu[s->c_cpu].action = GDB_STEP;
	resume_all(s);
}

static enum gdb_action vcont_action(char a)
{
	switch (a) {
	case 'c': case 'C':
		return GDB_CONTINUE;
	case 's': case 'S':
		return GDB_STEP;
	default:
		return GDB_STAY;	/* 't': stay stopped */
	}
}

/* vCont;ACTION[:TID]...: the leftmost action naming a thread applies;
 * threads no action names stay stopped. */
static void cmd_vcont(struct gdb_stub *s, const char *p)
{
	bool set[VMM_CPUS_MAX] = { false };
	bool any = false;

	for (unsigned i = 0; i < s->m->ncpus; i++)
		s->vcpu[i].action = GDB_STAY;
	while (*p == ';') {
		char a = *++p;
		enum gdb_action act = vcont_action(a);
		int cpu = -1;
		uint64_t sig;

		if (!strchr("cCsSt", a) || !a)
			{ reply_error(s, 22); return; }
		p++;
		if ((a == 'C' || a == 'S') && !gdb_parse_hex(&p, &sig))
			{ reply_error(s, 22); return; }
		if (*p == ':') {
			char tid[24];
			size_t n = strcspn(++p, ";");

			if (n >= sizeof(tid))
				{ reply_error(s, 22); return; }
			memcpy(tid, p, n);
			tid[n] = 0;
			p += n;
			if (!parse_thread(tid, &cpu, s))
				{ reply_error(s, 22); return; }
		}
		for (unsigned i = 0; i < s->m->ncpus; i++) {
			if (!set[i] && (cpu < 0 || (unsigned)cpu == i)) {
				set[i] = true;
				s->vcpu[i].action = act;
				any |= act != GDB_STAY;
			}
		}
	}
	if (*p)
		{ reply_error(s, 22); return; }
	if (!any)
		{ gdb_send_str(s, "OK"); return; }
	resume_all(s);
}

static void cmd_set_thread(struct gdb_stub *s, const char *p)
{
	int cpu;

	if ((*p != 'g' && *p != 'c') || !parse_thread(p + 1, &cpu, s))
		{ reply_error(s, 22); return; }
	if (cpu >= 0) {
		if (*p == 'g')
			s->g_cpu = (unsigned)cpu;
		else
			s->c_cpu = (unsigned)cpu;
	}
	gdb_send_str(s, "OK");
}

static void cmd_thread_alive(struct gdb_stub *s, const char *p)
{
	int cpu;

	if (parse_thread(p, &cpu, s) && cpu >= 0)
		gdb_send_str(s, "OK");
	else
		reply_error(s, 1);
}

/* qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH over a document. */
static void reply_xfer(struct gdb_stub *s, const char *doc, const char *p)
{
	static char out[REPLY_MAX];
	uint64_t off, len;
	size_t total = strlen(doc);

	if (!parse_addr_len(&p, 0, &off, &len))
		{ reply_error(s, 22); return; }
	if (off >= total)
		{ gdb_send_str(s, "l"); return; }
	if (len > sizeof(out) - 2)
		len = sizeof(out) - 2;
	if (len > total - off)
		len = total - off;
	out[0] = off + len < total ? 'm' : 'l';
	memcpy(out + 1, doc + off, len);
	gdb_send(s, out, len + 1);
}

static void xfer_features(struct gdb_stub *s, const char *p)
{
	char annex[64];
	size_t n = strcspn(p, ":");
	const char *doc;

	if (n >= sizeof(annex) || p[n] != ':')
		{ reply_error(s, 22); return; }
	memcpy(annex, p, n);
	annex[n] = 0;
	doc = gdb_tdesc(s->arch, annex);
	if (!doc)
		{ reply_error(s, 0); return; }
	reply_xfer(s, doc, p + n + 1);
}

/* The vCPUs as gdb's threads, named as `info threads` shows them. */
static void xfer_threads(struct gdb_stub *s, const char *p)
{
	static char doc[128 + VMM_CPUS_MAX * 64];
	size_t n = (size_t)snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n<threads>\n");

	if (*p++ != ':')
		{ reply_error(s, 22); return; }
	for (unsigned i = 0; i < s->m->ncpus; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n,
				      "<thread id=\"%x\" core=\"%u\" name=\"vCPU %u\"/>\n",
				      i + 1, i, i);
	snprintf(doc + n, sizeof(doc) - n, "</threads>\n");
	reply_xfer(s, doc, p);
}

static void cmd_thread_list(struct gdb_stub *s)
{
	char out[8 + VMM_CPUS_MAX * 4];
	size_t n = 1;

	out[0] = 'm';
	for (unsigned i = 0; i < s->m->ncpus; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%x", i ? "," : "", i + 1);
	gdb_send(s, out, n);
}

static void cmd_extra_info(struct gdb_stub *s, const char *p)
{
	char text[32], hex[2 * sizeof(text) + 1];
	int cpu;

	if (!parse_thread(p, &cpu, s) || cpu < 0)
		{ reply_error(s, 22); return; }
	snprintf(text, sizeof(text), "vCPU %d", cpu);
	gdb_hex_encode(text, strlen(text), hex);
	gdb_send_str(s, hex);
}

/* Text for gdb's console: O packets, then the command's own reply. */
static void send_console(struct gdb_stub *s, const char *text, size_t len)
{
	static char out[REPLY_MAX];
	size_t chunk = (sizeof(out) - 2) / 2;

	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		out[0] = 'O';
		gdb_hex_encode(text + off, n, out + 1);
		gdb_send(s, out, 1 + 2 * n);
	}
}

/* The stub's own monitor commands; false if @cmd is not one. */
static bool stub_command(struct gdb_stub *s, const char *cmd, FILE *out)
{
	if (!strcmp(cmd, "phys on") || !strcmp(cmd, "phys off")) {
		s->phys = !strcmp(cmd, "phys on");
		fprintf(out, "memory addresses are guest-%s\n",
			s->phys ? "physical" : "virtual (through the page tables)");
	} else if (!strcmp(cmd, "arch i386") || !strcmp(cmd, "arch x86-64") ||
		   !strcmp(cmd, "arch dual")) {
		s->arch = cmd[5] == 'i' ? GDB_ARCH_I386 :
			  cmd[5] == 'x' ? GDB_ARCH_X86_64 : GDB_ARCH_DUAL;
		fprintf(out, "register layout %s from the next connection: "
			"disconnect, then target remote again\n", cmd + 5);
	} else {
		return false;
	}
	return true;
}

static void cmd_monitor(struct gdb_stub *s, const char *hex)
{
	char cmd[256];
	long n = gdb_hex_decode(hex, strlen(hex), cmd, sizeof(cmd) - 1);
	struct gdb_cpu cpu;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (n < 0)
		{ reply_error(s, 22); return; }
	cmd[n] = 0;
	out = open_memstream(&text, &len);
	if (!out)
		{ reply_error(s, 12); return; }
	if (!stub_command(s, cmd, out) && gdb_cpu_get(s, s->g_cpu, &cpu) == 0)
		gdb_monitor_run(s->m, s->g_cpu, &cpu, cmd, out);
	fclose(out);
	send_console(s, text, len);
	free(text);
	gdb_send_str(s, "OK");
}

static void cmd_supported(struct gdb_stub *s)
{
	char reply[160];

	snprintf(reply, sizeof(reply), "PacketSize=%x;qXfer:features:read+;"
		 "qXfer:threads:read+;swbreak+;hwbreak+;QStartNoAckMode+;"
		 "vContSupported+", GDB_PACKET_MAX);
	gdb_send_str(s, reply);
}

static void cmd_query(struct gdb_stub *s, const char *p)
{
	char qc[24];

	if (starts(p, "qSupported")) {
		cmd_supported(s);
	} else if (starts(p, "qXfer:features:read:")) {
		xfer_features(s, p + 20);
	} else if (starts(p, "qXfer:threads:read:")) {
		xfer_threads(s, p + 19);
	} else if (!strcmp(p, "qAttached")) {
		gdb_send_str(s, "1");
	} else if (!strcmp(p, "qC")) {
		snprintf(qc, sizeof(qc), "QC%x", s->g_cpu + 1);
		gdb_send_str(s, qc);
	} else if (!strcmp(p, "qfThreadInfo")) {
		cmd_thread_list(s);
	} else if (!strcmp(p, "qsThreadInfo")) {
		gdb_send_str(s, "l");
	} else if (starts(p, "qThreadExtraInfo,")) {
		cmd_extra_info(s, p + 17);
	} else if (starts(p, "qRcmd,")) {
		cmd_monitor(s, p + 6);
	} else if (starts(p, "qSymbol")) {
		gdb_send_str(s, "OK");
	} else {
		gdb_send_str(s, "");
	}
}

static void cmd_v(struct gdb_stub *s, const char *p)
{
	if (!strcmp(p, "vCont?"))
		gdb_send_str(s, "vCont;c;C;s;S;t");
	else if (starts(p, "vCont;"))
		cmd_vcont(s, p + 5);
	else
		gdb_send_str(s, "");
}

/* k: the VM ends at once with its own exit code; no reply is due. */
static void cmd_kill(struct gdb_stub *s)
{
	fprintf(stderr, "tinyvmm: gdb: killed by the debugger\n");
	machine_stop(s->m, VMM_EXIT_KILLED);
	s->detached = true;
}

void gdb_handle_packet(struct gdb_stub *s, const char *p, size_t len)
{
	switch (p[0]) {
	case '?':
		{
			char reply[96];

			gdb_stop_reply(s, reply, sizeof(reply));
			gdb_send_str(s, reply);
		}
		break;
	case 'g':
		cmd_read_regs(s);
		break;
	case 'G':
		cmd_write_regs(s, p + 1, len - 1);
		break;
	case 'p':
		cmd_read_reg(s, p + 1);
		break;
	case 'P':
		cmd_write_reg(s, p + 1);
		break;
	case 'm':
		cmd_read_mem(s, p + 1);
		break;
	case 'M':
	case 'X':
		cmd_write_mem(s, p + 1, len - 1, p[0] == 'X');
		break;
	case 'c': case 'C': case 's': case 'S':
		cmd_legacy_resume(s, p[0], p + 1);
		break;
	case 'v':
		cmd_v(s, p);
		break;
	case 'H':
		cmd_set_thread(s, p + 1);
		break;
	case 'T':
		cmd_thread_alive(s, p + 1);
		break;
	case 'Z':
	case 'z':
		cmd_breakpoint(s, p + 1, p[0] == 'Z');
		break;
	case 'q':
		cmd_query(s, p);
		break;
	case 'Q':
		if (!strcmp(p, "QStartNoAckMode")) {
			gdb_send_str(s, "OK");
			s->no_ack = true;
		} else {
			gdb_send_str(s, "");
		}
		break;
	case 'D':
		gdb_send_str(s, "OK");
		s->detached = true;
		break;
	case 'k':
		cmd_kill(s);
		break;
	default:
		gdb_send_str(s, "");
		break;
	}
}
