/* The ACPI table builder (vmm/acpi.c), read back as a guest would: from the
 * RSDP through the guest-physical addresses the tables give, with the
 * field offsets of the ACPI specification (not the builder's structs), and
 * through Debian's disassembler (iasl -d, package acpica-tools). */
#define _GNU_SOURCE		/* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/acpi/pm.h"
#include "devices/error.h"
#include "vmm/acpi.h"

#define BASE	0x7fff0000ull	/* where the board would put them: top of 2 GiB */
#define CANARY	0xa5

static uint8_t buf[ACPI_TABLES_SIZE + 4096];
static uint8_t rsdp[ACPI_RSDP_SIZE];
static uint64_t facs_gpa;

/* An HPET as the board describes one. */
#define HPET_ID		0x8086a201u
#define HPET_BASE	0xfed00000u
#define HPET_MIN_TICK	20000

static int build_cfg(const struct acpi_config *cfg, uint64_t size, struct error *e)
{
	memset(buf, CANARY, sizeof(buf));
	return acpi_build_tables(cfg, buf, BASE, size, rsdp, &facs_gpa, e);
}

static int build(unsigned ncpus, uint64_t size, struct error *e)
{
	return build_cfg(&(struct acpi_config){ .ncpus = ncpus }, size, e);
}

static void build_ok(unsigned ncpus)
{
	struct error e = { "" };

	cr_assert_eq(build(ncpus, ACPI_TABLES_SIZE, &e), 0, "%s", e.msg);
}

