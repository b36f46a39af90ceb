/* The MC146818A real-time clock (see mc146818rtc.h), from its datasheet;
 * where QEMU shows the guest something else, QEMU wins and the comment says
 * so.
 *
 * Nothing ticks. The chip's divider chain is a line of clock time: its
 * once-a-second updates fall at origin_ns + k s, after which the time
 * registers read origin_sec + k (seconds since 1970, UTC). The time registers
 * are rendered from that on every read while the clock counts; while it does
 * not (SET, or the divider stopped) they are plain bytes the guest may write.
 * The flags of register C are collected lazily: every access first asks
 * which periodic, update and alarm events fell since the last look. A clock
 * timer is armed only for an enabled interrupt whose flag is still clear,
 * at its next event, so an idle RTC costs nothing.
 *
 * Locking: one mutex, taken by the vCPU threads (ports) and the clock's
 * timer thread. The interrupt line and the machine's wake-up are called
 * under it, so the line always follows IRQF in order; lock order is this
 * device, then the receiver (PIC / I/O APIC, the machine), which never calls
 * back into the RTC. */
#include "devices/timer/mc146818rtc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/clock.h"
#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/region.h"

#define NS_PER_SEC	1000000000ll
#define SEC_PER_DAY	86400
#define DIVIDER_HZ	32768
/* UIP rises 8 divider ticks (244 us, the datasheet's t_BUC) before an
 * update; the update itself is instant here, as in QEMU, so UIP falls at
 * the update rather than 1984 us later. */
#define UIP_NS		(8 * NS_PER_SEC / DIVIDER_HZ)
#define NEVER		INT64_MAX
#define ALARM_ANY	(-1)
#define ALARM_NONE	(-2)	/* no value renders to the alarm byte */

struct rtc {
	struct device parent_obj;
	struct memory_region io;
	struct clock_timer timer;
	pthread_mutex_t lock;
	struct vm_clock *clock;

	uint8_t cmos[RTC_CMOS_SIZE];
	uint8_t index;
	bool nmi_masked;	/* bit 7 of the index port: a PC's, not ours */
	int64_t origin_ns, origin_sec;	/* the divider chain, see above */
	uint8_t flags;		/* PF | AF | UF seen up to flags_ns */
	int64_t flags_ns;
	int64_t alarm_ns;	/* the next update that matches the alarm */
	bool irq_level;
};

/* A broken-down UTC time. */
struct rtc_tm {
	int64_t year;
	unsigned mon, mday, wday;	/* 1-12, 1-31, 0 = Sunday */
	unsigned hour, min, sec;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/* Days from 0000-01-01 (proleptic Gregorian) to @year-01-01. */
static int64_t days_before_year(int64_t year)
{
	return 365 * year + floor_div(year + 3, 4) - floor_div(year + 99, 100) +
	       floor_div(year + 399, 400);
}

static bool leap_year(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_before_month(int64_t year, unsigned mon)
{
	static const unsigned cum[12] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
	};

	return cum[mon - 1] + (mon > 2 && leap_year(year));
}

#define DAYS_TO_1970	719528	/* days_before_year(1970) */

static struct rtc_tm rtc_gmtime(int64_t t)
{
	int64_t days = floor_div(t, SEC_PER_DAY), z = days + DAYS_TO_1970;
	unsigned sod = (unsigned)floor_mod(t, SEC_PER_DAY), doy;
	struct rtc_tm tm = {
		.hour = sod / 3600, .min = sod / 60 % 60, .sec = sod % 60,
		.wday = (unsigned)floor_mod(days + 4, 7),	/* a Thursday */
	};

