/* Each layout is one table: a register's name, width, XML type and feature,
 * and the field of struct gdb_cpu it shows. The 'g' packet, 'p' numbers and
 * the XML are all made from that table, so they cannot disagree. */
#define _GNU_SOURCE	/* open_memstream */
#include "vmm/gdb/regs.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmm/gdb/packet.h"

/* The widest register (xmm) and a bound on any layout, in bytes. */
#define REG_MAX		16
#define LAYOUT_MAX	2048

enum feature { F_CORE, F_SSE, F_SEGMENTS, F_SYS, F_COUNT };

/* gdb knows core, sse and segments by name (fs_base/gs_base become its
 * $fs_base/$gs_base); sys is ours, as an extra feature gdb shows as is.
 * QEMU puts its control registers in the core feature instead. */
static const char *const feature_name[F_COUNT] = {
	[F_CORE] = "org.gnu.gdb.i386.core",
	[F_SSE] = "org.gnu.gdb.i386.sse",
	[F_SEGMENTS] = "org.gnu.gdb.i386.segments",
	[F_SYS] = "org.gnu.gdb.i386.sys",
};

struct reg {
	const char *name;
	const char *type;
	const char *group;	/* NULL: gdb's default for the type */
	unsigned short bits;
	unsigned short off;	/* of the field in struct gdb_cpu */
	unsigned char size;	/* of that field, in bytes */
	unsigned char feature;
	bool ftag;		/* shown through the tag-word conversion */
};

struct layout {
	const char *arch;	/* the XML <architecture> */
	const struct reg *regs;
	unsigned count;
	unsigned pc, sp;
	unsigned sys_bits;	/* width of the sys flags types */
};

#define FIELD(f)	.off = offsetof(struct gdb_cpu, f), \
			.size = sizeof(((struct gdb_cpu *)0)->f)
#define REG(n, b, t, f, feat)	{ .name = n, .bits = b, .type = t, FIELD(f), \
				  .feature = feat }
#define GPR(n, b, f)	REG(n, b, "int" #b, regs.f, F_CORE)
#define PTR(n, b, t, f)	REG(n, b, t, regs.f, F_CORE)
#define SEG(n)		REG(#n, 32, "int32", sregs.n.selector, F_CORE)
#define ST(i)		{ .name = "st" #i, .bits = 80, .type = "i387_ext", \
			  .off = offsetof(struct gdb_cpu, fpu.fpr[i]), .size = 10, \
			  .feature = F_CORE }
#define FPU(n, f)	{ .name = n, .bits = 32, .type = "int", .group = "float", \
			  FIELD(fpu.f), .feature = F_CORE }
/* A 32-bit half of a 64-bit field: fiseg/foseg are the high halves of the
 * last instruction/operand pointers, as gdb reads them from FXSAVE64. */
#define HALF(n, f, h)	{ .name = n, .bits = 32, .type = "int", .group = "float", \
			  .off = offsetof(struct gdb_cpu, fpu.f) + 4 * (h), \
			  .size = 4, .feature = F_CORE }
#define XMM(i)		REG("xmm" #i, 128, "vec128", fpu.xmm[i], F_SSE)
#define BASE(n, b, feat)	REG(#n "_base", b, "int" #b, sregs.n.base, feat)
#define SYS(n, b, t)	REG(#n, b, t, sregs.n, F_SYS)

/* st0..st7 are fpr[0..7] (FXSAVE keeps them in stack order), 10 bytes of
 * each 16. */
#define X87_REGS \
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7), \
	FPU("fctrl", fcw), FPU("fstat", fsw), \
	{ .name = "ftag", .bits = 32, .type = "int", .group = "float", \
	  FIELD(fpu.ftwx), .feature = F_CORE, .ftag = true }, \
	HALF("fiseg", last_ip, 1), HALF("fioff", last_ip, 0), \
	HALF("foseg", last_dp, 1), HALF("fooff", last_dp, 0), \
	FPU("fop", last_opcode)

#define SEGMENT_REGS	SEG(cs), SEG(ss), SEG(ds), SEG(es), SEG(fs), SEG(gs)