static void build_with_hpet_ok(unsigned ncpus)
{
	struct acpi_config cfg = { .ncpus = ncpus, .hpet_block_id = HPET_ID,
				   .hpet_base = HPET_BASE, .hpet_min_tick = HPET_MIN_TICK };
	struct error e = { "" };

	cr_assert_eq(build_cfg(&cfg, ACPI_TABLES_SIZE, &e), 0, "%s", e.msg);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The @len bytes at guest-physical @gpa, which must be inside the tables. */
static const uint8_t *at(uint64_t gpa, uint64_t len)
{
	cr_assert(gpa >= BASE && gpa - BASE <= ACPI_TABLES_SIZE &&
		  len <= ACPI_TABLES_SIZE - (gpa - BASE),
		  "[%#llx, +%#llx) is outside the tables", (unsigned long long)gpa,
		  (unsigned long long)len);
	return buf + (gpa - BASE);
}

static uint8_t sum(const uint8_t *p, uint64_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* A table with header at @gpa, its signature, length and checksum checked. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *h = at(gpa, 36);
	uint32_t len = (uint32_t)le(h + 4, 4);

	cr_assert(!memcmp(h, sig, 4), "%.4s at %#llx, not %s", (const char *)h,
		  (unsigned long long)gpa, sig);
	cr_assert_geq(len, 36);
	cr_assert_eq(sum(at(gpa, len), len), 0, "%s checksum", sig);
	cr_assert(!memcmp(h + 10, "TINYVM", 6) && !memcmp(h + 16, "TINYVMM ", 8));
	return h;
}

static uint64_t rsdt_gpa(void) { return le(rsdp + 16, 4); }
static uint64_t xsdt_gpa(void) { return le(rsdp + 24, 8); }

/* Entry @i of the RSDT or XSDT. */
static uint64_t sdt_entry(uint64_t sdt, unsigned size, unsigned i)
{
	return le(at(sdt + 36 + i * size, size), size);
}

static const uint8_t *fadt(void) { return table(sdt_entry(rsdt_gpa(), 4, 0), "FACP"); }

TestSuite(acpi);

Test(acpi, rsdp_revision_2_with_both_checksums)
{
	build_ok(1);
	cr_assert(!memcmp(rsdp, "RSD PTR ", 8));
	cr_assert_eq(sum(rsdp, 20), 0, "ACPI 1.0 checksum");
	cr_assert_eq(rsdp[15], 2, "revision");
	cr_assert_eq(le(rsdp + 20, 4), ACPI_RSDP_SIZE, "length");
	cr_assert_eq(sum(rsdp, ACPI_RSDP_SIZE), 0, "extended checksum");
	cr_assert(!memcmp(rsdp + 9, "TINYVM", 6));
	cr_assert_eq(rsdp[33] | rsdp[34] | rsdp[35], 0, "reserved");
}

Test(acpi, rsdt_and_xsdt_list_the_fadt_and_the_madt)
{
	const uint8_t *rsdt, *xsdt;

	build_ok(2);
	rsdt = table(rsdt_gpa(), "RSDT");
	xsdt = table(xsdt_gpa(), "XSDT");
	cr_assert_eq(le(rsdt + 4, 4), 36 + 2 * 4);
	cr_assert_eq(le(xsdt + 4, 4), 36 + 2 * 8);
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(sdt_entry(rsdt_gpa(), 4, i), sdt_entry(xsdt_gpa(), 8, i));
	table(sdt_entry(xsdt_gpa(), 8, 0), "FACP");
	table(sdt_entry(xsdt_gpa(), 8, 1), "APIC");
}

/* IA-PC HPET 1.0a, 3.2.4: block ID at 36, the base as a Generic Address
 * Structure at 40 (system memory), HPET number at 52, minimum periodic tick
 * at 53, page protection at 55; 56 bytes. */
Test(acpi, with_an_hpet_both_lists_name_its_table)
{
	const uint8_t *h;

	build_with_hpet_ok(2);
	cr_assert_eq(le(table(rsdt_gpa(), "RSDT") + 4, 4), 36 + 3 * 4);
	cr_assert_eq(le(table(xsdt_gpa(), "XSDT") + 4, 4), 36 + 3 * 8);
	cr_assert_eq(sdt_entry(rsdt_gpa(), 4, 2), sdt_entry(xsdt_gpa(), 8, 2));
	table(sdt_entry(rsdt_gpa(), 4, 0), "FACP");
	table(sdt_entry(rsdt_gpa(), 4, 1), "APIC");
	h = table(sdt_entry(rsdt_gpa(), 4, 2), "HPET");
	cr_assert_eq(le(h + 4, 4), 56);
	cr_assert_eq(h[8], 1, "revision");
	cr_assert_eq(le(h + 36, 4), HPET_ID);
	cr_assert_eq(h[40], 0, "system memory");
	cr_assert_eq(h[41] | h[42] | h[43], 0, "width, offset, access size as QEMU's");
	cr_assert_eq(le(h + 44, 8), HPET_BASE);
	cr_assert_eq(h[52], 0, "HPET number");
	cr_assert_eq(le(h + 53, 2), HPET_MIN_TICK);
	cr_assert_eq(h[55], 0, "no page protection");
}

Test(acpi, tables_are_aligned_and_do_not_overlap)
{
	uint64_t gpa[6], len[6];

	build_ok(8);
	gpa[0] = rsdt_gpa();
	gpa[1] = xsdt_gpa();
	gpa[2] = sdt_entry(gpa[0], 4, 0);
	gpa[3] = sdt_entry(gpa[0], 4, 1);
	gpa[4] = le(at(gpa[2] + 40, 4), 4);	/* DSDT */
	gpa[5] = facs_gpa;
	for (int i = 0; i < 6; i++) {
		len[i] = le(at(gpa[i] + 4, 4), 4);
		cr_assert_eq(gpa[i] % (i == 5 ? 64 : 16), 0, "table %d at %#llx", i,
			     (unsigned long long)gpa[i]);
	}
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			cr_assert(i == j || gpa[i] + len[i] <= gpa[j] ||
				  gpa[j] + len[j] <= gpa[i], "tables %d and %d overlap", i, j);
}

Test(acpi, fadt_points_at_the_facs_and_the_dsdt)
{
	const uint8_t *f, *facs;
	uint64_t dsdt;

	build_ok(1);
	f = fadt();
	cr_assert_geq(f[8], 3, "FADT revision");
	cr_assert_geq(le(f + 4, 4), 244);
	cr_assert_eq(le(f + 36, 4), facs_gpa, "FIRMWARE_CTRL");
	cr_assert_eq(le(f + 132, 8), 0, "X_FIRMWARE_CTRL: only one of the two may be set");
	dsdt = le(f + 40, 4);
	cr_assert_eq(le(f + 140, 8), dsdt, "X_DSDT");
	table(dsdt, "DSDT");

	facs = at(facs_gpa, 64);
	cr_assert(!memcmp(facs, "FACS", 4));
	cr_assert_eq(le(facs + 4, 4), 64, "length");
	cr_assert_eq(facs_gpa % 64, 0, "the FACS is 64-byte aligned");
	cr_assert_eq(le(facs + ACPI_FACS_WAKING_VECTOR, 4), 0);
	cr_assert_eq(le(facs + ACPI_FACS_X_WAKING_VECTOR, 8), 0);
	cr_assert_eq(le(facs + 16, 4), 0, "global lock free");
}

/* A Generic Address Structure: system I/O at @port, @bits wide. */
static void assert_io_gas(const uint8_t *g, uint64_t port, unsigned bits,
			  unsigned access, const char *what)
{
	cr_assert_eq(g[0], 1, "%s: system I/O", what);
	cr_assert_eq(g[1], bits, "%s: bit width", what);
	cr_assert_eq(g[2], 0, "%s: bit offset", what);
	cr_assert_eq(g[3], access, "%s: access size", what);
	cr_assert_eq(le(g + 4, 8), port, "%s: address", what);
}

Test(acpi, fadt_describes_the_pm_registers_and_the_reset_register)
{
	const uint8_t *f;
	uint32_t flags;

	build_ok(1);
	f = fadt();
	cr_assert_eq(le(f + 46, 2), ACPI_SCI_IRQ, "SCI_INT");
	cr_assert_eq(le(f + 48, 4), 0, "SMI_CMD: ACPI is always on");
	cr_assert_eq(f[52] | f[53], 0, "ACPI_ENABLE/DISABLE");
	cr_assert_eq(le(f + 56, 4), 0x600, "PM1a_EVT_BLK");
	cr_assert_eq(le(f + 60, 4), 0, "PM1b_EVT_BLK");
	cr_assert_eq(le(f + 64, 4), 0x604, "PM1a_CNT_BLK");
	cr_assert_eq(le(f + 76, 4), 0x608, "PM_TMR_BLK");
	cr_assert_eq(f[88], 4, "PM1_EVT_LEN");
	cr_assert_eq(f[89], 2, "PM1_CNT_LEN");
	cr_assert_eq(f[91], 4, "PM_TMR_LEN");
	assert_io_gas(f + 148, 0x600, 32, 2, "X_PM1a_EVT_BLK");
	assert_io_gas(f + 172, 0x604, 16, 2, "X_PM1a_CNT_BLK");
	assert_io_gas(f + 208, 0x608, 32, 3, "X_PM_TMR_BLK");

	flags = (uint32_t)le(f + 112, 4);
	cr_assert(flags & (1u << 10), "RESET_REG_SUP");
	cr_assert(!(flags & (1u << 8)), "TMR_VAL_EXT clear: a 24-bit timer");
	cr_assert(!(flags & (1u << 20)), "not hardware-reduced");
	cr_assert(!(flags & (1u << 18)), "1 CPU: flat logical APIC mode is fine");
	assert_io_gas(f + 116, 0xcf9, 8, 1, "RESET_REG");
	cr_assert_eq(f[128], 6, "RESET_VALUE");
	cr_assert_eq(f[108], 0x32, "CENTURY");
}

/* One AML integer element of a package at @p: its value; *@len its bytes. */
static unsigned aml_int(const uint8_t *p, unsigned *len)
{
	*len = 1;
	switch (p[0]) {
	case 0x00: return 0;	/* ZeroOp */
	case 0x01: return 1;	/* OneOp */
	case 0x0a: *len = 2; return p[1];	/* BytePrefix */
	}
	cr_assert_fail("element opcode %#x", p[0]);
	return 0;
}

struct sleep_state {
	char name[5];
	unsigned slp_typ[4];
};

/* The DSDT's body, which must be exactly a list of
 * Name (_Sx_, Package (0x04) { int, int, int, int }): decoded into @out. */
static unsigned parse_dsdt(const uint8_t *dsdt, struct sleep_state *out, unsigned max)
{
	uint32_t len = (uint32_t)le(dsdt + 4, 4);
	const uint8_t *p = dsdt + 36, *end = dsdt + len;
	unsigned n = 0;

	while (p < end) {
		const uint8_t *pkg_end;
		unsigned used;

		cr_assert_lt(n, max);
		cr_assert(end - p >= 8, "truncated Name");
		cr_assert_eq(p[0], 0x08, "NameOp");
		memcpy(out[n].name, p + 1, 4);
		out[n].name[4] = 0;
		cr_assert_eq(p[5], 0x12, "%s: PackageOp", out[n].name);
		cr_assert_lt(p[6], 0x40, "%s: one-byte PkgLength", out[n].name);
		cr_assert_eq(p[7], 4, "%s: four elements", out[n].name);
		pkg_end = p + 6 + p[6];
		cr_assert(pkg_end <= end, "%s: package past the table", out[n].name);
		p += 8;
		for (unsigned i = 0; i < 4; i++, p += used)
			out[n].slp_typ[i] = aml_int(p, &used);
		cr_assert_eq(p, pkg_end, "%s: PkgLength is not the package's size", out[n].name);
		n++;
	}
	return n;
}

Test(acpi, dsdt_names_the_sleep_types_the_pm_device_takes)
{
	static const struct sleep_state want[] = {
		{ "_S3_", { ACPI_SLP_TYP_S3, ACPI_SLP_TYP_S3, 0, 0 } },
		{ "_S4_", { ACPI_SLP_TYP_S4, ACPI_SLP_TYP_S4, 0, 0 } },
		{ "_S5_", { ACPI_SLP_TYP_S5, ACPI_SLP_TYP_S5, 0, 0 } },
	};
	struct sleep_state got[8];
	const uint8_t *dsdt;

	build_ok(1);
	dsdt = table(le(fadt() + 40, 4), "DSDT");
	cr_assert_geq(dsdt[8], 2, "64-bit AML integers");
	cr_assert_eq(parse_dsdt(dsdt, got, 8), 3);
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_str_eq(got[i].name, want[i].name);
		cr_assert_arr_eq(got[i].slp_typ, want[i].slp_typ, sizeof(want[i].slp_typ),
				 "%s", want[i].name);
	}
	cr_assert_eq(ACPI_SLP_TYP_S3, 1, "QEMU pc's \\_S3_");
	cr_assert_eq(ACPI_SLP_TYP_S4, 2, "QEMU pc's \\_S4_ (its PIIX4 PM s4_val)");
	cr_assert_eq(ACPI_SLP_TYP_S5, 0, "QEMU pc's \\_S5_");
}

