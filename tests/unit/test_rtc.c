/* The MC146818A CMOS RTC: realized into a bare I/O space with a fake clock,
 * a recorded IRQ 8 and recorded wake-ups; driven through ports 0x70/0x71.
 * Each test boots the RTC at a whole second of a chosen UTC time, so the
 * updates fall at START + k seconds of the fake clock. */
#include <criterion/criterion.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "devices/timer/mc146818rtc.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "fake_clock.h"

#define SEC		1000000000ull
#define START		(5 * SEC)	/* the fake clock when the RTC is made */
#define UIP_NS		244140ull	/* 8 ticks of 32.768 kHz */

static struct memory_region io_root;
static struct address_space *io_as;
static struct object *root;
static struct fake_clock fc;
static struct device_env env;
static struct irq_line isa_irq[ISA_NUM_IRQS];
static struct device *rtc;
static bool irq8;
static unsigned raises, wakeups;

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	cr_assert_eq(n, RTC_ISA_IRQ, "only IRQ 8 may move, not %u", n);
	cr_assert_neq(level, irq8, "the line is set only when it changes");
	raises += level;
	irq8 = level;
}

static void on_wakeup(void *host, enum wakeup_source src)
{
	cr_assert_eq(host, &env);
	cr_assert_eq(src, WAKEUP_RTC);
	wakeups++;
}

static void setup(void)
{
	memory_region_init_container(&io_root, "io", 0x10000);
	io_as = address_space_new("io", &io_root);
	root = object_new(TYPE_CONTAINER);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa_irq[i] = (struct irq_line){ .handler = on_irq, .n = i };
	env = (struct device_env){
		.io_space = &io_root, .clock = &fc.clock, .isa_irq = isa_irq,
		.wakeup = on_wakeup, .host = &env,
	};
	rtc = NULL;
	irq8 = false;
	raises = wakeups = 0;
}

static void teardown(void)
{
	object_free(root);		/* unrealizes: timer deleted, unmapped */
	cr_assert_null(fc.timers, "no timer outlives the RTC");
	address_space_destroy(io_as);
}

TestSuite(rtc, .init = setup, .fini = teardown);

/* The RTC, made when the wall clock reads @unix_sec.000 at START. */
static void boot(int64_t unix_sec)
{
	struct object *obj = object_new(TYPE_MC146818_RTC);
	struct error err = { "" };

	fake_clock_init(&fc, START, unix_sec * (int64_t)SEC - (int64_t)START);
	cr_assert_not_null(obj);
	object_add_child(root, "rtc", obj);
	cr_assert_eq(device_realize((struct device *)obj, &env, &err), 0, "%s", err.msg);
	rtc = (struct device *)obj;
}

static uint8_t rd(unsigned index)
{
	uint8_t i = (uint8_t)index, v = 0;

	address_space_write(io_as, 0x70, &i, 1);
	address_space_read(io_as, 0x71, &v, 1);
	return v;
}

static void wr(unsigned index, uint8_t v)
{
	uint8_t i = (uint8_t)index;

	address_space_write(io_as, 0x70, &i, 1);
	address_space_write(io_as, 0x71, &v, 1);
}

static void advance(uint64_t ns)
{
	fake_clock_advance(&fc, ns);
}

/* The time registers: sec, min, hour, wday, mday, mon, year, century. */
struct regs { uint8_t r[8]; };

static struct regs time_regs(void)
{
	static const unsigned idx[8] = {
		RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
		RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY,
	};
	struct regs t;

	for (int i = 0; i < 8; i++)
		t.r[i] = rd(idx[i]);
	return t;
}

static void assert_time(uint8_t sec, uint8_t min, uint8_t hour, uint8_t wday,
			uint8_t mday, uint8_t mon, uint8_t year, uint8_t cent)
{
	const uint8_t want[8] = { sec, min, hour, wday, mday, mon, year, cent };
	struct regs t = time_regs();
	static const char *name[8] = {
		"seconds", "minutes", "hours", "weekday", "day", "month", "year",
		"century",
	};

	for (int i = 0; i < 8; i++)
		cr_assert_eq(t.r[i], want[i], "%s: %#x, want %#x", name[i], t.r[i],
			     want[i]);
}

/* Runs the fake clock to @end one timer at a time; each time the line
 * rises, the guest's handler reads register C, which must say @why. */
