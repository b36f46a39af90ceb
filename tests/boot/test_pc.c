/* Boot tests: the bundled guest's `pc` group (guest/tests_pc.c) on tinyvmm's
 * PC: fw_cfg with a user file, a multiboot module with a known pattern,
 * CMOS/RTC against the host's clock, ACPI tables, PM timer and S3; the
 * `poweroff` mode (ACPI S5) and the `acpi-dump` mode, whose tables Debian's
 * `iasl -d` must disassemble without an error. QEMU -M pc passes the same
 * (guest/README.md has the command lines). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm_run.h"

static struct vmm_result res;
static char module[] = "/tmp/tinyvmm-module-XXXXXX";
static char dump_dir[] = "/tmp/tinyvmm-acpi-XXXXXX";

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

static void cleanup(void)
{
	char cmd[64];

	unlink(module);
	if (strcmp(dump_dir + strlen(dump_dir) - 6, "XXXXXX")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dump_dir);
		cr_assert_eq(system(cmd), 0);
	}
}

TestSuite(pc, .init = need_kvm, .fini = cleanup, .timeout = 240);

static const char *const pc_tests[] = {
	"fw-cfg", "multiboot-info", "cmos-time", "rtc-flags", "cmos-memory",
	"acpi-tables", "pm-timer", "acpi-s3",
};

static void make_module(void)
{
	int fd = mkstemp(module);

	cr_assert_geq(fd, 0);
	write_module(fd);
	close(fd);
}

static void assert_has(const char *what)
{
	cr_assert(strstr(res.out, what), "no '%s' in:\n%s\nstderr:\n%s", what, res.out, res.err);
}

/* One run with the module, the user file and the host's time; @mode is a
 * guest command-line word or NULL. */
static void run_pc(const char *mode)
{
	char initrd[sizeof(module) + 16], now[32];

	make_module();
	snprintf(initrd, sizeof(initrd), "%s pattern", module);
	snprintf(now, sizeof(now), "time=%lld", (long long)time(NULL));
	vmm_run((const char *const[]){ "-c", "2",
		"--fw-cfg", "name=opt/tinyvmm/test,string=hello",
		"--initrd", initrd, BUNDLED_GUEST, "--", now, mode, NULL }, 200, &res);
}

static void assert_pc_group_passed(void)
{
	char line[128];

	cr_assert_null(strstr(res.out, "not ok"), "%s\nstderr:\n%s", res.out, res.err);
	for (size_t i = 0; i < sizeof(pc_tests) / sizeof(pc_tests[0]); i++)
		cr_assert(tap_passed(res.out, pc_tests[i]), "%s did not pass:\n%s",
			  pc_tests[i], res.out);
	assert_has("# opt/tinyvmm/test: 'hello'");
	snprintf(line, sizeof(line), "'%s pattern'\n", module);
	assert_has(line);
	snprintf(line, sizeof(line), "# module 0: pattern ok (%u words)", MODULE_WORDS);
	assert_has(line);
	assert_has("# woke up: PM1_STS");
	/* what QEMU's pc has, where tinyvmm's FADT has a reset register */
	assert_has("# FADT reset register: space 1, width 8, address 0xcf9, value 0x6");
}

Test(pc, firmware_interfaces_match_qemu_pc)
{
	run_pc(NULL);
	cr_assert_eq(res.code, 1, "exit code %d, wanted 1\nstdout:\n%s\nstderr:\n%s",
		     res.code, res.out, res.err);
	assert_pc_group_passed();
}

/* The guest powers off through ACPI S5 only when every test passed:
 * tinyvmm then exits with VMM_EXIT_POWEROFF (0, vmm/exit_codes.h), as QEMU
 * does. */
Test(pc, poweroff_mode_ends_in_s5)
{
	run_pc("poweroff");
	cr_assert_eq(res.code, 0, "exit code %d, wanted 0 (S5)\nstdout:\n%s\nstderr:\n%s",
		     res.code, res.out, res.err);
	assert_pc_group_passed();
}

/* ---- acpi-dump ---- */

#define MAX_TABLES	32
#define MAX_TABLE_SIZE	(64 * 1024)