#define MXCSR		{ .name = "mxcsr", .bits = 32, .type = "i386_mxcsr", \
			  .group = "vector", FIELD(fpu.mxcsr), .feature = F_SSE }

#define SYS_REGS(b) \
	SYS(cr0, b, "i386_cr0"), SYS(cr2, b, "int" #b), SYS(cr3, b, "int" #b), \
	SYS(cr4, b, "i386_cr4"), SYS(efer, b, "i386_efer")

/* The i386 layout shows every register's low 32 bits, also in long mode;
 * a write changes only those bits. gdb's i386 order: eax ecx edx ebx. */
static const struct reg i386_regs[] = {
	GPR("eax", 32, rax), GPR("ecx", 32, rcx), GPR("edx", 32, rdx),
	GPR("ebx", 32, rbx), PTR("esp", 32, "data_ptr", rsp),
	PTR("ebp", 32, "data_ptr", rbp), GPR("esi", 32, rsi),
	GPR("edi", 32, rdi), PTR("eip", 32, "code_ptr", rip),
	PTR("eflags", 32, "i386_eflags", rflags),
	SEGMENT_REGS, X87_REGS,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7), MXCSR,
	BASE(fs, 32, F_SYS), BASE(gs, 32, F_SYS),
	SYS_REGS(32),
};

/* rax..r15, rip, eflags; @ptr gives the pointer types. */
#define X86_64_GPRS(ptr) \
	GPR("rax", 64, rax), GPR("rbx", 64, rbx), GPR("rcx", 64, rcx), \
	GPR("rdx", 64, rdx), GPR("rsi", 64, rsi), GPR("rdi", 64, rdi), \
	PTR("rbp", 64, ptr("data_ptr"), rbp), PTR("rsp", 64, ptr("data_ptr"), rsp), \
	GPR("r8", 64, r8), GPR("r9", 64, r9), GPR("r10", 64, r10), \
	GPR("r11", 64, r11), GPR("r12", 64, r12), GPR("r13", 64, r13), \
	GPR("r14", 64, r14), GPR("r15", 64, r15), \
	PTR("rip", 64, ptr("code_ptr"), rip), \
	PTR("eflags", 32, "i386_eflags", rflags)
#define X86_64_XMMS \
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7), \
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15), \
	MXCSR
#define POINTER(t)	t
#define NO_POINTER(t)	"int64"

/* gdb's amd64 order: rax rbx rcx rdx rsi rdi rbp rsp r8..r15. */
static const struct reg x86_64_regs[] = {
	X86_64_GPRS(POINTER), SEGMENT_REGS, X87_REGS, X86_64_XMMS,
	BASE(fs, 64, F_SEGMENTS), BASE(gs, 64, F_SEGMENTS),
	SYS_REGS(64),
};

/* Both: the x86-64 registers plus eax..eip as aliases of their low halves,
 * so that gdb's i386 and amd64 architectures both accept the description
 * and `set architecture` can switch between them mid-session, over the
 * same 'g' layout. The constraints (gdb 13): no pointer types, which gdb
 * sizes by the architecture, not by bitsize; fs_base/gs_base not in the
 * segments feature, whose i386 support trips an assertion in gdb. */