static unsigned serve_until(uint64_t end, uint8_t why)
{
	unsigned served = 0;
	struct clock_timer *t;

	while ((t = fake_clock_next(&fc, end))) {
		cr_assert_gt(t->deadline_ns, fc.now, "never armed in the past");
		advance(t->deadline_ns - fc.now);
		if (irq8) {
			uint8_t c = rd(RTC_REG_C);

			cr_assert_eq(c & (RTC_IRQF | why), RTC_IRQF | why, "C %#x", c);
			cr_assert_not(irq8, "reading C lowers the line");
			served++;
		}
	}
	advance(end - fc.now);
	return served;
}

Test(rtc, is_a_device_the_board_makes)
{
	struct object *obj = object_new(TYPE_MC146818_RTC);
	struct device_env bare = { .io_space = &io_root };
	struct error err = { "" };

	cr_assert_not_null(obj);
	cr_assert(object_is_a(obj, TYPE_DEVICE));
	cr_assert_not(DEVICE_GET_CLASS(obj)->user_creatable);
	cr_assert_neq(device_realize((struct device *)obj, &bare, &err), 0);
	cr_assert(strstr(err.msg, "clock"), "%s", err.msg);
	object_free(obj);
}

Test(rtc, starts_as_qemu_pc_does)
{
	boot(1720107045);
	cr_assert_eq(rd(RTC_REG_A), 0x26, "32.768 kHz, 1024 Hz");
	cr_assert_eq(rd(RTC_REG_B), RTC_24H, "24-hour BCD, nothing enabled");
	cr_assert_eq(rd(RTC_REG_C), 0);
	cr_assert_eq(rd(RTC_REG_D), RTC_VRT);
}

Test(rtc, reads_the_time_in_bcd)
{
	boot(1720107045);		/* 2024-07-04 15:30:45, a Thursday */
	assert_time(0x45, 0x30, 0x15, 5, 0x04, 0x07, 0x24, 0x20);
	advance(SEC - 1);
	cr_assert_eq(rd(RTC_SECONDS), 0x45);
	advance(1);
	cr_assert_eq(rd(RTC_SECONDS), 0x46);
	advance(14 * SEC);
	assert_time(0x00, 0x31, 0x15, 5, 0x04, 0x07, 0x24, 0x20);
}

Test(rtc, reads_the_time_in_binary)
{
	boot(1720107045);
	wr(RTC_REG_B, RTC_24H | RTC_DM_BINARY);
	assert_time(45, 30, 15, 5, 4, 7, 24, 20);
	advance(3600 * SEC);
	assert_time(45, 30, 16, 5, 4, 7, 24, 20);
}

