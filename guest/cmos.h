/* The PC's CMOS RAM and MC146818 real-time clock behind ports 0x70/0x71
 * (MC146818A datasheet; QEMU hw/rtc/mc146818rtc.c is the reference
 * machine). Polled: the guest takes no RTC interrupts. */
#ifndef GUEST_CMOS_H
#define GUEST_CMOS_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_SECONDS		0x00
#define RTC_SECONDS_ALARM	0x01
#define RTC_MINUTES		0x02
#define RTC_MINUTES_ALARM	0x03
#define RTC_HOURS		0x04
#define RTC_HOURS_ALARM		0x05
#define RTC_DAY_OF_MONTH	0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d
#define CMOS_CENTURY		0x32	/* QEMU's pc and the ACPI FADT CENTURY */

#define RTC_A_UIP		0x80	/* update in progress */
#define RTC_B_SET		0x80	/* updates stopped */
#define RTC_B_AIE		0x20	/* alarm interrupt enable */
#define RTC_B_DM_BINARY		0x04	/* else BCD */
#define RTC_B_24H		0x02	/* else 12-hour, bit 7 of the hour = PM */
#define RTC_C_AF		0x20	/* alarm flag */
#define RTC_C_UF		0x10	/* update-ended flag */
#define RTC_D_VRT		0x80	/* valid RAM and time */
#define RTC_ALARM_DONT_CARE	0xc0	/* an alarm byte that matches any value */

struct rtc_time {
	unsigned sec, min, hour, day, month, year;	/* year: full, e.g. 2026 */
};

uint8_t cmos_read(uint8_t reg);
/* The register cmos_read last selected, read again: the index stays
 * latched, so a poll costs one port access. */
uint8_t cmos_read_again(void);
void cmos_write(uint8_t reg, uint8_t v);
/* An RTC answers: register D reads VRT alone (unassigned ports read 0xff). */
bool rtc_present(void);
/* Waits (bounded) for UIP clear, then reads the time twice until both
 * reads agree, decoding BCD or binary and 12/24 h per register B. The
 * century comes from CMOS_CENTURY. false if the registers never settled. */
bool rtc_read_time(struct rtc_time *t);
/* Seconds since 1970-01-01 00:00:00 UTC. */
uint64_t rtc_to_epoch(const struct rtc_time *t);
/* A binary value in the format register B selects (BCD or binary). */
uint8_t rtc_encode(unsigned v);
unsigned rtc_decode(uint8_t v);

#endif
