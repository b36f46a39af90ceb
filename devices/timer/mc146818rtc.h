/* The CMOS real-time clock, a Motorola MC146818A as QEMU's pc has it (type
 * "mc146818rtc"): index port 0x70 (bit 7 masks NMI on a PC), data port 0x71,
 * 128 bytes of which 0x00-0x0D are the clock and the rest battery-backed
 * NVRAM, interrupt on ISA IRQ 8. The board makes one and fills the NVRAM.
 * Register names and bits as Linux's include/linux/mc146818rtc.h. */
#ifndef DEVICES_TIMER_MC146818RTC_H
#define DEVICES_TIMER_MC146818RTC_H

#include <stdint.h>

struct device;

#define TYPE_MC146818_RTC	"mc146818rtc"

#define RTC_ISA_BASE		0x70
#define RTC_ISA_IRQ		8
#define RTC_CMOS_SIZE		128

/* The clock's registers. */
#define RTC_SECONDS		0x00
#define RTC_SECONDS_ALARM	0x01
#define RTC_MINUTES		0x02
#define RTC_MINUTES_ALARM	0x03
#define RTC_HOURS		0x04
#define RTC_HOURS_ALARM		0x05
#define RTC_ALARM_DONT_CARE	0xc0	/* an alarm byte >= this matches all */
#define RTC_DAY_OF_WEEK		0x06	/* 1 = Sunday */
#define RTC_DAY_OF_MONTH	0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d
#define RTC_CENTURY		0x32	/* QEMU's pc (the ACPI FADT's CENTURY) */
#define RTC_PS2_CENTURY		0x37	/* IBM PS/2: QEMU redirects it to 0x32 */

/* Register A */
#define RTC_UIP			0x80	/* update in progress (read-only) */
#define RTC_DIV_CTL		0x70	/* DV2-0: 010 = 32.768 kHz, 11x = reset */
#define RTC_REF_CLCK_32KHZ	0x20
#define RTC_RATE_SELECT		0x0f	/* RS3-0: periodic rate */
/* Register B */
#define RTC_SET			0x80	/* stop updates while the time is set */
#define RTC_PIE			0x40	/* periodic interrupt enable */
#define RTC_AIE			0x20	/* alarm interrupt enable */
#define RTC_UIE			0x10	/* update-ended interrupt enable */
#define RTC_SQWE		0x08	/* square wave (no pin on a PC) */
#define RTC_DM_BINARY		0x04	/* binary, not BCD */
#define RTC_24H			0x02	/* 24-hour, not 12-hour (PM: bit 7) */
#define RTC_DST_EN		0x01	/* daylight saving: stored, ignored */
/* Register C (read-only; a read clears it) */
#define RTC_IRQF		0x80	/* PF & PIE | AF & AIE | UF & UIE */
#define RTC_PF			0x40
#define RTC_AF			0x20
#define RTC_UF			0x10
/* Register D */
#define RTC_VRT			0x80	/* valid RAM and time: always 1 */

/* Set NVRAM byte @addr (0x0E-0x7F) as the board's firmware set-up does; the
 * clock's own bytes (0x00-0x0D, the century 0x32) and @addr >= 128 are
 * ignored. Any thread.
 *
 * What QEMU's pc puts there (hw/i386/pc.c pc_cmos_init, x86-common.c),
 * for the board to mirror:
 *   0x0f        shutdown status: 0 at reset, 0xFE when the guest suspends
 *               to S3 (the firmware resumes instead of booting)
 *   0x10        floppy drive types (drive 0 high nibble; 4 = 1.44 MB)
 *   0x12        hard disk types (0xF0 disk 0, 0x0F disk 1; IDE only), with
 *               0x19/0x1a extended types and 0x1b-0x23 / 0x24-0x2c geometry,
 *               0x39 the CHS translation of four IDE disks
 *   0x14        equipment byte: 0x02 FPU | 0x04 PS/2 mouse | floppies
 *               (0x01 one drive, 0x41 two)
 *   0x15/0x16   base memory in KiB (640 at most), low byte first
 *   0x17/0x18   extended memory 1 MiB..65 MiB in KiB (65535 at most)
 *   0x30/0x31   the same again
 *   0x34/0x35   RAM from 16 MiB up to 4 GiB, in 64 KiB units (65535 max)
 *   0x5b-0x5d   RAM above 4 GiB in 64 KiB units (24 bits)
 *   0x5f        number of CPUs - 1
 *   0x38        boot device 3 (high nibble), bit 0: skip the floppy
 *               boot-sector signature check
 *   0x3d        boot devices 1 (low nibble) and 2 (high): 1 floppy, 2 disk,
 *               3 CD-ROM, 4 network
 *   0x32        the century: kept by the clock itself */
void rtc_set_cmos(struct device *rtc, unsigned addr, uint8_t value);

#endif
