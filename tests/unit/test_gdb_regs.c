/* The GDB register layer: the target descriptions as gdb 13 needs them,
 * and the 'g'/'G'/'p'/'P' bodies. Offsets and widths are taken from the
 * XML each layout serves (parsed crudely here), so the description, the
 * 'g' layout and the register numbers are checked against each other. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/gdb/regs.h"

#define MAX_REGS	128
#define HEX_CAP		4096

static const enum gdb_arch all_archs[] = {
	GDB_ARCH_I386, GDB_ARCH_X86_64, GDB_ARCH_DUAL,
};

/* One <reg> of a description. */
struct xreg {
	char name[16];
	char feature[48];
	char type[24];
	unsigned bits, regnum;
	size_t hexoff;		/* where it starts in the 'g' reply */
};

struct tdesc {
	struct xreg reg[MAX_REGS];
	unsigned count;
	size_t hexlen;		/* the 'g' reply the XML implies */
	const char *xml;
};

/* The value of @key="..." inside the tag starting at @tag, or false. */
static bool attr(const char *tag, const char *key, char *out, size_t cap)
{
	const char *end = strchr(tag, '>');
	char pat[32];
	const char *v, *q;

	snprintf(pat, sizeof(pat), " %s=\"", key);
	v = strstr(tag, pat);
	if (!v || v > end)
		return false;
	v += strlen(pat);
	q = strchr(v, '"');
	cr_assert(q && q < end && (size_t)(q - v) < cap, "attribute %s", key);
	memcpy(out, v, (size_t)(q - v));
	out[q - v] = '\0';
	return true;
}

static unsigned attr_uint(const char *tag, const char *key)
{
	char v[16];

	cr_assert(attr(tag, key, v, sizeof(v)), "<reg> without %s", key);
	return (unsigned)strtoul(v, NULL, 10);
}

static unsigned count_of(const char *s, const char *what)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void parse(enum gdb_arch arch, struct tdesc *t)
{
	const char *xml = gdb_tdesc(arch, "target.xml");
	const char *p = xml, *feat = NULL;
	size_t off = 0;

	cr_assert_not_null(xml);
	memset(t, 0, sizeof(*t));
	t->xml = xml;
	cr_assert(!strncmp(xml, "<?xml version=\"1.0\"?>", 21));
	cr_assert_eq(count_of(xml, "<target"), 1);
	cr_assert_not_null(strstr(xml, "</target>\n"));
	cr_assert_eq(count_of(xml, "<feature "), count_of(xml, "</feature>"));
	cr_assert_eq(count_of(xml, "<"), count_of(xml, ">"));
	cr_assert_eq(count_of(xml, "<flags"), count_of(xml, "</flags>"));
	while ((p = strpbrk(p, "<"))) {
		if (!strncmp(p, "<feature ", 9)) {
			feat = p;
		} else if (!strncmp(p, "<reg ", 5)) {
			struct xreg *r = &t->reg[t->count];

			cr_assert_lt(t->count, MAX_REGS);
			cr_assert_not_null(feat, "a <reg> outside any <feature>");
			cr_assert(attr(feat, "name", r->feature, sizeof(r->feature)));
			cr_assert(attr(p, "name", r->name, sizeof(r->name)));
			cr_assert(attr(p, "type", r->type, sizeof(r->type)));
			r->bits = attr_uint(p, "bitsize");
			r->regnum = attr_uint(p, "regnum");
			cr_assert(strstr(p, "/>") < strchr(p, '>') + 1,
				  "<reg %s> is not self-closing", r->name);
			cr_assert_eq(r->regnum, t->count,
				     "%s: regnum %u, 'g' position %u", r->name,
				     r->regnum, t->count);
			cr_assert_eq(r->bits % 8, 0);
			r->hexoff = off;
			off += r->bits / 4;
			t->count++;
		}
		p++;
	}
	t->hexlen = off;
}

static const struct xreg *find(const struct tdesc *t, const char *name)
{
	for (unsigned i = 0; i < t->count; i++)
		if (!strcmp(t->reg[i].name, name))
			return &t->reg[i];
	cr_assert_fail("no register %s", name);
	return NULL;
}

