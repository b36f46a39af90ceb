/* The ACPI tables a guest of QEMU's pc finds: RSDP (revision 2) → RSDT and
 * XSDT → FADT, MADT and (with an HPET) the HPET table; FADT → FACS and DSDT. The FADT describes the PM
 * registers of devices/acpi/pm.h and the reset register; the DSDT holds only
 * the sleep types \_S3_, \_S4_, \_S5_; the MADT one local APIC per CPU. */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdint.h>

struct error;

#define ACPI_RSDP_SIZE		36	/* revision 2 */
#define ACPI_IOAPIC_BASE	0xfec00000u	/* QEMU pc's I/O APIC, in the MADT */
#define ACPI_IOAPIC_ID		0		/* as QEMU's */
#define ACPI_TABLES_SIZE	0x10000	/* the board reserves this much RAM */

/* Where the guest writes its resume address, inside the FACS (ACPI 6.5,
 * 5.2.10): Firmware_Waking_Vector (32 bits: a real-mode entry, CS = addr >> 4,
 * IP = addr & 15) and X_Firmware_Waking_Vector (64 bits; when not 0 it wins,
 * entered in 32-bit protected mode: the FACS flags offer no 64-bit wake). */
#define ACPI_FACS_WAKING_VECTOR		12
#define ACPI_FACS_X_WAKING_VECTOR	24

struct acpi_config {
	unsigned ncpus;			/* MADT: one LAPIC each, APIC ID = index */
	/* The HPET table: the event timer block ID (the low half of the
	 * HPET's capabilities register) and its MMIO base; 0: no HPET. */
	uint32_t hpet_block_id;
	uint32_t hpet_base;
	/* Its minimum periodic tick (in counter ticks) without lost
	 * interrupts. */
	uint16_t hpet_min_tick;
};

/* Builds RSDT, XSDT, FADT, FACS, DSDT, MADT (and HPET) into @buf, which the guest sees at
 * guest-physical @gpa (@size bytes), and the RSDP pointing at them into @rsdp (the board copies
 * it where guests scan for it). *@facs_gpa: where the FACS is (the board reads its firmware
 * waking vector on resume from S3). 0, or -1 with @err when they do not fit. */
int acpi_build_tables(const struct acpi_config *cfg, uint8_t *buf, uint64_t gpa, uint64_t size,
		      uint8_t rsdp[ACPI_RSDP_SIZE], uint64_t *facs_gpa, struct error *err);

#endif