static void assert_madt(unsigned ncpus)
{
	const uint8_t *m = table(sdt_entry(xsdt_gpa(), 8, 1), "APIC");

	const uint8_t *e = m + 44 + 8 * ncpus;
	static const unsigned ovr[][3] = {	/* IRQ, GSI, flags: QEMU pc's */
		{ 0, 2, 0 }, { 5, 5, 0xd }, { 9, 9, 0xd }, { 10, 10, 0xd }, { 11, 11, 0xd },
	};

	cr_assert_eq(le(m + 4, 4), 44 + 8 * ncpus + 12 + 5 * 10 + 6);
	cr_assert_eq(le(m + 36, 4), 0xfee00000, "local APIC address");
	cr_assert_eq(le(m + 40, 4), 1, "MADT flags: PCAT_COMPAT, a dual 8259");
	for (unsigned i = 0; i < ncpus; i++) {
		const uint8_t *c = m + 44 + 8 * i;

		cr_assert_eq(c[0], 0, "type: processor local APIC");
		cr_assert_eq(c[1], 8);
		cr_assert_eq(c[2], i, "processor UID");
		cr_assert_eq(c[3], i, "APIC ID = index");
		cr_assert_eq(le(c + 4, 4), 1, "enabled");
	}
	cr_assert(e[0] == 1 && e[1] == 12, "I/O APIC entry");
	cr_assert_eq(e[2], 0, "I/O APIC ID");
	cr_assert_eq(le(e + 4, 4), 0xfec00000);
	cr_assert_eq(le(e + 8, 4), 0, "GSI base");
	e += 12;
	for (unsigned i = 0; i < 5; i++, e += 10) {
		cr_assert(e[0] == 2 && e[1] == 10 && e[2] == 0, "override %u", i);
		cr_assert_eq(e[3], ovr[i][0]);
		cr_assert_eq(le(e + 4, 4), ovr[i][1]);
		cr_assert_eq(le(e + 8, 2), ovr[i][2]);
	}
	cr_assert(e[0] == 4 && e[1] == 6 && e[2] == 0xff, "LAPIC NMI on every CPU");
	cr_assert_eq(le(e + 3, 2), 0);
	cr_assert_eq(e[5], 1, "LINT1");
}