static void fill_random(struct gdb_cpu *cpu, unsigned seed)
{
	uint8_t *b = (uint8_t *)cpu;

	srand(seed);
	for (size_t i = 0; i < sizeof(*cpu); i++)
		b[i] = (uint8_t)rand();
}

static void read_all(enum gdb_arch arch, const struct gdb_cpu *cpu, char *hex)
{
	cr_assert_gt(gdb_regs_read_all(arch, cpu, hex, HEX_CAP), 0);
}

/* The little-endian hex of @value in @bytes bytes. */
static void le_hex(uint64_t value, unsigned bytes, char *out)
{
	for (unsigned i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x",
			i < 8 ? (unsigned)(value >> (8 * i)) & 0xff : 0);
}

static void assert_reg_hex(const struct tdesc *t, const char *g,
			   const char *name, unsigned bits, uint64_t value)
{
	const struct xreg *r = find(t, name);
	char want[33];

	cr_assert_eq(r->bits, bits, "%s is %u bits, not %u", name, r->bits, bits);
	le_hex(value, bits / 8, want);
	cr_assert(!strncmp(g + r->hexoff, want, bits / 4),
		  "%s at hex offset %zu: %.*s, want %s", name, r->hexoff,
		  (int)(bits / 4), g + r->hexoff, want);
}

/* What gdb 13's i386/amd64 code insists on (i386_validate_tdesc_p): these
 * names in the core and sse features, else it rejects the description. */
static const char *const x87_names[] = {
	"st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7", "fctrl",
	"fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop", NULL,
};
static const char *const i386_core[] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip",
	"eflags", "cs", "ss", "ds", "es", "fs", "gs", NULL,
};
static const char *const amd64_core[] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
	"r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ss",
	"ds", "es", "fs", "gs", NULL,
};

static void assert_in_feature(const struct tdesc *t, const char *const *names,
			      const char *feature)
{
	for (; *names; names++)
		cr_assert_str_eq(find(t, *names)->feature, feature, "%s", *names);
}

static void assert_xmms(const struct tdesc *t, unsigned n)
{
	char name[16];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "xmm%u", i);
		cr_assert_str_eq(find(t, name)->feature, "org.gnu.gdb.i386.sse");
		cr_assert_eq(find(t, name)->bits, 128);
	}
	cr_assert_str_eq(find(t, "mxcsr")->feature, "org.gnu.gdb.i386.sse");
}

static void assert_i386_valid(const struct tdesc *t)
{
	assert_in_feature(t, i386_core, "org.gnu.gdb.i386.core");
	assert_in_feature(t, x87_names, "org.gnu.gdb.i386.core");
	assert_xmms(t, 8);
	/* gdb 13 with an ELF32 file asserts (tdesc_use_registers) on an
	 * i386 description with this feature. */
	cr_assert_null(strstr(t->xml, "org.gnu.gdb.i386.segments"));
}

static void assert_amd64_valid(const struct tdesc *t)
{
	assert_in_feature(t, amd64_core, "org.gnu.gdb.i386.core");
	assert_in_feature(t, x87_names, "org.gnu.gdb.i386.core");
	assert_xmms(t, 16);
}

Test(gdb_regs, xml_matches_the_g_layout)
{
	static const char *const sys[] = { "cr0", "cr2", "cr3", "cr4", "efer" };
	struct gdb_cpu cpu = { 0 };
	char hex[HEX_CAP];
	struct tdesc t;

	for (unsigned a = 0; a < 3; a++) {
		parse(all_archs[a], &t);
		cr_assert_eq(gdb_regs_read_all(all_archs[a], &cpu, hex, sizeof(hex)),
			     t.hexlen, "layout %u", a);
		cr_assert_eq(strlen(hex), t.hexlen);
		for (unsigned i = 0; i < 5; i++)
			cr_assert_str_eq(find(&t, sys[i])->feature,
					 "org.gnu.gdb.i386.sys");
		find(&t, "fs_base");
		find(&t, "gs_base");
	}
}