	/* 146097 days every 400 years: a guess at most one year off. */
	tm.year = floor_div(z * 400, 146097);
	while (days_before_year(tm.year + 1) <= z)
		tm.year++;
	while (days_before_year(tm.year) > z)
		tm.year--;
	doy = (unsigned)(z - days_before_year(tm.year));
	for (tm.mon = 12; days_before_month(tm.year, tm.mon) > doy; tm.mon--)
		;
	tm.mday = doy - days_before_month(tm.year, tm.mon) + 1;
	return tm;
}

/* Seconds since 1970 of a time whose fields may be out of range (a guest
 * wrote them): each counts linearly from its place, as mktime does. */
static int64_t rtc_mktime(int64_t year, int64_t mon, int64_t mday,
			  int64_t hour, int64_t min, int64_t sec)
{
	int64_t months = year * 12 + mon - 1;
	int64_t y = floor_div(months, 12);
	unsigned m = (unsigned)floor_mod(months, 12) + 1;
	int64_t days = days_before_year(y) - DAYS_TO_1970 +
		       days_before_month(y, m) + mday - 1;

	return days * SEC_PER_DAY + hour * 3600 + min * 60 + sec;
}

static bool rtc_binary(const struct rtc *s)
{
	return s->cmos[RTC_REG_B] & RTC_DM_BINARY;
}

/* @v < 100 in the register format of the moment. */
static uint8_t to_reg(const struct rtc *s, unsigned v)
{
	return (uint8_t)(rtc_binary(s) ? v : (v / 10) << 4 | v % 10);
}

/* Any byte: an invalid BCD digit just counts as its value. */
static unsigned from_reg(const struct rtc *s, uint8_t r)
{
	return rtc_binary(s) ? r : (r >> 4) * 10u + (r & 15u);
}

static uint8_t hour_to_reg(const struct rtc *s, unsigned hour)
{
	if (s->cmos[RTC_REG_B] & RTC_24H)
		return to_reg(s, hour);
	return (uint8_t)(to_reg(s, hour % 12 ? hour % 12 : 12) |
			 (hour >= 12 ? 0x80 : 0));
}

static unsigned hour_from_reg(const struct rtc *s, uint8_t r)
{
	if (s->cmos[RTC_REG_B] & RTC_24H)
		return from_reg(s, r);
	/* 12 AM is hour 0, 12 PM hour 12. */
	return from_reg(s, r & 0x7f) % 12 + (r & 0x80 ? 12 : 0);
}

/* The day of the week is computed from the date, as QEMU does; the chip
 * would keep counting from whatever the guest wrote. */
static void rtc_render(struct rtc *s, int64_t t)
{
	struct rtc_tm tm = rtc_gmtime(t);
	unsigned year = (unsigned)floor_mod(tm.year, 10000);

	s->cmos[RTC_SECONDS] = to_reg(s, tm.sec);
	s->cmos[RTC_MINUTES] = to_reg(s, tm.min);
	s->cmos[RTC_HOURS] = hour_to_reg(s, tm.hour);
	s->cmos[RTC_DAY_OF_WEEK] = to_reg(s, tm.wday + 1);
	s->cmos[RTC_DAY_OF_MONTH] = to_reg(s, tm.mday);
	s->cmos[RTC_MONTH] = to_reg(s, tm.mon);
	s->cmos[RTC_YEAR] = to_reg(s, year % 100);
	s->cmos[RTC_CENTURY] = to_reg(s, year / 100);
}

static int64_t rtc_parse(const struct rtc *s)
{
	const uint8_t *c = s->cmos;

	return rtc_mktime(from_reg(s, c[RTC_CENTURY]) * 100 + from_reg(s, c[RTC_YEAR]),
			  from_reg(s, c[RTC_MONTH]), from_reg(s, c[RTC_DAY_OF_MONTH]),
			  hour_from_reg(s, c[RTC_HOURS]), from_reg(s, c[RTC_MINUTES]),
			  from_reg(s, c[RTC_SECONDS]));
}

/* DV2-0 = 000, 001 or 010 run the divider, as QEMU takes them; 11x holds
 * it in reset. QEMU stops the time for the test values 011-101 too; here
 * they stop everything, as reset does. While stopped nothing happens: no
 * update, no alarm, no periodic flag (QEMU's periodic timer ignores the
 * divider; the chip's periodic taps are on it). Leaving any of them
 * restarts the chain half a second before an update. */
static bool divider_running(const struct rtc *s)
{
	return (s->cmos[RTC_REG_A] & RTC_DIV_CTL) <= RTC_REF_CLCK_32KHZ;
}

static bool counting(const struct rtc *s)
{
	return divider_running(s) && !(s->cmos[RTC_REG_B] & RTC_SET);
}

static int64_t rtc_now(const struct rtc *s)
{
	return (int64_t)clock_now_ns(s->clock);
}

/* Updates since the origin at @now (never before the origin). */
static int64_t updates_at(const struct rtc *s, int64_t now)
{
	return floor_div(now - s->origin_ns, NS_PER_SEC);
}

static int64_t rtc_time(const struct rtc *s, int64_t now)
{
	return s->origin_sec + updates_at(s, now);
}

static int64_t update_ns(const struct rtc *s, int64_t k)
{
	return s->origin_ns + k * NS_PER_SEC;
}

/* Divider ticks between two periodic interrupts; 0: none. RS 1 and 2 give
 * 256 and 128 Hz with a 32.768 kHz time base, RS 3-15 8192 Hz .. 2 Hz. */
static unsigned periodic_ticks(const struct rtc *s)
{
	unsigned rs = s->cmos[RTC_REG_A] & RTC_RATE_SELECT;

	if (!rs || !divider_running(s))
		return 0;
	return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

/* Periodic interrupts since the origin at @now: they fall on the divider
 * chain's ticks, so every second starts with one. */
static uint64_t periodic_at(const struct rtc *s, int64_t now, unsigned ticks)
{
	return clock_ns_to_ticks((uint64_t)(now - s->origin_ns), DIVIDER_HZ) / ticks;
}

static int64_t next_periodic_ns(const struct rtc *s, int64_t now)
{
	unsigned ticks = periodic_ticks(s);
	uint64_t k;

	if (!ticks)
		return NEVER;
	k = periodic_at(s, now, ticks) + 1;
	return s->origin_ns + (int64_t)clock_ticks_to_ns(k * ticks, DIVIDER_HZ);
}

/* The value 0..@n-1 whose register byte is @r, ALARM_ANY or ALARM_NONE. */
static int alarm_value(const struct rtc *s, uint8_t r, unsigned n, bool hour)
{
	if ((r & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
		return ALARM_ANY;
	for (unsigned v = 0; v < n; v++)
		if ((hour ? hour_to_reg(s, v) : to_reg(s, v)) == r)
			return (int)v;
	return ALARM_NONE;
}

static bool alarm_fits(int want, unsigned v)
{
	return want == ALARM_ANY || want == (int)v;
}

/* Seconds from time-of-day @sod to the next (strictly later) one that
 * matches the alarm bytes, or NEVER. The chip compares the registers with
 * the alarm bytes after each update, so a byte that no time renders to
 * never matches (QEMU would fire at some computed time instead). */
static int64_t alarm_delay(const struct rtc *s, unsigned sod)
{
	int h = alarm_value(s, s->cmos[RTC_HOURS_ALARM], 24, true);
	int m = alarm_value(s, s->cmos[RTC_MINUTES_ALARM], 60, false);
	int sec = alarm_value(s, s->cmos[RTC_SECONDS_ALARM], 60, false);
	unsigned now_min = sod / 60, now_sec = sod % 60;

	if (h == ALARM_NONE || m == ALARM_NONE || sec == ALARM_NONE)
		return NEVER;
	/* Each minute of the next day, this one first and again last. */
	for (unsigned k = 0; k <= 24 * 60; k++) {
		unsigned mm = (now_min + k) % (24 * 60);
		unsigned first = k ? 0 : now_sec + 1;
		unsigned at;

		if (!alarm_fits(h, mm / 60) || !alarm_fits(m, mm % 60))
			continue;
		at = sec == ALARM_ANY ? first : (unsigned)sec;
		if (at >= first && at < 60)
			return (int64_t)k * 60 + at - now_sec;
	}
	return NEVER;
}

static void rtc_find_alarm(struct rtc *s, int64_t now)
{
	int64_t delay;

	s->alarm_ns = NEVER;
	if (!counting(s))
		return;
	delay = alarm_delay(s, (unsigned)floor_mod(rtc_time(s, now), SEC_PER_DAY));
	if (delay != NEVER)
		s->alarm_ns = update_ns(s, updates_at(s, now) + delay);
}

/* Raises PF, UF and AF for the events in (flags_ns, now], under the
 * configuration they happened in: call before changing it. PF whether or
 * not PIE is set, as the datasheet says (QEMU raises PF only with PIE).
 * UF is set while SET holds the registers too, as QEMU does (the divider
 * runs on); AF only when an update brought the time to the alarm. */
static void rtc_collect(struct rtc *s, int64_t now)
{
	const struct device_env *env = s->parent_obj.env;
	int64_t from = s->flags_ns;
	unsigned ticks = periodic_ticks(s);
	uint8_t old = s->flags;

	if (now <= from)
		return;
	s->flags_ns = now;
	if (!divider_running(s))
		return;
	if (ticks && periodic_at(s, now, ticks) > periodic_at(s, from, ticks))
		s->flags |= RTC_PF;
	if (updates_at(s, now) > updates_at(s, from))
		s->flags |= RTC_UF;
	if (counting(s) && s->alarm_ns > from && s->alarm_ns <= now)
		s->flags |= RTC_AF;
	/* QEMU wakes the machine for the alarm only while AIE is set. */
	if ((s->flags & ~old & RTC_AF) && (s->cmos[RTC_REG_B] & RTC_AIE) &&
	    env->wakeup)
		env->wakeup(env->host, WAKEUP_RTC);
}

static bool rtc_irqf(const struct rtc *s)
{
	return s->flags & s->cmos[RTC_REG_B] & (RTC_PF | RTC_AF | RTC_UF);
}

static void rtc_update_irq(struct rtc *s)
{
	const struct irq_line *lines = s->parent_obj.env->isa_irq;
	bool level = rtc_irqf(s);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (lines)
		irq_set_level(&lines[RTC_ISA_IRQ], level);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The timer serves only an enabled source whose flag is clear: once the
 * flag is up, nothing more can happen for it until register C is read.
 * (The flags of C sit at the bits of their enables in B.) */
static void rtc_arm(struct rtc *s, int64_t now)
{
	uint8_t want = s->cmos[RTC_REG_B] & ~s->flags;
	int64_t next = NEVER;

	if (want & RTC_PIE)
		next = next_periodic_ns(s, now);
	if ((want & RTC_UIE) && divider_running(s))
		next = min64(next, update_ns(s, updates_at(s, now) + 1));
	if (want & RTC_AIE)
		next = min64(next, s->alarm_ns);
	clock_timer_mod(s->clock, &s->timer, next == NEVER ? 0 : (uint64_t)next);
}

/* After the guest changed the configuration at @now. */
static void rtc_reconsider(struct rtc *s, int64_t now)
{
	rtc_find_alarm(s, now);
	rtc_update_irq(s);
	rtc_arm(s, now);
}

static void rtc_timer_cb(void *opaque)
{
	struct rtc *s = opaque;
	int64_t now;

	pthread_mutex_lock(&s->lock);
	now = rtc_now(s);
	rtc_collect(s, now);
	rtc_update_irq(s);
	rtc_arm(s, now);
	pthread_mutex_unlock(&s->lock);
}

/* Counting resumes from the time registers at @now, keeping the divider's
 * phase (QEMU does the same when SET is cleared). */
static void rtc_start(struct rtc *s, int64_t now)
{
	s->origin_sec = rtc_parse(s) - updates_at(s, now);
}

static bool is_time_reg(unsigned index)
{
	switch (index) {
	case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS:
	case RTC_DAY_OF_WEEK: case RTC_DAY_OF_MONTH: case RTC_MONTH:
	case RTC_YEAR: case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

static uint8_t rtc_read_c(struct rtc *s, int64_t now)
{
	uint8_t v;

	rtc_collect(s, now);
	v = s->flags | (rtc_irqf(s) ? RTC_IRQF : 0);
	s->flags = 0;
	if (v & RTC_AF)
		rtc_find_alarm(s, now);	/* the one after: AF may rise again */
	rtc_update_irq(s);
	rtc_arm(s, now);
	return v;
}

static uint8_t rtc_read_reg(struct rtc *s, unsigned index)
{
	int64_t now = rtc_now(s);

	if (is_time_reg(index) && counting(s))
		rtc_render(s, rtc_time(s, now));
	switch (index) {
	case RTC_REG_A:
		if (counting(s) &&
		    floor_mod(now - s->origin_ns, NS_PER_SEC) >= NS_PER_SEC - UIP_NS)
			return s->cmos[RTC_REG_A] | RTC_UIP;
		return s->cmos[RTC_REG_A];
	case RTC_REG_C:
		return rtc_read_c(s, now);
	case RTC_REG_D:
		return RTC_VRT;
	default:
		return s->cmos[index];
	}
}

/* A write of register A or B: stop or start the clock as it says. */
static void rtc_write_control(struct rtc *s, unsigned index, uint8_t v,
			      int64_t now)
{
	bool was_counting = counting(s), was_running = divider_running(s);

	if (index == RTC_REG_A)
		v &= (uint8_t)~RTC_UIP;
	else if (v & RTC_SET)
		v &= (uint8_t)~RTC_UIE;	/* the datasheet: SET clears UIE */
	/* Held registers stay as they are when DM or 24/12 changes, as on
	 * the chip (the datasheet has the guest set the time again). */
	if (was_counting)
		rtc_render(s, rtc_time(s, now));	/* the time it stops at */
	s->cmos[index] = v;
	/* Out of divider reset, the first update comes half a second later. */
	if (divider_running(s) && !was_running)
		s->origin_ns = now - NS_PER_SEC / 2;
	if (counting(s) && !was_counting)
		rtc_start(s, now);
}

static void rtc_write_reg(struct rtc *s, unsigned index, uint8_t v)
{
	int64_t now = rtc_now(s);

	if (index == RTC_REG_C || index == RTC_REG_D)
		return;			/* read-only */
	if (!is_time_reg(index) && index > RTC_REG_B) {
		s->cmos[index] = v;	/* NVRAM */
		return;
	}
	rtc_collect(s, now);
	if (index == RTC_REG_A || index == RTC_REG_B) {
		rtc_write_control(s, index, v, now);
	} else if (is_time_reg(index) && counting(s)) {
		/* Without SET the time changes at once, as in QEMU (the chip
		 * might garble it with an update meanwhile). */
		rtc_render(s, rtc_time(s, now));
		s->cmos[index] = v;
		rtc_start(s, now);
	} else {
		s->cmos[index] = v;	/* an alarm byte, or a held time */
	}
	rtc_reconsider(s, now);
}

/* The index register: QEMU keeps 7 bits, and so does the chip's address
 * decoder; 0x37 (IBM PS/2's century) becomes 0x32, for good, as QEMU does. */
static unsigned rtc_data_index(struct rtc *s)
{
	if (s->index == RTC_PS2_CENTURY)
		s->index = RTC_CENTURY;
	return s->index;
}

static uint64_t rtc_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rtc *s = opaque;
	uint8_t v;

	(void)size;
	if (offset == 0)
		return 0xff;		/* the index port is write-only */
	pthread_mutex_lock(&s->lock);
	v = rtc_read_reg(s, rtc_data_index(s));
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void rtc_io_write(void *opaque, uint64_t offset, uint64_t value,
			 unsigned size)
{
	struct rtc *s = opaque;

	(void)size;
	pthread_mutex_lock(&s->lock);
	if (offset == 0) {
		s->index = value & 0x7f;
		s->nmi_masked = value & 0x80;
	} else {
		rtc_write_reg(s, rtc_data_index(s), (uint8_t)value);
	}
	pthread_mutex_unlock(&s->lock);
}

/* QEMU decodes any width up to 4 as byte accesses: `outw` to 0x70 writes the
 * index, then the data. */
static const struct memory_region_ops rtc_io_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
	.valid = { .min = 1, .max = 4 },
	.impl = { .min = 1, .max = 1 },
};

void rtc_set_cmos(struct device *dev, unsigned addr, uint8_t value)
{
	struct rtc *s = object_dynamic_cast(&dev->parent_obj, TYPE_MC146818_RTC);

	if (!s || addr >= RTC_CMOS_SIZE || addr <= RTC_REG_D || addr == RTC_CENTURY)
		return;
	pthread_mutex_lock(&s->lock);
	s->cmos[addr] = value;
	pthread_mutex_unlock(&s->lock);
}

/* The guest's wall clock, from the VMM's epoch: registers as QEMU's pc
 * starts them (32.768 kHz, 1024 Hz rate, 24-hour BCD). */
static int rtc_realize(struct device *dev, struct error *err)
{
	struct rtc *s = (struct rtc *)dev;
	int64_t now, wall;

	if (!dev->env->clock || !dev->env->io_space)
		return error_setf(err, "mc146818rtc: needs a clock and I/O ports");
	s->clock = dev->env->clock;
	now = rtc_now(s);
	wall = s->clock->epoch_ns + now;
	s->cmos[RTC_REG_A] = RTC_REF_CLCK_32KHZ | 0x06;
	s->cmos[RTC_REG_B] = RTC_24H;
	s->cmos[RTC_REG_D] = RTC_VRT;
	s->origin_sec = floor_div(wall, NS_PER_SEC);
	s->origin_ns = now - floor_mod(wall, NS_PER_SEC);
	s->flags_ns = now;
	rtc_render(s, s->origin_sec);
	rtc_find_alarm(s, now);
	clock_timer_init(&s->timer, rtc_timer_cb, s);
	memory_region_init_io(&s->io, "rtc", &rtc_io_ops, s, 2);
	memory_region_add_subregion(dev->env->io_space, RTC_ISA_BASE, &s->io, 0);
	return 0;
}

static void rtc_unrealize(struct device *dev)
{
	struct rtc *s = (struct rtc *)dev;

	clock_timer_del(s->clock, &s->timer);
	memory_region_del_subregion(dev->env->io_space, &s->io);
}

static void rtc_instance_init(struct object *obj)
{
	pthread_mutex_init(&((struct rtc *)obj)->lock, NULL);
}

static void rtc_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct rtc *)obj)->lock);
}

static void rtc_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = rtc_realize;
	dc->unrealize = rtc_unrealize;
	dc->user_creatable = false;	/* the board makes the one RTC */
}

static const struct type_info rtc_type_info = {
	.name = TYPE_MC146818_RTC,
	.parent = TYPE_DEVICE,
	.description = "MC146818A CMOS real-time clock and NVRAM",
	.instance_size = sizeof(struct rtc),
	.class_size = sizeof(struct device_class),
	.class_init = rtc_class_init,
	.instance_init = rtc_instance_init,
	.instance_finalize = rtc_instance_finalize,
};

static void rtc_register_types(void)
{
	type_register(&rtc_type_info);
}
type_init(rtc_register_types)