Test(acpi, madt_has_one_lapic_per_cpu)
{
	build_ok(3);
	assert_madt(3);
}

Test(acpi, sixty_four_and_255_cpus_fit)
{
	build_ok(64);
	assert_madt(64);
	cr_assert(le(fadt() + 112, 4) & (1u << 18), "FORCE_APIC_CLUSTER_MODEL past 8 CPUs");
	build_ok(255);
	assert_madt(255);
}

Test(acpi, writes_nothing_past_the_size_it_is_given)
{
	struct error e = { "" };
	static const uint64_t sizes[] = { 0, 63, 64, 200, 400, 1000, ACPI_TABLES_SIZE };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		build(64, sizes[i], &e);
		for (uint64_t b = sizes[i]; b < sizeof(buf); b++)
			cr_assert_eq(buf[b], CANARY, "size %#llx: byte %#llx written",
				     (unsigned long long)sizes[i], (unsigned long long)b);
	}
}

Test(acpi, too_small_a_buffer_fails_with_a_message)
{
	struct error e = { "" };

	cr_assert_eq(build(4, 0, &e), -1);
	cr_assert(strstr(e.msg, "do not fit"), "%s", e.msg);
	cr_assert_eq(build(4, 300, &e), -1);
	cr_assert_eq(build(255, 2048, &e), -1, "255 CPUs need more than 2 KiB");
}