Test(gdb_regs, layouts_pass_gdbs_checks)
{
	struct tdesc t;

	parse(GDB_ARCH_I386, &t);
	assert_i386_valid(&t);
	cr_assert_not_null(strstr(t.xml, "<architecture>i386</architecture>"));
	cr_assert_eq(t.hexlen, 2 * 336);

	parse(GDB_ARCH_X86_64, &t);
	assert_amd64_valid(&t);
	cr_assert_not_null(strstr(t.xml, "<architecture>i386:x86-64</architecture>"));
	cr_assert_str_eq(find(&t, "fs_base")->feature, "org.gnu.gdb.i386.segments");
	cr_assert_eq(t.hexlen, 2 * 592);
}

Test(gdb_regs, dual_passes_both_and_names_no_architecture)
{
	struct tdesc t;

	parse(GDB_ARCH_DUAL, &t);
	assert_i386_valid(&t);
	assert_amd64_valid(&t);
	cr_assert_null(strstr(t.xml, "<architecture>"));
	/* gdb sizes pointer types by the architecture, not by bitsize: one
	 * would make the 'g' layout differ between i386 and amd64. */
	cr_assert_null(strstr(t.xml, "_ptr\""));
}

Test(gdb_regs, exact_offsets_and_widths)
{
	struct gdb_cpu cpu = { 0 };
	char g[HEX_CAP];
	struct tdesc t;

	cpu.regs.rip = 0x1122334455667788ull;
	cpu.regs.rflags = 0xaaaaaaaa00000246ull;
	cpu.sregs.cs.selector = 0x1b;
	cpu.sregs.cs.base = 0xdeadbeef;
	cpu.sregs.fs.base = 0xffff888012345678ull;
	cpu.sregs.cr3 = 0x00000001cafe3000ull;
	cpu.sregs.efer = 0xd01;

	parse(GDB_ARCH_I386, &t);
	read_all(GDB_ARCH_I386, &cpu, g);
	assert_reg_hex(&t, g, "eip", 32, 0x55667788);
	cr_assert_eq(find(&t, "eip")->hexoff, 8 * 8);
	assert_reg_hex(&t, g, "eflags", 32, 0x246);
	cr_assert_eq(find(&t, "eflags")->hexoff, 9 * 8);
	assert_reg_hex(&t, g, "cs", 32, 0x1b);
	cr_assert_eq(find(&t, "cs")->hexoff, 10 * 8);
	assert_reg_hex(&t, g, "fs_base", 32, 0x12345678);
	assert_reg_hex(&t, g, "cr3", 32, 0xcafe3000);
	assert_reg_hex(&t, g, "efer", 32, 0xd01);

	parse(GDB_ARCH_X86_64, &t);
	read_all(GDB_ARCH_X86_64, &cpu, g);
	assert_reg_hex(&t, g, "rip", 64, 0x1122334455667788ull);
	cr_assert_eq(find(&t, "rip")->hexoff, 16 * 16);
	assert_reg_hex(&t, g, "eflags", 32, 0x246);
	cr_assert_eq(find(&t, "eflags")->hexoff, 17 * 16);
	assert_reg_hex(&t, g, "cs", 32, 0x1b);
	cr_assert_eq(find(&t, "cs")->hexoff, 17 * 16 + 8);
	assert_reg_hex(&t, g, "fs_base", 64, 0xffff888012345678ull);
	assert_reg_hex(&t, g, "cr3", 64, 0x00000001cafe3000ull);
	assert_reg_hex(&t, g, "efer", 64, 0xd01);

	parse(GDB_ARCH_DUAL, &t);
	read_all(GDB_ARCH_DUAL, &cpu, g);
	assert_reg_hex(&t, g, "rip", 64, 0x1122334455667788ull);
	assert_reg_hex(&t, g, "eip", 32, 0x55667788);
	assert_reg_hex(&t, g, "eflags", 32, 0x246);
	assert_reg_hex(&t, g, "cs", 32, 0x1b);
	assert_reg_hex(&t, g, "fs_base", 64, 0xffff888012345678ull);
	assert_reg_hex(&t, g, "cr3", 64, 0x00000001cafe3000ull);
	assert_reg_hex(&t, g, "efer", 64, 0xd01);
}

