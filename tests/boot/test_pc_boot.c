/* Booting like QEMU's -kernel: images linked the common way, the a.out
 * kludge, multiboot modules, and the multiboot info fields the mbinfo guest
 * prints (tests/guests/mbinfo.c; it exits with the number of rule
 * violations it saw, so status 0, code 1, means none). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm_run.h"

#define RUN(r, ...) vmm_run((const char *const[]){ __VA_ARGS__, NULL }, 60, (r))
#define MBINFO TEST_GUEST("mbinfo_mb.elf")

static struct vmm_result res;
static char mod_path[2][64];

static void need_kvm(void)
{
	if (!kvm_available())
		cr_skip_test("no usable /dev/kvm: boot tests skipped");
}

static void remove_modules(void)
{
	for (int i = 0; i < 2; i++)
		if (mod_path[i][0])
			unlink(mod_path[i]);
}

TestSuite(pc_boot, .init = need_kvm, .fini = remove_modules, .timeout = 120);

static void expect_code(int code)
{
	cr_assert_eq(res.code, code, "exit code %d, wanted %d\nstdout:\n%s\nstderr:\n%s",
		     res.code, code, res.out, res.err);
}

static void expect_line(const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "%s\n", line);
	cr_assert(strstr(res.out, want), "stdout lacks the line '%s':\n%s", line, res.out);
}

Test(pc_boot, elf64_linked_with_the_default_script)
{
	RUN(&res, TEST_GUEST("hello_ld64.elf"));
	expect_code(85);
	expect_line("hello from an ELF64 guest");
}

/* The values QEMU 7.2 -M pc gives (tests/guests/mbinfo.c's header has
 * them), but for the documented differences: ESP, the ACPI area (64 KiB,
 * not SeaBIOS's 128 KiB), a 64 KiB BIOS ROM, the loader name. */
Test(pc_boot, multiboot_info_fields)
{
	RUN(&res, MBINFO, "--", "x", "y");
	expect_code(1);
	expect_line("entry_eax=0x2badb002");
	expect_line("entry_ebx=0x9500");
	expect_line("entry_cr0=0x11");
	expect_line("entry_cs=0x8");
	expect_line("entry_ds=0x10");
	expect_line("entry=elf");
	expect_line("flags=0x24f");
	expect_line("mem_lower=0x27f");
	expect_line("mem_upper=0x1fbc0");
	expect_line("boot_device=0x8000ffff");
	expect_line("cmdline=\"" MBINFO " x y\"");
	expect_line("mods_count=0x0");
	expect_line("mmap_addr=0x9000");
	expect_line("mmap_length=0x90");
	expect_line("mmap size=20 addr=0x0 len=0x9fc00 type=1");
	expect_line("mmap size=20 addr=0x9fc00 len=0x400 type=2");
	expect_line("mmap size=20 addr=0xf0000 len=0x10000 type=2");
	expect_line("mmap size=20 addr=0x100000 len=0x7ef0000 type=1");
	expect_line("mmap size=20 addr=0x7ff0000 len=0x10000 type=2");
	expect_line("mmap size=20 addr=0xffff0000 len=0x10000 type=2");
	expect_line("boot_loader_name=\"tinyvmm\"");
	expect_line("violations=0");
}

/* QEMU's command line is "PATH ARGS" with the space even without ARGS. */
Test(pc_boot, command_line_without_arguments)
{
	RUN(&res, "-m", "4G", MBINFO);
	expect_code(1);
	expect_line("cmdline=\"" MBINFO " \"");
	expect_line("mem_upper=0x2ffbc0");
	expect_line("mmap size=20 addr=0x100000000 len=0x40000000 type=1");
}

Test(pc_boot, aout_kludge_flat_binary)
{
	RUN(&res, TEST_GUEST("mbinfo_aout.img"));
	expect_code(1);
	expect_line("entry=aout");
	expect_line("image_header=0x100000");
	expect_line("flags=0x24f");
}

