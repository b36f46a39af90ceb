/* Self-tests of the machine itself: serial, boot info, RAM, ROM, holes. */
#include <stdbool.h>

#include "boot.h"
#include "io.h"
#include "lib.h"
#include "serial.h"
#include "tests.h"

#define FOUR_GIB	0x100000000ull
#define ROM_ADDR	0xffff0000ull
/* Nothing answers here on tinyvmm nor on QEMU's microvm. */
#define UNASSIGNED_MMIO	0xd0000000ull
#define UNASSIGNED_PORT	0x2f0

static int test_serial(void)
{
	outb(COM1 + 7, 0x5a);
	if (inb(COM1 + 7) != 0x5a) {
		tap_diag("scratch register lost its value");
		return -1;
	}
	if ((inb(COM1 + 5) & 0x60) != 0x60) {
		tap_diag("LSR %#x: transmitter not empty", inb(COM1 + 5));
		return -1;
	}
	return 0;
}

static int test_multiboot(void)
{
	uint64_t s, e;

	if (boot_magic != MULTIBOOT_BOOTLOADER_MAGIC || !boot_mbi) {
		tap_diag("magic %#x", boot_magic);
		return -1;
	}
	if (!(boot_mbi->flags & MBI_MMAP) || !(boot_mbi->flags & MBI_MEM)) {
		tap_diag("flags %#x: no memory map or bounds", boot_mbi->flags);
		return -1;
	}
	/* mem_upper is the RAM from 1 MiB up to the first hole. */
	if (!boot_ram_range(0x100000, &s, &e) || (e - 0x100000) >> 10 != boot_mbi->mem_upper) {
		tap_diag("mem_upper %u KiB disagrees with the memory map", boot_mbi->mem_upper);
		return -1;
	}
	return 0;
}

/* Writes a pattern over [p, p + len) and reads it back. */
static int pattern_check(volatile uint64_t *p, uint64_t len, uint64_t seed)
{
	for (uint64_t i = 0; i < len / 8; i++)
		p[i] = seed ^ (i * 0x9e3779b97f4a7c15ull);
	for (uint64_t i = 0; i < len / 8; i++)
		if (p[i] != (seed ^ (i * 0x9e3779b97f4a7c15ull))) {
			tap_diag("mismatch at %p", (void *)&p[i]);
			return -1;
		}
	return 0;
}

static uint64_t scratch[8192];

static int test_ram_pattern(void)
{
	uint64_t s, e;

	if (pattern_check(scratch, sizeof(scratch), 1))
		return -1;
	if (!boot_ram_range(0x100000, &s, &e)) {
		tap_diag("no RAM at 1 MiB in the memory map");
		return -1;
	}
	return pattern_check((volatile uint64_t *)(uintptr_t)(e - 4096), 4096, 2);
}

static int test_highmem(void)
{
	uint64_t s, e;

	if (!boot_ram_above(FOUR_GIB, &s, &e)) {
		tap_skip("no RAM above 4 GiB");
		return 0;
	}
	if (e > MAPPED_TOP)
		e = MAPPED_TOP;
	if (pattern_check((volatile uint64_t *)(uintptr_t)s, 4096, 3) ||
	    pattern_check((volatile uint64_t *)(uintptr_t)(e - 4096), 4096, 4))
		return -1;
	tap_diag("RAM at [%#llx, %#llx) reads back", (unsigned long long)s,
		 (unsigned long long)e);
	return 0;
}

/* tinyvmm documents a read-only BIOS ROM at 0xFFFF0000 and all-ones for
 * unassigned MMIO reads (as real hardware). QEMU's microvm keeps its
 * firmware in RAM and reads unassigned MMIO as 0: expected differences. */
static int test_rom(void)
{
	uint32_t before = mmio_read32(ROM_ADDR);

	if (!boot_on_tinyvmm()) {
		tap_skip("the loader is not tinyvmm's: the firmware area may be RAM");
		return 0;
	}
	mmio_write32(ROM_ADDR, ~before);
	if (mmio_read32(ROM_ADDR) != before) {
		tap_diag("ROM at %#llx changed", ROM_ADDR);
		return -1;
	}
	return 0;
}

static int test_unassigned(void)
{
	uint32_t m = mmio_read32(UNASSIGNED_MMIO), p = inl(UNASSIGNED_PORT);

	if ((m != 0xffffffff && (boot_on_tinyvmm() || m != 0)) || p != 0xffffffff) {
		tap_diag("unassigned MMIO read %#x, port read %#x", m, p);
		return -1;
	}
	if (m == 0)
		tap_diag("unassigned MMIO read 0: tolerated, the loader is not tinyvmm's");
	mmio_write32(UNASSIGNED_MMIO, 0);	/* dropped, and survived */
	return 0;
}

const struct guest_test guest_tests[] = {
	{ "serial", test_serial },
	{ "multiboot", test_multiboot },
	{ "ram-pattern", test_ram_pattern },
	{ "highmem", test_highmem },
	{ "rom", test_rom },
	{ "unassigned", test_unassigned },
	{ "acpi-madt", test_acpi_madt },
	{ "smp-bringup", test_smp_bringup },
	{ "ipi-each", test_ipi_each },
	{ "self-ipi", test_self_ipi },
	{ "tpr-nesting", test_tpr_nesting },
	{ "timer-oneshot", test_timer_oneshot },
	{ "timer-periodic", test_timer_periodic },
	{ "ipi-storm", test_ipi_storm },
	{ "blk-features", test_blk_features },
	{ "blk-write-verify", test_blk_write_verify },
	{ "blk-readonly", test_blk_readonly },
	{ "blk-flush", test_blk_flush },
	{ "blk-get-id", test_blk_get_id },
	{ "blk-out-of-range", test_blk_out_of_range },
	{ "blk-reset-inflight", test_blk_reset_inflight },
	{ "pic-pit-ticks", test_pic_pit_ticks },
	{ "pit-calibrate", test_pit_calibrate },
	{ "pic-spurious", test_pic_spurious },
	{ "ioapic-pit", test_ioapic_pit },
	{ "ioapic-level", test_ioapic_level },
	{ "rtc-irq", test_rtc_irq },
	{ "uart-thre", test_uart_thre },
	{ "blk-intx", test_blk_intx },
	{ "fw-cfg", test_fw_cfg },
	{ "multiboot-info", test_multiboot_info },
	{ "cmos-time", test_cmos_time },
	{ "rtc-flags", test_rtc_flags },
	{ "cmos-memory", test_cmos_memory },
	{ "acpi-tables", test_acpi_tables },
	{ "pm-timer", test_pm_timer },
	{ "hpet", test_hpet },
	{ "acpi-s3", test_acpi_s3 },	/* last: S3 resets the APs */
};
const int guest_ntests = sizeof(guest_tests) / sizeof(guest_tests[0]);