/* Every general register by name shows its own field. */
Test(gdb_regs, each_name_shows_its_field)
{
	static const char *const x64[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8",
		"r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
	};
	static const char *const x32[] = {
		"eax", "ebx", "ecx", "edx", "esi", "edi", "esp", "ebp", "eip",
	};
	static const char *const segs[] = { "cs", "ds", "es", "fs", "gs", "ss" };
	struct gdb_cpu cpu = { 0 };
	__u64 *gpr[] = {
		&cpu.regs.rax, &cpu.regs.rbx, &cpu.regs.rcx, &cpu.regs.rdx,
		&cpu.regs.rsi, &cpu.regs.rdi, &cpu.regs.rsp, &cpu.regs.rbp,
		&cpu.regs.r8, &cpu.regs.r9, &cpu.regs.r10, &cpu.regs.r11,
		&cpu.regs.r12, &cpu.regs.r13, &cpu.regs.r14, &cpu.regs.r15,
		&cpu.regs.rip,
	};
	struct kvm_segment *seg[] = {
		&cpu.sregs.cs, &cpu.sregs.ds, &cpu.sregs.es, &cpu.sregs.fs,
		&cpu.sregs.gs, &cpu.sregs.ss,
	};
	char g[HEX_CAP];
	struct tdesc t;

	for (unsigned i = 0; i < 17; i++)
		*gpr[i] = 0x0101010100000000ull * (i + 1) + 0x10 + i;
	for (unsigned i = 0; i < 6; i++)
		seg[i]->selector = (uint16_t)(0x100 + i);
	for (unsigned a = 0; a < 3; a++) {
		parse(all_archs[a], &t);
		read_all(all_archs[a], &cpu, g);
		for (unsigned i = 0; i < 17 && all_archs[a] != GDB_ARCH_I386; i++)
			assert_reg_hex(&t, g, x64[i], 64, *gpr[i]);
		for (unsigned i = 0; i < 9 && all_archs[a] != GDB_ARCH_X86_64; i++)
			assert_reg_hex(&t, g, x32[i], 32,
				       (uint32_t)*gpr[i < 8 ? i : 16]);
		for (unsigned i = 0; i < 6; i++)
			assert_reg_hex(&t, g, segs[i], 32, 0x100 + i);
	}
}

Test(gdb_regs, pc_and_sp_numbers)
{
	static const char *const pc[] = { "eip", "rip", "rip" };
	static const char *const sp[] = { "esp", "rsp", "rsp" };
	struct tdesc t;

	for (unsigned a = 0; a < 3; a++) {
		parse(all_archs[a], &t);
		cr_assert_str_eq(t.reg[gdb_reg_pc(all_archs[a])].name, pc[a]);
		cr_assert_str_eq(t.reg[gdb_reg_sp(all_archs[a])].name, sp[a]);
	}
}

/* 'g' of a random state, 'G' into a blank one, 'g' again: the same; and
 * the fields gdb sees were carried over. */
Test(gdb_regs, g_G_round_trip)
{
	struct gdb_cpu a, b;
	char g1[HEX_CAP], g2[HEX_CAP];

	for (unsigned i = 0; i < 3; i++) {
		enum gdb_arch arch = all_archs[i];

		fill_random(&a, 7 + i);
		memset(&b, 0, sizeof(b));
		read_all(arch, &a, g1);
		cr_assert_eq(gdb_regs_write_all(arch, &b, g1, strlen(g1)), 0);
		read_all(arch, &b, g2);
		cr_assert_str_eq(g1, g2, "layout %u", i);
		cr_assert_eq((uint32_t)b.regs.rax, (uint32_t)a.regs.rax);
		cr_assert_eq(b.sregs.gs.selector, a.sregs.gs.selector);
		cr_assert_eq(b.fpu.mxcsr, a.fpu.mxcsr);
		cr_assert_arr_eq(b.fpu.xmm[7], a.fpu.xmm[7], 16);
		cr_assert_arr_eq(b.fpu.fpr[3], a.fpu.fpr[3], 10);
		cr_assert_eq(b.fpu.ftwx, a.fpu.ftwx);
		if (arch != GDB_ARCH_I386) {
			cr_assert_eq(b.regs.r15, a.regs.r15);
			cr_assert_eq(b.regs.rip, a.regs.rip);
			cr_assert_eq(b.sregs.cr3, a.sregs.cr3);
			cr_assert_arr_eq(b.fpu.xmm[15], a.fpu.xmm[15], 16);
		}
	}
}

