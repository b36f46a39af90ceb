/* The debugger's monitor commands. See monitor.h. */
#include "vmm/gdb/monitor.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "devices/intc/lapic.h"
#include "devices/intc/lapic_info.h"
#include "devices/pci/pci_info.h"
#include "vmm/gdb/regs.h"
#include "vmm/machine.h"

#define CMD_MAX		64	/* longer than any command */

#define EFLAGS_CF	(1u << 0)
#define EFLAGS_PF	(1u << 2)
#define EFLAGS_AF	(1u << 4)
#define EFLAGS_ZF	(1u << 6)
#define EFLAGS_SF	(1u << 7)
#define EFLAGS_DF	(1u << 10)
#define EFLAGS_OF	(1u << 11)
#define EFLAGS_VM	(1u << 17)
#define CR0_PE		(1u << 0)
#define EFER_LMA	(1u << 10)

/* ---- info registers (QEMU's x86_cpu_dump_state, without the FPU stack) ---- */

/* Eight general registers in 32-bit mode, sixteen in long mode, four a
 * line. */
static void print_gprs(FILE *out, const struct kvm_regs *r, bool wide)
{
	static const char *const names[16] = {
		"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
		"R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15",
	};
	const uint64_t v[16] = {
		r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
	};

	for (unsigned i = 0; i < (wide ? 16u : 8u); i++) {
		if (wide)
			fprintf(out, "%s=%016" PRIx64, names[i], v[i]);
		else
			fprintf(out, "E%s=%08" PRIx32, names[i] + 1, (uint32_t)v[i]);
		fputc(i % 4 == 3 ? '\n' : ' ', out);
	}
}

static void print_flags_line(FILE *out, const struct gdb_cpu *c, bool wide)
{
	uint64_t f = c->regs.rflags;
	bool pe = c->sregs.cr0 & CR0_PE;
	unsigned cpl = !pe ? 0 : (f & EFLAGS_VM) ? 3 : c->sregs.ss.dpl;

	if (wide)
		fprintf(out, "RIP=%016" PRIx64 " RFL=%08" PRIx32, (uint64_t)c->regs.rip,
			(uint32_t)f);
	else
		fprintf(out, "EIP=%08" PRIx32 " EFL=%08" PRIx32, (uint32_t)c->regs.rip,
			(uint32_t)f);
	fprintf(out, " [%c%c%c%c%c%c%c] CPL=%u\n",
		f & EFLAGS_DF ? 'D' : '-', f & EFLAGS_OF ? 'O' : '-',
		f & EFLAGS_SF ? 'S' : '-', f & EFLAGS_ZF ? 'Z' : '-',
		f & EFLAGS_AF ? 'A' : '-', f & EFLAGS_PF ? 'P' : '-',
		f & EFLAGS_CF ? 'C' : '-', cpl);
}

/* A system descriptor's type (SDM Vol. 3A, table 3-2). */
static const char *system_type(unsigned type, bool lma)
{
	static const char *const legacy[16] = {
		"Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16",
		"TaskGate", "IntGate16", "TrapGate16", "Reserved", "TSS32-avl",
		"Reserved", "TSS32-busy", "CallGate32", "Reserved", "IntGate32",
		"TrapGate32",
	};
	static const char *const ia32e[16] = {
		"Reserved", "Reserved", "LDT", "Reserved", "Reserved", "Reserved",
		"Reserved", "Reserved", "Reserved", "TSS64-avl", "Reserved",
		"TSS64-busy", "CallGate64", "Reserved", "IntGate64", "TrapGate64",
	};

	return (lma ? ia32e : legacy)[type & 15];
}

/* The descriptor's flags as its high dword holds them (bits 8-23), as
 * QEMU shows them. */
static uint32_t descriptor_flags(const struct kvm_segment *s)
{
	return (uint32_t)(s->type & 15) << 8 | (uint32_t)!!s->s << 12 |
	       (uint32_t)(s->dpl & 3) << 13 | (uint32_t)!!s->present << 15 |
	       (uint32_t)!!s->avl << 20 | (uint32_t)!!s->l << 21 |
	       (uint32_t)!!s->db << 22 | (uint32_t)!!s->g << 23;
}