/* 12-hour mode: 1-12 with bit 7 for PM; midnight is 12 AM, noon 12 PM. */
Test(rtc, twelve_hour_mode)
{
	static const struct { int64_t t; uint8_t bcd, bin; } cases[] = {
		{ 1795910400, 0x12, 12 },		/* 00:00 */
		{ 1795910400 + 3600, 0x01, 1 },		/* 01:00 */
		{ 1795910400 + 11 * 3600, 0x11, 11 },	/* 11:00 */
		{ 1795953600, 0x92, 0x8c },		/* 12:00 */
		{ 1795953600 + 3600, 0x81, 0x81 },	/* 13:00 */
		{ 1795953600 + 11 * 3600 + 3599, 0x91, 0x8b },	/* 23:59:59 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		boot(cases[i].t);
		wr(RTC_REG_B, 0);
		cr_assert_eq(rd(RTC_HOURS), cases[i].bcd, "case %zu", i);
		wr(RTC_REG_B, RTC_DM_BINARY);
		cr_assert_eq(rd(RTC_HOURS), cases[i].bin, "case %zu", i);
		teardown();
		setup();
	}
}

Test(rtc, rolls_over_days_months_leap_years_and_centuries)
{
	static const struct {
		int64_t t;	/* one second before */
		uint8_t wday, mday, mon, year, cent;
	} cases[] = {
		{ 1706745599, 5, 0x01, 0x02, 0x24, 0x20 },	/* 2024-01-31 */
		{ 1709164799, 5, 0x29, 0x02, 0x24, 0x20 },	/* 2024-02-28 */
		{ 1709251199, 6, 0x01, 0x03, 0x24, 0x20 },	/* 2024-02-29 */
		{ 1677628799, 4, 0x01, 0x03, 0x23, 0x20 },	/* 2023-02-28 */
		{ 951782399, 3, 0x29, 0x02, 0x00, 0x20 },	/* 2000-02-28 */
		{ 4107542399, 2, 0x01, 0x03, 0x00, 0x21 },	/* 2100-02-28 */
		{ 946684799, 7, 0x01, 0x01, 0x00, 0x20 },	/* 1999-12-31 */
		{ 4102444799, 6, 0x01, 0x01, 0x00, 0x21 },	/* 2099-12-31 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		boot(cases[i].t);
		cr_assert_eq(rd(RTC_SECONDS), 0x59, "case %zu", i);
		advance(SEC);
		assert_time(0, 0, 0, cases[i].wday, cases[i].mday, cases[i].mon,
			    cases[i].year, cases[i].cent);
		teardown();
		setup();
	}
}

Test(rtc, set_holds_the_registers_then_counts_on_from_them)
{
	boot(1720107045);
	advance(SEC / 10 * 3);
	wr(RTC_REG_B, RTC_SET | RTC_24H | RTC_UIE);
	cr_assert_eq(rd(RTC_REG_B), RTC_SET | RTC_24H, "SET clears UIE");
	/* 2030-06-15 08:09:10, a Saturday (the weekday is recomputed). */
	wr(RTC_SECONDS, 0x10);
	wr(RTC_MINUTES, 0x09);
	wr(RTC_HOURS, 0x08);
	wr(RTC_DAY_OF_WEEK, 1);
	wr(RTC_DAY_OF_MONTH, 0x15);
	wr(RTC_MONTH, 0x06);
	wr(RTC_YEAR, 0x30);
	wr(RTC_CENTURY, 0x20);
	advance(5 * SEC);
	assert_time(0x10, 0x09, 0x08, 1, 0x15, 0x06, 0x30, 0x20);
	cr_assert_not(rd(RTC_REG_A) & RTC_UIP);
	wr(RTC_REG_B, RTC_24H);
	/* The divider ran on: the next update is where it always was. */
	advance(SEC / 10 * 7 - 1);
	assert_time(0x10, 0x09, 0x08, 7, 0x15, 0x06, 0x30, 0x20);
	advance(1);
	cr_assert_eq(rd(RTC_SECONDS), 0x11);
	advance(100 * SEC);
	assert_time(0x51, 0x10, 0x08, 7, 0x15, 0x06, 0x30, 0x20);
}

Test(rtc, twelve_hour_time_set_reads_back_in_24_hours)
{
	boot(1720107045);
	wr(RTC_REG_B, RTC_SET);
	wr(RTC_HOURS, 0x92);		/* 12 PM */
	wr(RTC_REG_B, 0);
	wr(RTC_REG_B, RTC_24H);
	cr_assert_eq(rd(RTC_HOURS), 0x12);
	wr(RTC_REG_B, RTC_SET);
	wr(RTC_HOURS, 0x12);		/* 12 AM */
	wr(RTC_REG_B, 0);
	wr(RTC_REG_B, RTC_24H);
	cr_assert_eq(rd(RTC_HOURS), 0x00);
}

Test(rtc, a_write_without_set_changes_the_time_at_once)
{
	boot(1795953600);		/* 12:00:00 */
	advance(SEC / 2);
	wr(RTC_MINUTES, 0x45);
	assert_time(0x00, 0x45, 0x12, 1, 0x29, 0x11, 0x26, 0x20);
	advance(SEC / 2);
	cr_assert_eq(rd(RTC_SECONDS), 0x01, "the divider's phase is kept");
}

Test(rtc, uip_is_set_in_the_244_us_before_each_update)
{
	boot(1720107045);
	for (int k = 1; k <= 3; k++) {
		uint64_t update = START + k * SEC;

		advance(update - UIP_NS - 1 - fc.now);
		cr_assert_not(rd(RTC_REG_A) & RTC_UIP, "before the window, k=%d", k);
		advance(1);
		cr_assert_eq(rd(RTC_REG_A), 0x26 | RTC_UIP, "window opens");
		cr_assert_eq(rd(RTC_SECONDS), 0x44 + k, "the time is still the old");
		advance(UIP_NS - 1);
		cr_assert(rd(RTC_REG_A) & RTC_UIP, "last ns before the update");
		advance(1);
		cr_assert_eq(rd(RTC_REG_A), 0x26, "falls at the update");
		cr_assert_eq(rd(RTC_SECONDS), 0x45 + k);
	}
}

Test(rtc, periodic_interrupts_at_every_rate)
{
	for (unsigned rs = 1; rs <= 15; rs++) {
		unsigned hz = rs <= 2 ? 256 >> (rs - 1) : 65536 >> rs;

		boot(1720107045);
		wr(RTC_REG_A, (uint8_t)(0x20 | rs));
		wr(RTC_REG_B, RTC_PIE | RTC_24H);
		cr_assert_eq(serve_until(START + 2 * SEC, RTC_PF), 2 * hz,
			     "RS %u: %u Hz", rs, hz);
		teardown();
		setup();
	}
}

Test(rtc, pf_is_set_without_pie_but_raises_nothing)
{
	boot(1720107045);
	wr(RTC_REG_A, 0x2f);		/* 2 Hz */
	advance(SEC / 2 - 1);
	cr_assert_eq(rd(RTC_REG_C), 0);
	advance(1);
	cr_assert_eq(rd(RTC_REG_C), RTC_PF);
	cr_assert_eq(rd(RTC_REG_C), 0, "a read clears it");
	advance(SEC / 2);
	/* Enabling PIE with PF pending raises the line at once. */
	wr(RTC_REG_B, RTC_PIE | RTC_24H);
	cr_assert(irq8);
	cr_assert_eq(rd(RTC_REG_C), RTC_IRQF | RTC_PF | RTC_UF);
	cr_assert_not(irq8);
	cr_assert_eq(raises, 1);
}

Test(rtc, update_ended_interrupt_once_per_second)
{
	boot(1720107045);
	advance(SEC / 4);
	wr(RTC_REG_B, RTC_UIE | RTC_24H);
	cr_assert_eq(serve_until(START + 10 * SEC + SEC / 4, RTC_UF), 10);
	cr_assert_eq(rd(RTC_SECONDS), 0x55);
}

Test(rtc, reading_c_clears_it_and_lowers_the_line)
{
	boot(1720107045);
	wr(RTC_REG_B, RTC_UIE | RTC_24H);
	advance(SEC);
	cr_assert(irq8);
	/* PF too: the default 1024 Hz rate sets it, enabled or not. */
	cr_assert_eq(rd(RTC_REG_C), RTC_IRQF | RTC_PF | RTC_UF);
	cr_assert_not(irq8);
	cr_assert_eq(rd(RTC_REG_C), 0);
	advance(SEC);
	cr_assert(irq8, "the next update raises it again");
	cr_assert_eq(raises, 2);
	/* Disabling the source drops IRQF and the line with it. */
	wr(RTC_REG_B, RTC_24H);
	cr_assert_not(irq8);
	cr_assert_eq(rd(RTC_REG_C), RTC_PF | RTC_UF);
}

Test(rtc, alarm_at_a_time)
{
	boot(1795953600);		/* 12:00:00 */
	wr(RTC_SECONDS_ALARM, 0x05);
	wr(RTC_MINUTES_ALARM, 0x00);
	wr(RTC_HOURS_ALARM, 0x12);
	cr_assert_null(fc.timers, "no timer without AIE");
	wr(RTC_REG_B, RTC_AIE | RTC_24H);
	cr_assert_not_null(fc.timers);
	cr_assert_eq(fc.timers->deadline_ns, START + 5 * SEC);
	advance(5 * SEC - 1);
	cr_assert_not(irq8);
	cr_assert_eq(wakeups, 0);
	advance(1);
	cr_assert(irq8);
	cr_assert_eq(wakeups, 1, "the alarm wakes the machine");
	cr_assert_null(fc.timers, "AF is up: nothing more to wait for");
	/* PF too: the default 1024 Hz rate sets it, enabled or not. */
	cr_assert_eq(rd(RTC_REG_C), RTC_IRQF | RTC_PF | RTC_AF | RTC_UF);
	cr_assert_not_null(fc.timers);
	cr_assert_eq(fc.timers->deadline_ns, START + 5 * SEC + 86400 * SEC,
		     "the same time tomorrow");
}

Test(rtc, alarm_with_dont_care_bytes)
{
	boot(1795953600);		/* 12:00:00 */
	/* :30 of every minute of every hour */
	wr(RTC_SECONDS_ALARM, 0x30);
	wr(RTC_MINUTES_ALARM, 0xff);
	wr(RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);
	wr(RTC_REG_B, RTC_AIE | RTC_24H);
	cr_assert_eq(serve_until(START + 180 * SEC, RTC_AF), 3);
	cr_assert_eq(wakeups, 3);
	/* minute 1 of every hour, second 0 */
	wr(RTC_SECONDS_ALARM, 0x00);
	wr(RTC_MINUTES_ALARM, 0x01);
	cr_assert_eq(serve_until(START + 3 * 3600 * SEC, RTC_AF), 2,
		     "13:01 and 14:01");
	/* every second */
	wr(RTC_SECONDS_ALARM, 0xc0);
	wr(RTC_MINUTES_ALARM, 0xc0);
	cr_assert_eq(serve_until(fc.now + 10 * SEC, RTC_AF), 10);
}

Test(rtc, alarm_in_12_hour_binary_mode)
{
	boot(1795953600 + 3600);	/* 13:00:00 */
	wr(RTC_REG_B, RTC_DM_BINARY);
	wr(RTC_SECONDS_ALARM, 2);
	wr(RTC_MINUTES_ALARM, 0);
	wr(RTC_HOURS_ALARM, 0x81);	/* 1 PM */
	wr(RTC_REG_B, RTC_DM_BINARY | RTC_AIE);
	cr_assert_eq(serve_until(START + 3 * SEC, RTC_AF), 1);
	wr(RTC_HOURS_ALARM, 0x01);	/* 1 AM: 12 hours on */
	cr_assert_eq(fc.timers->deadline_ns, START + 12 * 3600 * SEC + 2 * SEC);
}

Test(rtc, an_alarm_byte_no_time_matches_never_fires)
{
	boot(1795953600);
	wr(RTC_SECONDS_ALARM, 0x5a);	/* not BCD */
	wr(RTC_MINUTES_ALARM, 0xff);
	wr(RTC_HOURS_ALARM, 0xff);
	wr(RTC_REG_B, RTC_AIE | RTC_24H);
	cr_assert_null(fc.timers);
	advance(2 * 86400 * SEC);
	cr_assert_eq(rd(RTC_REG_C) & RTC_AF, 0);
}

Test(rtc, alarm_without_aie_sets_af_but_wakes_nothing)
{
	boot(1795953600);
	wr(RTC_SECONDS_ALARM, 0x05);
	wr(RTC_MINUTES_ALARM, 0xc0);
	wr(RTC_HOURS_ALARM, 0xc0);
	advance(10 * SEC);
	cr_assert_null(fc.timers);
	cr_assert_eq(fc.fired, 0);
	cr_assert_eq(rd(RTC_REG_C), RTC_PF | RTC_AF | RTC_UF);
	cr_assert_eq(wakeups, 0, "QEMU wakes for the alarm only with AIE");
	cr_assert_eq(raises, 0);
}

Test(rtc, no_timer_while_no_interrupt_is_enabled)
{
	boot(1720107045);
	wr(RTC_REG_A, 0x23);		/* 8192 Hz */
	wr(RTC_SECONDS_ALARM, 0xff);
	wr(RTC_REG_B, RTC_24H | RTC_SQWE);
	wr(RTC_SECONDS, 0x10);
	advance(60 * SEC);
	cr_assert_null(fc.timers);
	cr_assert_eq(fc.fired, 0);
	wr(RTC_REG_B, RTC_24H | RTC_PIE);
	cr_assert_null(fc.timers, "PF is already up: no need");
	cr_assert(irq8);
	rd(RTC_REG_C);
	cr_assert_not_null(fc.timers);
	wr(RTC_REG_B, RTC_24H);
	cr_assert_null(fc.timers);
}

Test(rtc, divider_reset_stops_the_clock)
{
	struct regs held;

	boot(1720107045);
	wr(RTC_REG_B, RTC_24H | RTC_PIE | RTC_UIE);
	advance(SEC / 10 * 3);
	wr(RTC_REG_A, 0x76);
	held = time_regs();
	cr_assert_eq(held.r[0], 0x45);
	cr_assert_null(fc.timers, "no interrupts in reset");
	advance(10 * SEC);
	cr_assert_eq(memcmp(time_regs().r, held.r, 8), 0);
	cr_assert_eq(rd(RTC_REG_A), 0x76, "no UIP");
	cr_assert_eq(rd(RTC_REG_C), RTC_IRQF | RTC_PF, "only the one before reset");
	/* Out of reset, the first update is half a second later. */
	wr(RTC_REG_A, 0x26);
	advance(SEC / 2 - 1);
	cr_assert_eq(rd(RTC_SECONDS), 0x45);
	advance(1);
	cr_assert_eq(rd(RTC_SECONDS), 0x46);
	cr_assert(irq8);
}

Test(rtc, nmi_bit_does_not_change_the_index)
{
	uint8_t v;

	boot(1720107045);
	wr(0x80 | RTC_SECONDS, 0x00);	/* as a PC BIOS does: NMI masked */
	cr_assert_eq(rd(RTC_SECONDS), 0x00);
	wr(0x80 | 0x40, 0x5a);
	cr_assert_eq(rd(0x40), 0x5a);
	cr_assert_eq(rd(0x80 | RTC_REG_D), RTC_VRT);
	address_space_read(io_as, 0x70, &v, 1);
	cr_assert_eq(v, 0xff, "the index port reads nothing back");
}

Test(rtc, every_index_reads_and_nvram_keeps_what_it_is_given)
{
	boot(1720107045);
	for (unsigned i = 0; i < 256; i++)
		rd(i);
	for (unsigned i = RTC_REG_D + 1; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY && i != RTC_PS2_CENTURY)
			wr(i, (uint8_t)(i * 3 + 1));
	for (unsigned i = RTC_REG_D + 1; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY && i != RTC_PS2_CENTURY)
			cr_assert_eq(rd(i), (uint8_t)(i * 3 + 1), "%#x", i);
	wr(RTC_REG_C, 0xff);
	wr(RTC_REG_D, 0x00);
	cr_assert_eq(rd(RTC_REG_C), 0);
	cr_assert_eq(rd(RTC_REG_D), RTC_VRT);
	wr(RTC_REG_A, 0xa6);
	cr_assert_eq(rd(RTC_REG_A), 0x26, "UIP is read-only");
	/* 0x37 is the century, and the index stays at 0x32. */
	cr_assert_eq(rd(RTC_PS2_CENTURY), 0x20);
	wr(RTC_CENTURY, 0x19);
	cr_assert_eq(rd(RTC_PS2_CENTURY), 0x19);
	cr_assert_eq(rd(RTC_YEAR), 0x24);
}

Test(rtc, board_fills_nvram)
{
	boot(1720107045);
	rtc_set_cmos(rtc, 0x15, 0x80);
	rtc_set_cmos(rtc, 0x16, 0x02);
	rtc_set_cmos(rtc, 0x5f, 3);
	rtc_set_cmos(rtc, RTC_SECONDS, 0x00);
	rtc_set_cmos(rtc, RTC_CENTURY, 0x00);
	rtc_set_cmos(rtc, RTC_CMOS_SIZE, 0x00);
	cr_assert_eq(rd(0x15), 0x80);
	cr_assert_eq(rd(0x16), 0x02);
	cr_assert_eq(rd(0x5f), 3);
	cr_assert_eq(rd(RTC_SECONDS), 0x45, "the clock's own bytes are not NVRAM");
	cr_assert_eq(rd(RTC_CENTURY), 0x20);
}

Test(rtc, wide_accesses_are_byte_accesses_index_first)
{
	uint16_t w = 0x5a40;		/* index 0x40, then data 0x5a */
	uint32_t l = 0;

	boot(1720107045);
	cr_assert_eq(address_space_write(io_as, 0x70, &w, 2), MEMTX_OK);
	cr_assert_eq(rd(0x40), 0x5a);
	cr_assert_eq(address_space_read(io_as, 0x70, &w, 2), MEMTX_OK);
	cr_assert_eq(w, 0x5aff);
	address_space_read(io_as, 0x70, &l, 4);
	cr_assert_eq(l & 0xffff, 0x5aff, "the ports past 0x71 are not ours");
}

Test(rtc, unrealize_deletes_the_timer)
{
	boot(1720107045);
	wr(RTC_REG_B, RTC_24H | RTC_UIE);
	cr_assert_not_null(fc.timers);
	object_free(&rtc->parent_obj);
	cr_assert_null(fc.timers);
	cr_assert_eq(rd(RTC_SECONDS), 0xff, "unmapped");
}