/* The i386 layout shows and writes the low halves only. */
Test(gdb_regs, i386_writes_keep_the_high_half)
{
	struct gdb_cpu cpu = { 0 };
	char g[HEX_CAP];
	struct tdesc t;

	cpu.regs.rax = 0x1122334455667788ull;
	cpu.sregs.cr3 = 0x100002000ull;
	parse(GDB_ARCH_I386, &t);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_I386, &cpu, find(&t, "eax")->regnum,
				   "efbeadde", 8), 0);
	cr_assert_eq(cpu.regs.rax, 0x11223344deadbeefull);
	read_all(GDB_ARCH_I386, &cpu, g);
	memcpy(g + find(&t, "cr3")->hexoff, "00500000", 8);
	cr_assert_eq(gdb_regs_write_all(GDB_ARCH_I386, &cpu, g, strlen(g)), 0);
	cr_assert_eq(cpu.sregs.cr3, 0x100005000ull);
	cr_assert_eq(cpu.regs.rax, 0x11223344deadbeefull);
}

Test(gdb_regs, selector_write_changes_only_the_selector)
{
	struct gdb_cpu cpu = { 0 }, before;
	struct tdesc t;

	cpu.sregs.cs = (struct kvm_segment){ .base = 0x1000, .limit = 0xfffff,
					     .selector = 0x08, .type = 11,
					     .present = 1, .s = 1, .l = 1, .g = 1 };
	before = cpu;
	for (unsigned a = 0; a < 3; a++) {
		parse(all_archs[a], &t);
		/* The upper 16 bits of gdb's 32-bit value have nowhere to go. */
		cr_assert_eq(gdb_reg_write(all_archs[a], &cpu, find(&t, "cs")->regnum,
					   "2b00ffff", 8), 0);
		cr_assert_eq(cpu.sregs.cs.selector, 0x2b);
		cpu.sregs.cs.selector = before.sregs.cs.selector;
		cr_assert_arr_eq(&cpu, &before, sizeof(cpu));
	}
}

Test(gdb_regs, p_of_every_register_is_its_g_slice)
{
	struct gdb_cpu cpu;
	char g[HEX_CAP], v[64];
	struct tdesc t;

	fill_random(&cpu, 42);
	for (unsigned a = 0; a < 3; a++) {
		enum gdb_arch arch = all_archs[a];

		parse(arch, &t);
		read_all(arch, &cpu, g);
		for (unsigned n = 0; n < t.count; n++) {
			long len = gdb_reg_read(arch, &cpu, n, v, sizeof(v));

			cr_assert_eq(len, t.reg[n].bits / 4, "%s", t.reg[n].name);
			cr_assert(!strncmp(v, g + t.reg[n].hexoff, (size_t)len),
				  "%s", t.reg[n].name);
		}
		cr_assert_eq(gdb_reg_read(arch, &cpu, t.count, v, sizeof(v)), -1);
		cr_assert_eq(gdb_reg_read(arch, &cpu, 0xffffffffu, v, sizeof(v)), -1);
		/* xmm0 needs 32 digits and the NUL. */
		cr_assert_eq(gdb_reg_read(arch, &cpu, find(&t, "xmm0")->regnum, v,
					  32), -1);
		cr_assert_eq(gdb_reg_read(arch, &cpu, find(&t, "xmm0")->regnum, v,
					  33), 32);
	}
}

Test(gdb_regs, P_of_every_register_reads_back)
{
	struct gdb_cpu src, dst;
	char v[64], back[64];
	struct tdesc t;

	fill_random(&src, 99);
	for (unsigned a = 0; a < 3; a++) {
		enum gdb_arch arch = all_archs[a];

		parse(arch, &t);
		for (unsigned n = 0; n < t.count; n++) {
			long len = gdb_reg_read(arch, &src, n, v, sizeof(v));

			memset(&dst, 0, sizeof(dst));
			/* ftag's classes come from the st registers and TOP. */
			memcpy(dst.fpu.fpr, src.fpu.fpr, sizeof(dst.fpu.fpr));
			dst.fpu.fsw = src.fpu.fsw;
			cr_assert_eq(gdb_reg_write(arch, &dst, n, v, (size_t)len), 0,
				     "%s", t.reg[n].name);
			gdb_reg_read(arch, &dst, n, back, sizeof(back));
			cr_assert_str_eq(back, v, "%s", t.reg[n].name);
		}
	}
}