static void print_decoded(FILE *out, const struct kvm_segment *s, bool lma)
{
	fprintf(out, " DPL=%u ", s->dpl);
	if (!s->s)
		fputs(system_type(s->type, lma), out);
	else if (s->type & 8)	/* code: conforming, readable, accessed */
		fprintf(out, "%s [%c%c%c]", s->l ? "CS64" : s->db ? "CS32" : "CS16",
			s->type & 4 ? 'C' : '-', s->type & 2 ? 'R' : '-',
			s->type & 1 ? 'A' : '-');
	else			/* data: expand-down, writable, accessed */
		fprintf(out, "%s [%c%c%c]", s->db ? "DS  " : "DS16",
			s->type & 4 ? 'E' : '-', s->type & 2 ? 'W' : '-',
			s->type & 1 ? 'A' : '-');
}

static void print_segment(FILE *out, const char *name, const struct kvm_segment *s,
			  bool wide, bool pe)
{
	if (wide)
		fprintf(out, "%-3s=%04x %016" PRIx64 " %08x %08x", name, s->selector,
			(uint64_t)s->base, s->limit, descriptor_flags(s));
	else
		fprintf(out, "%-3s=%04x %08" PRIx32 " %08x %08x", name, s->selector,
			(uint32_t)s->base, s->limit, descriptor_flags(s));
	/* Real mode has no descriptors to decode. */
	if (pe && s->present && !s->unusable)
		print_decoded(out, s, wide);
	fputc('\n', out);
}