Test(acpi, bad_cpu_counts_and_addresses_fail)
{
	struct acpi_config cfg = { .ncpus = 0 };
	struct error e = { "" };

	cr_assert_eq(acpi_build_tables(&cfg, buf, BASE, ACPI_TABLES_SIZE, rsdp, &facs_gpa, &e), -1);
	cr_assert(strstr(e.msg, "0 CPUs"), "%s", e.msg);
	cfg.ncpus = 256;
	cr_assert_eq(acpi_build_tables(&cfg, buf, BASE, ACPI_TABLES_SIZE, rsdp, &facs_gpa, &e), -1);
	cfg.ncpus = 1;
	cr_assert_eq(acpi_build_tables(&cfg, buf, 0xffff8000, ACPI_TABLES_SIZE, rsdp, &facs_gpa,
				       &e), -1, "past 4 GiB: the RSDT has 32-bit addresses");
	cr_assert(strstr(e.msg, "4 GiB"), "%s", e.msg);
	cr_assert_eq(acpi_build_tables(&cfg, buf, 0x100000000ull, 4096, rsdp, &facs_gpa, &e), -1);
	cr_assert_eq(acpi_build_tables(&cfg, buf, 0xffff0000, ACPI_TABLES_SIZE, rsdp, &facs_gpa,
				       &e), 0, "%s", e.msg);
}