Test(gdb_regs, malformed_P_is_refused)
{
	struct gdb_cpu cpu = { 0 }, before = { 0 };
	struct tdesc t;
	unsigned eax;

	parse(GDB_ARCH_I386, &t);
	eax = find(&t, "eax")->regnum;
	cr_assert_eq(gdb_reg_write(GDB_ARCH_I386, &cpu, eax, "0102030", 7), -1);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_I386, &cpu, eax, "010203", 6), -1);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_I386, &cpu, eax, "0102030405", 10), -1);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_I386, &cpu, eax, "0102030g", 8), -1);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_I386, &cpu, eax, "", 0), -1);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_I386, &cpu, t.count, "01020304", 8), -1);
	cr_assert_arr_eq(&cpu, &before, sizeof(cpu));
}

Test(gdb_regs, malformed_G_changes_nothing)
{
	struct gdb_cpu cpu, before;
	char g[HEX_CAP];

	fill_random(&cpu, 5);
	before = cpu;
	for (unsigned a = 0; a < 3; a++) {
		enum gdb_arch arch = all_archs[a];
		size_t len;

		read_all(arch, &cpu, g);
		len = strlen(g);
		g[0] = g[0] == '0' ? '1' : '0';	/* a change, if it got through */
		cr_assert_eq(gdb_regs_write_all(arch, &cpu, g, len - 1), -1, "odd");
		cr_assert_eq(gdb_regs_write_all(arch, &cpu, g, len - 2), -1, "short");
		g[len] = '0';
		g[len + 1] = '0';
		cr_assert_eq(gdb_regs_write_all(arch, &cpu, g, len + 2), -1, "long");
		cr_assert_eq(gdb_regs_write_all(arch, &cpu, g, 0), -1, "empty");
		g[len - 1] = 'x';
		cr_assert_eq(gdb_regs_write_all(arch, &cpu, g, len), -1, "bad hex");
		g[len - 1] = ' ';
		cr_assert_eq(gdb_regs_write_all(arch, &cpu, g, len), -1, "space");
		cr_assert_arr_eq(&cpu, &before, sizeof(cpu));
	}
}

/* In the dual layout gdb's 'G' carries rax and eax; the one it changed
 * wins, whichever view (i386 or amd64) the user is in. */
Test(gdb_regs, dual_G_keeps_the_changed_alias)
{
	struct gdb_cpu cpu = { 0 };
	char g[HEX_CAP];
	struct tdesc t;

	cpu.regs.rax = 0x1122334455667788ull;
	parse(GDB_ARCH_DUAL, &t);

	read_all(GDB_ARCH_DUAL, &cpu, g);
	memcpy(g + find(&t, "eax")->hexoff, "efbeadde", 8);
	cr_assert_eq(gdb_regs_write_all(GDB_ARCH_DUAL, &cpu, g, strlen(g)), 0);
	cr_assert_eq(cpu.regs.rax, 0x11223344deadbeefull);

	read_all(GDB_ARCH_DUAL, &cpu, g);
	memcpy(g + find(&t, "rax")->hexoff, "0100000002000000", 16);
	cr_assert_eq(gdb_regs_write_all(GDB_ARCH_DUAL, &cpu, g, strlen(g)), 0);
	cr_assert_eq(cpu.regs.rax, 0x0000000200000001ull);
}

/* KVM's abridged tag (1 bit per physical register) to gdb's full tag
 * word (2 bits: 0 valid, 1 zero, 2 special, 3 empty) and back. */