static void print_segments(FILE *out, const struct kvm_sregs *sr, bool wide)
{
	const struct { const char *name; const struct kvm_segment *seg; } segs[] = {
		{ "ES", &sr->es }, { "CS", &sr->cs }, { "SS", &sr->ss },
		{ "DS", &sr->ds }, { "FS", &sr->fs }, { "GS", &sr->gs },
		{ "LDT", &sr->ldt }, { "TR", &sr->tr },
	};
	bool pe = sr->cr0 & CR0_PE;

	for (unsigned i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		print_segment(out, segs[i].name, segs[i].seg, wide, pe);
	if (wide)
		fprintf(out, "GDT=     %016" PRIx64 " %08x\nIDT=     %016" PRIx64 " %08x\n",
			(uint64_t)sr->gdt.base, sr->gdt.limit, (uint64_t)sr->idt.base,
			sr->idt.limit);
	else
		fprintf(out, "GDT=     %08" PRIx32 " %08x\nIDT=     %08" PRIx32 " %08x\n",
			(uint32_t)sr->gdt.base, sr->gdt.limit, (uint32_t)sr->idt.base,
			sr->idt.limit);
}

static void print_control(FILE *out, const struct gdb_cpu *c, bool wide)
{
	const struct kvm_sregs *sr = &c->sregs;

	if (wide)
		fprintf(out, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64
			" CR4=%08" PRIx64 "\n", (uint64_t)sr->cr0, (uint64_t)sr->cr2,
			(uint64_t)sr->cr3, (uint64_t)sr->cr4);
	else
		fprintf(out, "CR0=%08" PRIx32 " CR2=%08" PRIx32 " CR3=%08" PRIx32
			" CR4=%08" PRIx32 "\n", (uint32_t)sr->cr0, (uint32_t)sr->cr2,
			(uint32_t)sr->cr3, (uint32_t)sr->cr4);
	fprintf(out, "EFER=%016" PRIx64 " CR8=%" PRIx64 " APIC_BASE=%016" PRIx64 "\n",
		(uint64_t)sr->efer, (uint64_t)sr->cr8, (uint64_t)sr->apic_base);
	fprintf(out, "FCW=%04x FSW=%04x [ST=%u] FTW=%02x MXCSR=%08x\n", c->fpu.fcw,
		c->fpu.fsw, (c->fpu.fsw >> 11) & 7u, c->fpu.ftwx, c->fpu.mxcsr);
}

static int info_registers(struct machine *m, unsigned cpu,
			  const struct gdb_cpu *regs, FILE *out)
{
	bool wide;

	(void)m;
	if (!regs) {
		fprintf(out, "no registers for CPU %u\n", cpu);
		return -1;
	}
	/* As QEMU: 64-bit columns whenever long mode is active. */
	wide = regs->sregs.efer & EFER_LMA;
	print_gprs(out, &regs->regs, wide);
	print_flags_line(out, regs, wide);
	print_segments(out, &regs->sregs, wide);
	print_control(out, regs, wide);
	return 0;
}

/* ---- the other reports ---- */

static int info_lapic(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		      FILE *out)
{
	(void)regs;
	if (!m->apic.bus || cpu >= apic_bus_ncpus(m->apic.bus)) {
		fprintf(out, "no LAPIC for CPU %u\n", cpu);
		return -1;
	}
	lapic_info_print(apic_bus_cpu(m->apic.bus, cpu), out);
	return 0;
}

static int info_mtree(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		      FILE *out)
{
	(void)cpu; (void)regs;
	machine_print_mtree(m, true, out);
	return 0;
}

static int info_mtree_flat(struct machine *m, unsigned cpu,
			   const struct gdb_cpu *regs, FILE *out)
{
	(void)cpu; (void)regs;
	machine_print_mtree(m, false, out);
	return 0;
}

static int info_pci(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		    FILE *out)
{
	(void)cpu; (void)regs;
	pci_info_print(&m->pci, out);
	return 0;
}

/* ---- the command table ---- */

struct monitor_cmd {
	const char *name;
	const char *help;
	int (*run)(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		   FILE *out);
};

static int help(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		FILE *out);

static const struct monitor_cmd commands[] = {
	{ "help", "this list", help },
	{ "info registers", "the selected vCPU's registers", info_registers },
	{ "info lapic", "the selected vCPU's local APIC", info_lapic },
	{ "info mtree", "the memory region trees and their flat views", info_mtree },
	{ "info mtree -f", "the flat views only", info_mtree_flat },
	{ "info pci", "the PCI devices", info_pci },
};

/* What the stub answers itself, before asking us; listed for "help". */
static const struct { const char *name, *help; } stub_commands[] = {
	{ "phys on|off", "m/M/X on guest-physical (on) or -virtual (off) addresses" },
	{ "arch i386|x86-64|dual", "the register layout of the next connection" },
};

static int help(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		FILE *out)
{
	(void)m; (void)cpu; (void)regs;
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "%-22s %s\n", commands[i].name, commands[i].help);
	for (unsigned i = 0; i < sizeof(stub_commands) / sizeof(stub_commands[0]); i++)
		fprintf(out, "%-22s %s\n", stub_commands[i].name, stub_commands[i].help);
	return 0;
}

/* @cmd's words joined by single blanks into @buf, unprintable bytes as
 * '?'; false when it does not fit (then @buf holds what did). */
static bool normalize(const char *cmd, char *buf, size_t cap)
{
	size_t n = 0;

	for (const char *p = cmd; *p; p++) {
		bool blank = isspace((unsigned char)*p);

		if (blank && (n == 0 || buf[n - 1] == ' '))
			continue;
		if (n + 1 == cap) {
			buf[n] = '\0';
			return false;
		}
		buf[n++] = blank ? ' ' : isprint((unsigned char)*p) ? *p : '?';
	}
	if (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return true;
}

int gdb_monitor_run(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		    const char *cmd, FILE *out)
{
	char buf[CMD_MAX];
	bool fits = normalize(cmd, buf, sizeof(buf));

	for (unsigned i = 0; fits && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(buf, commands[i].name))
			return commands[i].run(m, cpu, regs, out);
	fprintf(out, "unknown command: '%s%s' (\"monitor help\" lists them)\n", buf,
		fits ? "" : "...");
	return -1;
}
