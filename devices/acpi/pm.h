/* The ACPI fixed hardware of QEMU's pc (its PIIX4 PM function, QEMU's
 * TYPE_PIIX4_PM / hw/acpi/core.c ACPIREGS): the PM1a event and control
 * registers and the PM timer in I/O space, the SCI on ISA IRQ 9, sleep
 * (S3, S4, S5) and wake. The FADT (vmm/acpi.c) points the guest here, so
 * the port numbers and sleep types live in this header for both.
 *
 * Registers (ACPI 6.5, 4.8.3):
 *   0x600 PM1a_STS  16 bit, write 1 to clear: TMR_STS, PWRBTN_STS, RTC_STS, WAK_STS
 *   0x602 PM1a_EN   16 bit: TMR_EN, GBL_EN, PWRBTN_EN, RTC_EN
 *   0x604 PM1a_CNT  16 bit: SCI_EN (1 from power-on: ACPI mode is always on,
 *                   no SMI_CMD), BM_RLD, SLP_TYP; SLP_EN write-only
 *   0x608 PM_TMR    32 bit, read-only: a 24-bit counter at 3.579545 MHz
 * SLP_EN with SLP_TYP S3 suspends, with S4 or S5 powers off (S4 as QEMU:
 * the guest has saved itself); other types are ignored (logged once). No
 * PM1b, no GPE block, no SMI: what QEMU's pc has besides is left out.
 * Byte and word accesses to the 16-bit registers (byte lanes, as the
 * chipset decodes them: a byte write leaves the other byte alone), a dword
 * at 0x600 reaches PM1a_STS and PM1a_EN; 1, 2 or 4 bytes read the timer.
 * Unaligned accesses inside a register are refused (reads all ones).
 *
 * Locking: one device mutex, taken by vCPU threads (register accesses), the
 * clock's timer thread (the TMR_STS interrupt) and the board (wake, resume).
 * Order: device lock → the SCI line's receiver, device lock → the clock's
 * timer lock; the board may hold its own lock when it calls in (board →
 * device). The device never calls the board with its lock held:
 * system_event comes after the lock is dropped. The PM timer is read
 * without the lock (it is only the clock). */
#ifndef DEVICES_ACPI_PM_H
#define DEVICES_ACPI_PM_H

#include <stdbool.h>

#include "devices/device.h"

#define TYPE_ACPI_PM		"acpi-pm"

#define ACPI_PM_BASE		0x600
#define ACPI_PM1A_EVT_BLK	ACPI_PM_BASE
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1A_CNT_BLK	(ACPI_PM_BASE + 4)
#define ACPI_PM1_CNT_LEN	2
#define ACPI_PM_TMR_BLK		(ACPI_PM_BASE + 8)
#define ACPI_PM_TMR_LEN		4
#define ACPI_PM_TIMER_HZ	3579545u
#define ACPI_SCI_IRQ		9

/* SLP_TYP values, as QEMU's pc DSDT gives them in \_S3_, \_S4_, \_S5_. */
#define ACPI_SLP_TYP_S3		1
#define ACPI_SLP_TYP_S4		2
#define ACPI_SLP_TYP_S5		0

/* The FADT's reset register: the PIIX reset control register (0xCF9). */
#define ACPI_RESET_PORT		0xcf9
#define ACPI_RESET_VALUE	6

/* PM1 status (PM1a_EVT_BLK + 0) and enable (+ 2) bits. */
#define ACPI_PM1_TMR		(1u << 0)	/* PM timer bit 23 toggled */
#define ACPI_PM1_GBL		(1u << 5)	/* global lock release (enable only) */
#define ACPI_PM1_PWRBTN		(1u << 8)	/* power button */
#define ACPI_PM1_RTC		(1u << 10)	/* RTC alarm */
#define ACPI_PM1_WAK_STS	(1u << 15)	/* woke from sleep (status only) */

/* PM1 control bits. */
#define ACPI_PM1_SCI_EN		(1u << 0)
#define ACPI_PM1_BM_RLD		(1u << 1)
#define ACPI_PM1_SLP_TYP_SHIFT	10
#define ACPI_PM1_SLP_TYP	(7u << ACPI_PM1_SLP_TYP_SHIFT)
#define ACPI_PM1_SLP_EN		(1u << 13)

/* A wake event while suspended: records its status bit (RTC_STS /
 * PWRBTN_STS); true if the guest enabled it as a wake source (RTC_EN; the
 * power button always wakes, as ACPI says). */
bool acpi_pm_wake_event(struct device *pm, enum wakeup_source src);
/* The machine resumed from S3: WAK_STS set (what the guest's resume path
 * checks). */
void acpi_pm_resumed(struct device *pm);

#endif