Test(gdb_regs, ftag_full_and_abridged)
{
	static const uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f };
	static const uint8_t inf[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f };
	static const uint8_t denormal[10] = { 1 };
	static const uint8_t unnormal[10] = { [8] = 0xff, [9] = 0x3f };
	struct gdb_cpu cpu = { 0 };
	char v[16];
	struct tdesc t;
	unsigned ftag;

	parse(GDB_ARCH_X86_64, &t);
	ftag = find(&t, "ftag")->regnum;
	/* TOP = 5: st0 is physical 5, st1 physical 6, st2 physical 7,
	 * st3 physical 0, st4 physical 1. */
	cpu.fpu.fsw = 5 << 11;
	memcpy(cpu.fpu.fpr[0], one, 10);
	/* st1 stays 0.0 */
	memcpy(cpu.fpu.fpr[2], inf, 10);
	memcpy(cpu.fpu.fpr[3], denormal, 10);
	memcpy(cpu.fpu.fpr[4], unnormal, 10);
	cpu.fpu.ftwx = 0xe3;	/* physical 0, 1, 5, 6, 7 in use */
	gdb_reg_read(GDB_ARCH_X86_64, &cpu, ftag, v, sizeof(v));
	/* p7 special, p6 zero, p5 valid, p4..p2 empty, p1 and p0 special */
	cr_assert_str_eq(v, "fa930000");

	cr_assert_eq(gdb_reg_write(GDB_ARCH_X86_64, &cpu, ftag, "ffff0000", 8), 0);
	cr_assert_eq(cpu.fpu.ftwx, 0);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_X86_64, &cpu, ftag, "00000000", 8), 0);
	cr_assert_eq(cpu.fpu.ftwx, 0xff);
	cr_assert_eq(gdb_reg_write(GDB_ARCH_X86_64, &cpu, ftag, "ff3f0000", 8), 0);
	cr_assert_eq(cpu.fpu.ftwx, 0x80);
}

/* fioff/fiseg are the low/high halves of KVM's 64-bit last_ip (bytes 8-15
 * of FXSAVE64, where gdb's amd64 code reads them). */
Test(gdb_regs, fpu_pointers_and_control_words)
{
	struct gdb_cpu cpu = { 0 };
	char g[HEX_CAP];
	struct tdesc t;

	cpu.fpu.last_ip = 0x1122334455667788ull;
	cpu.fpu.last_dp = 0x99aabbccddeeff00ull;
	cpu.fpu.fcw = 0x37f;
	cpu.fpu.fsw = 0x3800;
	cpu.fpu.last_opcode = 0x7ff;
	cpu.fpu.mxcsr = 0x1f80;
	for (unsigned a = 0; a < 3; a++) {
		parse(all_archs[a], &t);
		read_all(all_archs[a], &cpu, g);
		assert_reg_hex(&t, g, "fioff", 32, 0x55667788);
		assert_reg_hex(&t, g, "fiseg", 32, 0x11223344);
		assert_reg_hex(&t, g, "fooff", 32, 0xddeeff00);
		assert_reg_hex(&t, g, "foseg", 32, 0x99aabbcc);
		assert_reg_hex(&t, g, "fctrl", 32, 0x37f);
		assert_reg_hex(&t, g, "fstat", 32, 0x3800);
		assert_reg_hex(&t, g, "fop", 32, 0x7ff);
		assert_reg_hex(&t, g, "mxcsr", 32, 0x1f80);
		assert_reg_hex(&t, g, "st0", 80, 0);
	}
}

Test(gdb_regs, tdesc_annexes_and_small_buffers)
{
	struct gdb_cpu cpu = { 0 };
	char hex[HEX_CAP];
	struct tdesc t;

	cr_assert_null(gdb_tdesc(GDB_ARCH_I386, "i386-core.xml"));
	cr_assert_null(gdb_tdesc(GDB_ARCH_X86_64, ""));
	cr_assert_null(gdb_tdesc((enum gdb_arch)7, "target.xml"));
	cr_assert_eq(gdb_tdesc(GDB_ARCH_DUAL, "target.xml"),
		     gdb_tdesc(GDB_ARCH_DUAL, "target.xml"), "built once");
	parse(GDB_ARCH_X86_64, &t);
	cr_assert_eq(gdb_regs_read_all(GDB_ARCH_X86_64, &cpu, hex, t.hexlen), 0);
	cr_assert_eq(gdb_regs_read_all(GDB_ARCH_X86_64, &cpu, hex, t.hexlen + 1),
		     t.hexlen);
	cr_assert_eq(gdb_regs_read_all((enum gdb_arch)7, &cpu, hex, sizeof(hex)), 0);
}