struct table {
	char sig[5];
	uint8_t bytes[MAX_TABLE_SIZE];
	size_t len;
};

static struct table tables[MAX_TABLES];
static int ntables;

/* "# acpi SIG OFFSET: XX XX ...": appended to table SIG, at OFFSET. */
static void parse_line(const char *l)
{
	char sig[5];
	unsigned off;
	int n, i;

	if (sscanf(l, "# acpi %4s %u:%n", sig, &off, &n) != 2)
		return;
	for (i = 0; i < ntables && strcmp(tables[i].sig, sig); i++)
		;
	if (i == ntables) {
		cr_assert_lt(ntables, MAX_TABLES);
		snprintf(tables[ntables++].sig, sizeof(tables[i].sig), "%s", sig);
	}
	cr_assert_eq(off, tables[i].len, "%s: a gap before offset %u", sig, off);
	for (const char *p = l + n; *p == ' '; p += 3) {
		unsigned b;

		cr_assert_eq(sscanf(p, " %2x", &b), 1, "bad line: %s", l);
		cr_assert_lt(tables[i].len, MAX_TABLE_SIZE);
		tables[i].bytes[tables[i].len++] = (uint8_t)b;
	}
}

static void parse_dump(void)
{
	char *save, *out = strdup(res.out);

	ntables = 0;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		parse_line(l);
	free(out);
}

static const struct table *table(const char *sig)
{
	for (int i = 0; i < ntables; i++)
		if (!strcmp(tables[i].sig, sig))
			return &tables[i];
	return NULL;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* iasl (acpica-tools 20200925) refuses a raw RSDP file ("does not contain
 * a valid ACPI table") whatever its revision: its checksums are checked
 * here instead. */
static void check_rsdp(void)
{
	const struct table *r = table("RSDP");

	cr_assert(r && r->len >= 20, "no RSDP in the dump");
	cr_assert(!memcmp(r->bytes, "RSD PTR ", 8));
	cr_assert_eq(sum(r->bytes, 20), 0, "RSDP checksum");
	if (r->bytes[15] >= 2)
		cr_assert(r->len >= 36 && !sum(r->bytes, r->len), "RSDP extended checksum");
}

/* iasl -d on one table: exit status 0, no "Error" in what it says. */
static void disassemble(const struct table *t)
{
	char path[sizeof(dump_dir) + 16], cmd[2 * sizeof(path) + 64], log[8192];
	FILE *f;
	size_t n;
	int status;

	snprintf(path, sizeof(path), "%s/%s.dat", dump_dir, t->sig);
	f = fopen(path, "wb");
	cr_assert(f && fwrite(t->bytes, 1, t->len, f) == t->len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat 2>&1", dump_dir, t->sig);
	f = popen(cmd, "r");
	cr_assert(f);
	n = fread(log, 1, sizeof(log) - 1, f);
	log[n] = '\0';
	status = pclose(f);
	cr_assert_eq(status, 0, "iasl -d %s: status %d\n%s", t->sig, status, log);
	cr_assert_null(strstr(log, "Error"), "iasl -d %s:\n%s", t->sig, log);
}

Test(pc, acpi_dump_disassembles_with_iasl)
{
	static const char *const want[] = { "FACP", "APIC", "FACS", "DSDT" };

	if (system("command -v iasl >/dev/null 2>&1"))
		cr_skip_test("no iasl (apt-get install acpica-tools)");
	vmm_run((const char *const[]){ "-c", "2", BUNDLED_GUEST, "--", "acpi-dump", NULL },
		60, &res);
	cr_assert_eq(res.code, 1, "exit code %d\n%s\n%s", res.code, res.out, res.err);
	parse_dump();
	check_rsdp();
	cr_assert(table("XSDT") || table("RSDT"), "no XSDT or RSDT:\n%s", res.out);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(table(want[i]), "no %s in the dump:\n%s", want[i], res.out);
	cr_assert(mkdtemp(dump_dir));
	for (int i = 0; i < ntables; i++)
		if (strcmp(tables[i].sig, "RSDP"))
			disassemble(&tables[i]);
}
