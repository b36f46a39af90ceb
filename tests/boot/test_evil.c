/* Hostile guests: each attacks one surface. tinyvmm must keep running and
 * let the guest finish (status 0: exit code 1), or stop with its documented
 * code; never crash, hang or (in `make asan`) trip a sanitizer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/exit_codes.h"
#include "vmm_run.h"

static struct vmm_result res;

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

TestSuite(evil, .init = need_kvm, .timeout = 180);

static void expect_survived(const char *guest, const char *cpus)
{
	vmm_run((const char *const[]){ "--serial", "none", "--timeout", "120", "-c", cpus,
				       guest, NULL }, 150, &res);
	cr_assert_eq(res.code, 1, "%s -c %s: exit %d\nstderr:\n%s", guest, cpus, res.code,
		     res.err);
	cr_assert_null(strstr(res.err, "ERROR: AddressSanitizer"), "%s", res.err);
	cr_assert_null(strstr(res.err, "runtime error"), "%s", res.err);
}

Test(evil, every_port_every_width)
{
	expect_survived(TEST_GUEST("evil_ports64.elf"), "1");
}

/* The writes the sweep leaves out do end the VM: all ones to 0x92 (bit 0)
 * and a byte of all ones to 0xCF9 (bit 2) reset the machine. */
static void expect_reset(const char *guest)
{
	vmm_run((const char *const[]){ "--serial", "none", "--timeout", "60", guest, NULL },
		75, &res);
	cr_assert_eq(res.code, VMM_EXIT_RESET, "%s: exit %d\nstderr:\n%s", guest, res.code,
		     res.err);
}

Test(evil, all_ones_to_port92_resets)
{
	expect_reset(TEST_GUEST("reset_ones92_mb.elf"));
}

Test(evil, all_ones_byte_to_cf9_resets)
{
	expect_reset(TEST_GUEST("reset_onescf9_mb.elf"));
}

Test(evil, every_lapic_offset_every_width)
{
	expect_survived(TEST_GUEST("evil_lapic64.elf"), "2");
}

Test(evil, icr_flood_with_illegal_vectors)
{
	expect_survived(TEST_GUEST("evil_icr64.elf"), "4");
}

static size_t line_len(const char *s)
{
	const char *end = strchr(s, '\n');

	return end ? (size_t)(end - s) + 1 : strlen(s);
}

/* Each distinct line on stderr at most once, however often the guest
 * repeats a misuse: every complaint is logged once. */
static void expect_logged_once(const char *err)
{
	for (const char *line = err; *line; line += line_len(line)) {
		size_t len = line_len(line);
		unsigned seen = 0;

		for (const char *p = err; *p; p += line_len(p))
			seen += line_len(p) == len && !memcmp(p, line, len);
		cr_assert_eq(seen, 1, "logged %u times: %.*s", seen, (int)len, line);
	}
}

/* The I/O APIC page at every offset and width, every IOREGSEL, entries in
 * every delivery mode with illegal vectors and empty destinations; then
 * the 8259s and the ELCR fed garbage while the PIT runs at its fastest
 * and the guest takes whatever storm results (tests/guests/evil_ioapic64.S). */
Test(evil, ioapic_and_pic_garbage_under_pit_storm)
{
	expect_survived(TEST_GUEST("evil_ioapic64.elf"), "1");
	expect_logged_once(res.err);
	cr_assert(strstr(res.err, "ioapic: write to a register that does not exist"),
		  "%s", res.err);
}

/* Not hostile, but an SMP workout: INIT-SIPI-SIPI, then IPIs back and forth
 * (the benchmark guest); with one CPU it reports that no AP answered. */
Test(evil, ipi_pingpong_needs_and_uses_two_cpus)
{
	expect_survived(TEST_GUEST("ipi_pingpong_mb.elf"), "2");
	vmm_run((const char *const[]){ "--timeout", "60", "-c", "1",
				       TEST_GUEST("ipi_pingpong_mb.elf"), NULL }, 90, &res);
	cr_assert_eq(res.code, 5, "status 2 expected without an AP, got exit %d", res.code);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The bundled guest as a hostile virtio-blk driver (guest/evil_virtio.c):
 * config space, BARs, registers, ring addresses, malformed chains, ring
 * corruption, junk MSIs, resets in flight. The device must log each kind
 * of driver error once, never write the disk, and still read it after. */
Test(evil, hostile_virtio_driver)
{
	char disk[] = "/tmp/tinyvmm-evil-XXXXXX", zero[4096] = { 0 }, buf[4096];
	int fd = mkstemp(disk);
	struct stat st;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 16 << 20), 0);
	vmm_run((const char *const[]){ "--timeout", "120", "--disk", disk, BUNDLED_GUEST,
				       "--", "evil-virtio", NULL }, 150, &res);
	cr_assert_eq(res.code, 1, "exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.out,
		     res.err);
	cr_assert(strstr(res.out, "# evil: survived"), "%s", res.out);
	cr_assert_null(strstr(res.err, "ERROR: AddressSanitizer"), "%s", res.err);
	cr_assert_null(strstr(res.err, "runtime error"), "%s", res.err);
	cr_assert_eq(count(res.err, "device needs reset (logged once)"), 1, "%s", res.err);
	cr_assert_eq(count(res.err, "request failed (logged once)"), 1, "%s", res.err);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, 16 << 20, "the image changed size");
	for (off_t off = 0; off < st.st_size; off += sizeof(buf)) {
		cr_assert_eq(pread(fd, buf, sizeof(buf), off), (ssize_t)sizeof(buf));
		cr_assert_eq(memcmp(buf, zero, sizeof(buf)), 0, "disk written at %lld",
			     (long long)off);
	}
	close(fd);
	unlink(disk);
}