/* ---- iasl -d on every table (the RSDP is no table: iasl cannot load it) ---- */

static void write_table(const char *dir, const char *name, uint64_t gpa, uint64_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(at(gpa, len), 1, len, f), len);
	fclose(f);
}

/* Runs iasl -d on @name.dat; its output must hold no "Error" and, if
 * @expect, that string (in the .dsl it writes). */
static void disassemble(const char *dir, const char *name, const char *expect)
{
	char cmd[512], line[512], dsl[256];
	bool found = !expect;
	FILE *p, *f;
	int status;

	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat 2>&1", dir, name);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		cr_assert_null(strstr(line, "Error"), "iasl -d %s: %s", name, line);
	status = pclose(p);
	cr_assert_eq(status, 0, "iasl -d %s.dat exited with %#x", name, status);

	snprintf(dsl, sizeof(dsl), "%s/%s.dsl", dir, name);
	f = fopen(dsl, "r");
	cr_assert_not_null(f, "iasl wrote no %s", dsl);
	while (fgets(line, sizeof(line), f))
		found |= expect && strstr(line, expect);
	fclose(f);
	cr_assert(found, "%s.dsl has no \"%s\"", name, expect);
}

Test(acpi, iasl_disassembles_every_table_cleanly)
{
	char dir[] = "/tmp/tinyvmm-acpi-XXXXXX", cmd[64];
	uint64_t fadt_gpa, dsdt_gpa;

	if (system("command -v iasl >/dev/null 2>&1"))
		cr_assert_fail("iasl not found: install acpica-tools (apt-get install -y acpica-tools)");
	build_with_hpet_ok(4);
	cr_assert_not_null(mkdtemp(dir));
	fadt_gpa = sdt_entry(rsdt_gpa(), 4, 0);
	dsdt_gpa = le(at(fadt_gpa + 40, 4), 4);
	write_table(dir, "rsdt", rsdt_gpa(), le(at(rsdt_gpa() + 4, 4), 4));
	write_table(dir, "xsdt", xsdt_gpa(), le(at(xsdt_gpa() + 4, 4), 4));
	write_table(dir, "facp", fadt_gpa, le(at(fadt_gpa + 4, 4), 4));
	write_table(dir, "dsdt", dsdt_gpa, le(at(dsdt_gpa + 4, 4), 4));
	write_table(dir, "facs", facs_gpa, 64);
	write_table(dir, "apic", sdt_entry(rsdt_gpa(), 4, 1),
		    le(at(sdt_entry(rsdt_gpa(), 4, 1) + 4, 4), 4));
	write_table(dir, "hpet", sdt_entry(rsdt_gpa(), 4, 2), 56);

	disassemble(dir, "rsdt", "ACPI Table Address   1");
	disassemble(dir, "xsdt", "ACPI Table Address   1");
	disassemble(dir, "facp", "Value to cause reset : 06");
	disassemble(dir, "dsdt", "Name (_S3, Package (0x04)");
	disassemble(dir, "facs", "Version : 02");
	disassemble(dir, "apic", "Local Apic ID : 03");
	disassemble(dir, "apic", "[Interrupt Source Override]");
	disassemble(dir, "hpet", "Hardware Block ID : 8086A201");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
