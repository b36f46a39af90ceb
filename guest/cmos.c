/* CMOS RAM and the MC146818 RTC's time registers. */
#include "cmos.h"

#include "apic.h"
#include "io.h"
#include "lib.h"

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71
/* UIP lasts 244 us + 1984 us on the chip; QEMU holds it until its update
 * timer runs, which its main loop does late on a loaded host. */
#define SETTLE_MS	1000

uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

uint8_t cmos_read_again(void)
{
	return inb(CMOS_DATA);
}

void cmos_write(uint8_t reg, uint8_t v)
{
	outb(CMOS_INDEX, reg);
	outb(CMOS_DATA, v);
}

bool rtc_present(void)
{
	return cmos_read(RTC_REG_D) == RTC_D_VRT;
}

static bool binary_mode(void)
{
	return cmos_read(RTC_REG_B) & RTC_B_DM_BINARY;
}

uint8_t rtc_encode(unsigned v)
{
	return binary_mode() ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

unsigned rtc_decode(uint8_t v)
{
	return binary_mode() ? v : (v >> 4) * 10 + (v & 0xf);
}

/* The hour register in 12-hour mode: 1-12 with bit 7 for PM. */
static unsigned decode_hour(uint8_t v)
{
	unsigned h;

	if (cmos_read(RTC_REG_B) & RTC_B_24H)
		return rtc_decode(v);
	h = rtc_decode(v & 0x7f) % 12;
	return v & 0x80 ? h + 12 : h;
}

static void read_raw(uint8_t r[7])
{
	static const uint8_t regs[7] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS,
		RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, CMOS_CENTURY };

	for (int i = 0; i < 7; i++)
		r[i] = cmos_read(regs[i]);
}

bool rtc_read_time(struct rtc_time *t)
{
	uint64_t end = deadline_ms(SETTLE_MS);
	uint8_t a[7], b[7];
	bool late, settled = false;

	do {
		late = past(end);	/* before the reads: the last try is after it */
		if (cmos_read(RTC_REG_A) & RTC_A_UIP)
			continue;
		read_raw(a);
		read_raw(b);
		settled = !memcmp(a, b, sizeof(a));
	} while (!settled && !late);
	if (!settled)
		return false;
	t->sec = rtc_decode(a[0]);
	t->min = rtc_decode(a[1]);
	t->hour = decode_hour(a[2]);
	t->day = rtc_decode(a[3]);
	t->month = rtc_decode(a[4]);
	t->year = rtc_decode(a[6]) * 100 + rtc_decode(a[5]);
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the usual shifted
 * year starting in March, so February's leap day comes last). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	uint64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

uint64_t rtc_to_epoch(const struct rtc_time *t)
{
	return days_from_civil(t->year, t->month, t->day) * 86400 +
	       t->hour * 3600 + t->min * 60 + t->sec;
}