static const struct reg dual_regs[] = {
	X86_64_GPRS(NO_POINTER), SEGMENT_REGS, X87_REGS,
	GPR("eax", 32, rax), GPR("ecx", 32, rcx), GPR("edx", 32, rdx),
	GPR("ebx", 32, rbx), GPR("esp", 32, rsp), GPR("ebp", 32, rbp),
	GPR("esi", 32, rsi), GPR("edi", 32, rdi), GPR("eip", 32, rip),
	X86_64_XMMS,
	BASE(fs, 64, F_SYS), BASE(gs, 64, F_SYS),
	SYS_REGS(64),
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define FITS(t)		_Static_assert(ARRAY_SIZE(t) * REG_MAX <= LAYOUT_MAX, #t)
FITS(i386_regs);
FITS(x86_64_regs);
FITS(dual_regs);

static const struct layout layouts[] = {
	[GDB_ARCH_I386] = { .arch = "i386", .regs = i386_regs,
			    .count = ARRAY_SIZE(i386_regs), .pc = 8, .sp = 4,
			    .sys_bits = 32 },
	[GDB_ARCH_X86_64] = { .arch = "i386:x86-64", .regs = x86_64_regs,
			      .count = ARRAY_SIZE(x86_64_regs), .pc = 16, .sp = 7,
			      .sys_bits = 64 },
	/* No <architecture>: gdb takes the ELF's, or the user's. */
	[GDB_ARCH_DUAL] = { .arch = NULL, .regs = dual_regs,
			    .count = ARRAY_SIZE(dual_regs), .pc = 16, .sp = 7,
			    .sys_bits = 64 },
};

static const struct layout *layout_of(enum gdb_arch arch)
{
	return (unsigned)arch < ARRAY_SIZE(layouts) ? &layouts[arch] : NULL;
}

/* The FPU tag word. KVM keeps FXSAVE's abridged form, one bit per physical
 * register (1 = not empty); gdb shows the full form, two bits each: 0 valid,
 * 1 zero, 2 special, 3 empty. The class comes from the register's value;
 * physical register p is st((p - TOP) & 7). */
static unsigned x87_tag_class(const uint8_t *st)
{
	uint64_t mant;
	unsigned exp = (st[8] | st[9] << 8) & 0x7fff;

	memcpy(&mant, st, sizeof(mant));
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return mant >> 63 ? 0 : 2;	/* no integer bit: unnormal */
}

static uint32_t ftag_full(const struct kvm_fpu *fpu)
{
	unsigned top = (fpu->fsw >> 11) & 7;
	uint32_t tag = 0;

	for (unsigned p = 0; p < 8; p++) {
		unsigned t = 3;

		if (fpu->ftwx & (1u << p))
			t = x87_tag_class(fpu->fpr[(p - top) & 7]);
		tag |= t << (2 * p);
	}
	return tag;
}

static uint8_t ftag_abridged(uint32_t tag)
{
	uint8_t ftwx = 0;

	for (unsigned p = 0; p < 8; p++)
		if (((tag >> (2 * p)) & 3) != 3)
			ftwx |= 1u << p;
	return ftwx;
}

/* A register's value as gdb's bytes (little-endian, like the host): the
 * field's low bytes, zero-extended to the register's width. */
static void reg_get(const struct reg *r, const struct gdb_cpu *cpu,
		    uint8_t *out)
{
	unsigned n = r->bits / 8;

	memset(out, 0, n);
	if (r->ftag) {
		uint32_t tag = ftag_full(&cpu->fpu);

		memcpy(out, &tag, sizeof(tag));
		return;
	}
	memcpy(out, (const uint8_t *)cpu + r->off, r->size < n ? r->size : n);
}

/* The inverse: bytes of the field beyond the register's width keep their
 * value (the high half in the i386 layout), bytes of the register beyond
 * the field are dropped (a selector's upper 16 bits). */
static void reg_set(const struct reg *r, struct gdb_cpu *cpu,
		    const uint8_t *in)
{
	unsigned n = r->bits / 8;

	if (r->ftag) {
		uint32_t tag;

		memcpy(&tag, in, sizeof(tag));
		cpu->fpu.ftwx = ftag_abridged(tag);
		return;
	}
	memcpy((uint8_t *)cpu + r->off, in, r->size < n ? r->size : n);
}

static size_t layout_bytes(const struct layout *l)
{
	size_t n = 0;

	for (unsigned i = 0; i < l->count; i++)
		n += l->regs[i].bits / 8;
	return n;
}

size_t gdb_regs_read_all(enum gdb_arch arch, const struct gdb_cpu *cpu,
			 char *hex, size_t cap)
{
	const struct layout *l = layout_of(arch);
	uint8_t buf[LAYOUT_MAX];
	size_t n = 0;

	if (!l || cap < 2 * layout_bytes(l) + 1)
		return 0;
	for (unsigned i = 0; i < l->count; i++) {
		reg_get(&l->regs[i], cpu, buf + n);
		n += l->regs[i].bits / 8;
	}
	return gdb_hex_encode(buf, n, hex);
}

int gdb_regs_write_all(enum gdb_arch arch, struct gdb_cpu *cpu,
		       const char *hex, size_t len)
{
	const struct layout *l = layout_of(arch);
	const struct gdb_cpu old = *cpu;
	uint8_t buf[LAYOUT_MAX];
	size_t n = 0;

	/* Decoded whole first: a malformed packet changes nothing. */
	if (!l || len != 2 * layout_bytes(l) ||
	    gdb_hex_decode(hex, len, buf, sizeof(buf)) != (long)len / 2)
		return -1;
	/* Only what differs from before is written: in the dual layout gdb
	 * sends both rax and its stale alias eax (or the reverse), and the
	 * one the user changed must win. */
	for (unsigned i = 0; i < l->count; i++) {
		const struct reg *r = &l->regs[i];
		uint8_t was[REG_MAX];

		reg_get(r, &old, was);
		if (memcmp(was, buf + n, r->bits / 8))
			reg_set(r, cpu, buf + n);
		n += r->bits / 8;
	}
	return 0;
}

long gdb_reg_read(enum gdb_arch arch, const struct gdb_cpu *cpu, unsigned n,
		  char *hex, size_t cap)
{
	const struct layout *l = layout_of(arch);
	uint8_t buf[REG_MAX];

	if (!l || n >= l->count || cap < l->regs[n].bits / 4 + 1u)
		return -1;
	reg_get(&l->regs[n], cpu, buf);
	return (long)gdb_hex_encode(buf, l->regs[n].bits / 8, hex);
}

int gdb_reg_write(enum gdb_arch arch, struct gdb_cpu *cpu, unsigned n,
		  const char *hex, size_t len)
{
	const struct layout *l = layout_of(arch);
	uint8_t buf[REG_MAX];

	if (!l || n >= l->count || len != l->regs[n].bits / 4u ||
	    gdb_hex_decode(hex, len, buf, sizeof(buf)) != (long)len / 2)
		return -1;
	reg_set(&l->regs[n], cpu, buf);
	return 0;
}

unsigned gdb_reg_pc(enum gdb_arch arch)
{
	return layout_of(arch)->pc;
}

unsigned gdb_reg_sp(enum gdb_arch arch)
{
	return layout_of(arch)->sp;
}

/* The XML. Flags types for the registers whose bits people read. */
struct flag { const char *name; unsigned char start, end; };

#define BIT(n, b)	{ n, b, b }
static const struct flag eflags_bits[] = {
	BIT("CF", 0), BIT("PF", 2), BIT("AF", 4), BIT("ZF", 6), BIT("SF", 7),
	BIT("TF", 8), BIT("IF", 9), BIT("DF", 10), BIT("OF", 11),
	{ "IOPL", 12, 13 }, BIT("NT", 14), BIT("RF", 16), BIT("VM", 17),
	BIT("AC", 18), BIT("VIF", 19), BIT("VIP", 20), BIT("ID", 21), { NULL, 0, 0 },
};
static const struct flag mxcsr_bits[] = {
	BIT("IE", 0), BIT("DE", 1), BIT("ZE", 2), BIT("OE", 3), BIT("UE", 4),
	BIT("PE", 5), BIT("DAZ", 6), BIT("IM", 7), BIT("DM", 8), BIT("ZM", 9),
	BIT("OM", 10), BIT("UM", 11), BIT("PM", 12), BIT("FZ", 15), { NULL, 0, 0 },
};
static const struct flag cr0_bits[] = {
	BIT("PE", 0), BIT("MP", 1), BIT("EM", 2), BIT("TS", 3), BIT("ET", 4),
	BIT("NE", 5), BIT("WP", 16), BIT("AM", 18), BIT("NW", 29), BIT("CD", 30),
	BIT("PG", 31), { NULL, 0, 0 },
};
static const struct flag cr4_bits[] = {
	BIT("VME", 0), BIT("PVI", 1), BIT("TSD", 2), BIT("DE", 3), BIT("PSE", 4),
	BIT("PAE", 5), BIT("MCE", 6), BIT("PGE", 7), BIT("PCE", 8),
	BIT("OSFXSR", 9), BIT("OSXMMEXCPT", 10), BIT("UMIP", 11), BIT("LA57", 12),
	BIT("VMXE", 13), BIT("SMXE", 14), BIT("FSGSBASE", 16), BIT("PCIDE", 17),
	BIT("OSXSAVE", 18), BIT("SMEP", 20), BIT("SMAP", 21), BIT("PKE", 22),
	{ NULL, 0, 0 },
};
static const struct flag efer_bits[] = {
	BIT("SCE", 0), BIT("LME", 8), BIT("LMA", 10), BIT("NXE", 11),
	BIT("SVME", 12), BIT("LMSLE", 13), BIT("FFXSR", 14), BIT("TCE", 15),
	{ NULL, 0, 0 },
};

static void xml_flags(FILE *f, const char *id, unsigned bytes,
		      const struct flag *fl)
{
	fprintf(f, "  <flags id=\"%s\" size=\"%u\">\n", id, bytes);
	for (; fl->name; fl++)
		fprintf(f, "    <field name=\"%s\" start=\"%u\" end=\"%u\"/>\n",
			fl->name, fl->start, fl->end);
	fprintf(f, "  </flags>\n");
}

static void xml_types(FILE *f, enum feature feat, const struct layout *l)
{
	switch (feat) {
	case F_CORE:
		xml_flags(f, "i386_eflags", 4, eflags_bits);
		break;
	case F_SSE:
		fprintf(f,
			"  <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
			"  <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
			"  <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
			"  <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
			"  <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
			"  <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
			"  <union id=\"vec128\">\n"
			"    <field name=\"v4_float\" type=\"v4f\"/>\n"
			"    <field name=\"v2_double\" type=\"v2d\"/>\n"
			"    <field name=\"v16_int8\" type=\"v16i8\"/>\n"
			"    <field name=\"v8_int16\" type=\"v8i16\"/>\n"
			"    <field name=\"v4_int32\" type=\"v4i32\"/>\n"
			"    <field name=\"v2_int64\" type=\"v2i64\"/>\n"
			"    <field name=\"uint128\" type=\"uint128\"/>\n"
			"  </union>\n");
		xml_flags(f, "i386_mxcsr", 4, mxcsr_bits);
		break;
	case F_SYS:
		xml_flags(f, "i386_cr0", l->sys_bits / 8, cr0_bits);
		xml_flags(f, "i386_cr4", l->sys_bits / 8, cr4_bits);
		xml_flags(f, "i386_efer", l->sys_bits / 8, efer_bits);
		break;
	default:
		break;
	}
}

/* Registers of one feature are contiguous in the table; regnum is the
 * table index, which is the 'p' number and the order of 'g'. */
static char *xml_build(const struct layout *l)
{
	char *doc = NULL;
	size_t size;
	FILE *f = open_memstream(&doc, &size);
	int cur = -1;

	if (!f)
		return NULL;
	fprintf(f, "<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		"<target version=\"1.0\">\n");
	if (l->arch)
		fprintf(f, "  <architecture>%s</architecture>\n", l->arch);
	for (unsigned i = 0; i < l->count; i++) {
		const struct reg *r = &l->regs[i];

		if (r->feature != cur) {
			if (cur >= 0)
				fprintf(f, "</feature>\n");
			cur = r->feature;
			fprintf(f, "<feature name=\"%s\">\n", feature_name[cur]);
			xml_types(f, cur, l);
		}
		fprintf(f, "  <reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
			r->name, r->bits, r->type, i);
		if (r->group)
			fprintf(f, " group=\"%s\"", r->group);
		fprintf(f, "/>\n");
	}
	fprintf(f, "</feature>\n</target>\n");
	return fclose(f) ? NULL : doc;
}

static char *tdesc_doc[ARRAY_SIZE(layouts)];
static pthread_once_t tdesc_once = PTHREAD_ONCE_INIT;

static void tdesc_build_all(void)
{
	for (unsigned a = 0; a < ARRAY_SIZE(layouts); a++)
		tdesc_doc[a] = xml_build(&layouts[a]);
}

const char *gdb_tdesc(enum gdb_arch arch, const char *annex)
{
	if (!layout_of(arch) || strcmp(annex, "target.xml") != 0)
		return NULL;
	pthread_once(&tdesc_once, tdesc_build_all);
	return tdesc_doc[arch];
}