/* As QEMU 7.2: an ELF that sets flag 16 is loaded by the header. */
Test(pc_boot, aout_kludge_in_an_elf)
{
	RUN(&res, TEST_GUEST("mbinfo_aout_mb.elf"));
	expect_code(1);
	expect_line("entry=aout");
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* A module file of @n bytes (a pattern) at @path with @tag in its name;
 * returns the FNV-1a of its bytes, as the guest computes it. */
static uint32_t make_module(int i, const char *tag, size_t n)
{
	uint8_t buf[8192];
	FILE *f;
	int fd;

	snprintf(mod_path[i], sizeof(mod_path[i]), "/tmp/tinyvmm-%s-XXXXXX", tag);
	fd = mkstemp(mod_path[i]);
	cr_assert_geq(fd, 0);
	close(fd);
	for (size_t j = 0; j < n; j++)
		buf[j] = (uint8_t)(j * 13 + i);
	f = fopen(mod_path[i], "wb");
	cr_assert_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
	return fnv1a(buf, n);
}

/* Bytes, lengths and strings arrive; the guest checks page alignment and
 * that no module overlaps the image. */
Test(pc_boot, modules_are_delivered)
{
	uint32_t h0 = make_module(0, "mod,a", 17), h1 = make_module(1, "modb", 5000);
	char initrd[256], line[256], esc[128];
	size_t k = 0;

	for (const char *p = mod_path[0]; *p; p++) {	/* ',' is written ",," */
		esc[k++] = *p;
		if (*p == ',')
			esc[k++] = ',';
	}
	esc[k] = 0;
	snprintf(initrd, sizeof(initrd), "%s args a1,%s", esc, mod_path[1]);
	RUN(&res, "--initrd", initrd, MBINFO, "--", "x");
	expect_code(1);
	expect_line("mods_count=0x2");
	expect_line("mods_addr=0x105000");
	snprintf(line, sizeof(line), "mod0 start=0x106000 len=0x11 fnv=%#x", h0);
	cr_assert(strstr(res.out, line), "no '%s' in\n%s", line, res.out);
	snprintf(line, sizeof(line), "string=\"%s args a1\"\n", mod_path[0]);
	cr_assert(strstr(res.out, line), "no '%s' in\n%s", line, res.out);
	snprintf(line, sizeof(line), "mod1 start=0x107000 len=0x1388 fnv=%#x", h1);
	cr_assert(strstr(res.out, line), "no '%s' in\n%s", line, res.out);
	snprintf(line, sizeof(line), "string=\"%s\"\n", mod_path[1]);
	cr_assert(strstr(res.out, line), "no '%s' in\n%s", line, res.out);
	expect_line("violations=0");
}

Test(pc_boot, missing_module_is_a_startup_error)
{
	RUN(&res, "--initrd", "/nonexistent/module args", MBINFO);
	expect_code(4);
	cr_assert(strstr(res.err, "cannot open module '/nonexistent/module'"), "%s", res.err);
	RUN(&res, "--initrd", MBINFO, TEST_GUEST("hello_ld64.elf"));
	expect_code(4);
	cr_assert(strstr(res.err, "not a multiboot image"), "%s", res.err);
}

/* --mtree: the region tree and both flat views, as QEMU's info mtree, then
 * exit 0 without running the guest. */
Test(pc_boot, mtree_prints_the_regions_and_flat_views)
{
	vmm_run((const char *const[]){ "--mtree", "-m", "256M", BUNDLED_GUEST, NULL }, 30, &res);
	expect_code(0);
	cr_assert(strstr(res.out, "address-space: memory\n"), "%s", res.out);
	cr_assert(strstr(res.out, "address-space: I/O\n"), "%s", res.out);
	cr_assert(strstr(res.out, "(prio 0, ram): alias ram-below-4g @pc.ram "
			 "00000000000c0000-000000000fffffff"), "%s", res.out);
	cr_assert(strstr(res.out, "FlatView #0\n AS \"memory\", root: system"), "%s", res.out);
	cr_assert(strstr(res.out, "00000000fee00000-00000000fee00fff (prio 1, i/o): lapic"),
		  "%s", res.out);
	cr_assert(strstr(res.out, "00000000000003f8-00000000000003ff (prio 0, i/o): serial"),
		  "%s", res.out);
	cr_assert_not(strstr(res.out, "TAP version"), "the guest ran:\n%s", res.out);
}
