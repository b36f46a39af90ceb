/* The "acpi-pm" device: PM1 registers and the PM timer through an io
 * address space, time from the fake clock, the SCI and system events
 * recorded. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/acpi/pm.h"
#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/unit/fake_clock.h"

#define STS	0x600
#define EN	0x602
#define CNT	0x604
#define TMR	0x608
#define TOGGLE	(1ull << 23)	/* ticks between changes of the counter's bit 23 */

static struct fake_clock fc;
static struct memory_region io;
static struct address_space *io_as;
static struct object *root;
static struct device *pm;
static struct irq_line isa[ISA_NUM_IRQS];
static bool sci;
static unsigned sci_other_lines;
static enum system_event events[8];
static unsigned nevents;
static struct device_env env;

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	if (n == ACPI_SCI_IRQ)
		sci = level;
	else
		sci_other_lines++;
}

static void on_event(void *host, enum system_event ev)
{
	(void)host;
	cr_assert_lt(nevents, 8);
	events[nevents++] = ev;
}

/* The device keeps @with: a test changes it only to change what it sees. */
static struct device *mk(const struct device_env *with, struct error *e)
{
	struct object *obj = object_new(TYPE_ACPI_PM);

	cr_assert_not_null(obj);
	if (device_realize((struct device *)obj, with, e)) {
		object_free(obj);
		return NULL;
	}
	object_add_child(root, "pm", obj);
	return (struct device *)obj;
}

static void setup(void)
{
	struct error e = { "" };

	fake_clock_init(&fc, 0, 0);
	memory_region_init_container(&io, "io", 0x10000);
	io_as = address_space_new("io", &io);
	root = object_new(TYPE_CONTAINER);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa[i] = (struct irq_line){ .handler = on_irq, .n = i };
	sci = false;
	sci_other_lines = 0;
	nevents = 0;
	env = (struct device_env){ .io_space = &io, .clock = &fc.clock, .isa_irq = isa,
				   .system_event = on_event };
	pm = mk(&env, &e);
	cr_assert_not_null(pm, "%s", e.msg);
}

static void teardown(void)
{
	object_free(root);
	address_space_destroy(io_as);
}

TestSuite(acpi_pm, .init = setup, .fini = teardown);

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0;

	address_space_rw(io_as, port, &v, size, false, NULL);
	return v;
}

static void out(uint16_t port, uint32_t v, unsigned size)
{
	address_space_rw(io_as, port, &v, size, true, NULL);
}

/* Moves the clock to the instant the counter reaches @ticks. */
static void advance_to_tick(uint64_t ticks)
{
	uint64_t ns = clock_ticks_to_ns(ticks, ACPI_PM_TIMER_HZ);

	cr_assert_geq(ns, fc.now);
	fake_clock_advance(&fc, ns - fc.now);
}

Test(acpi_pm, is_a_device_only_the_board_makes)
{
	struct object_class *oc = object_class_by_name(TYPE_ACPI_PM);

	cr_assert_not_null(oc);
	cr_assert(object_class_is_a(oc, TYPE_DEVICE));
	cr_assert_not(DEVICE_CLASS(oc)->user_creatable);
}

Test(acpi_pm, realize_needs_a_clock)
{
	struct device_env no_clock = env;
	struct error e = { "" };

	no_clock.clock = NULL;
	cr_assert_null(mk(&no_clock, &e));
	cr_assert(strstr(e.msg, "clock"), "%s", e.msg);
}

Test(acpi_pm, timer_counts_at_3_579545_mhz)
{
	cr_assert_eq(in(TMR, 4), 0);
	fake_clock_advance(&fc, 1000000000);
	cr_assert_eq(in(TMR, 4), 3579545);
	fake_clock_advance(&fc, 1000000);		/* 3579.545 ticks more */
	cr_assert_eq(in(TMR, 4), 3579545 + 3579);
	cr_assert_eq(in(TMR, 4), 3579545 + 3579, "no time passed, no tick");
}

Test(acpi_pm, timer_wraps_at_24_bits)
{
	advance_to_tick((1ull << 24) - 3);
	cr_assert_eq(in(TMR, 4), 0xfffffd);
	advance_to_tick((1ull << 24) + 5);
	cr_assert_eq(in(TMR, 4), 5, "wrapped; bits 24-31 read 0");
	advance_to_tick(7 * (1ull << 24) + 0x123456);
	cr_assert_eq(in(TMR, 4), 0x123456);
}

Test(acpi_pm, timer_reads_in_bytes_and_words_and_ignores_writes)
{
	advance_to_tick(0xabcdef);
	out(TMR, 0, 4);
	cr_assert_eq(in(TMR, 4), 0xabcdef);
	cr_assert_eq(in(TMR, 1), 0xef);
	cr_assert_eq(in(TMR + 1, 1), 0xcd);
	cr_assert_eq(in(TMR + 2, 1), 0xab);
	cr_assert_eq(in(TMR + 3, 1), 0);
	cr_assert_eq(in(TMR, 2), 0xcdef);
	cr_assert_eq(in(TMR + 2, 2), 0x00ab);
}

Test(acpi_pm, tmr_sts_sets_when_bit_23_changes_and_clears_by_writing_1)
{
	advance_to_tick(TOGGLE - 1);
	cr_assert_eq(in(STS, 2) & ACPI_PM1_TMR, 0);
	advance_to_tick(TOGGLE);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR, "bit 23 went 0 -> 1");
	out(STS, 0, 2);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR, "writing 0 leaves it");
	out(STS, ACPI_PM1_TMR, 2);
	cr_assert_eq(in(STS, 2), 0, "write 1 to clear");
	advance_to_tick(2 * TOGGLE - 1);
	cr_assert_eq(in(STS, 2), 0);
	advance_to_tick(2 * TOGGLE);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR, "bit 23 went 1 -> 0");
}

Test(acpi_pm, tmr_sts_after_a_late_clear_waits_for_the_next_toggle)
{
	advance_to_tick(TOGGLE * 3 / 2);
	out(STS, ACPI_PM1_TMR, 2);
	advance_to_tick(2 * TOGGLE - 1);
	cr_assert_eq(in(STS, 2), 0, "not 2^23 ticks after the clear: at the toggle");
	advance_to_tick(2 * TOGGLE);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR);
	advance_to_tick(10 * TOGGLE);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR, "many toggles: still one status bit");
}

Test(acpi_pm, no_timer_armed_without_tmr_en)
{
	fake_clock_advance(&fc, 5000000000ull);
	out(STS, 0xffff, 2);
	out(EN, ACPI_PM1_RTC | ACPI_PM1_PWRBTN, 2);
	cr_assert_null(fc.timers);
	out(EN, ACPI_PM1_TMR, 2);
	cr_assert_not_null(fc.timers, "TMR_EN: armed for the next toggle");
	out(EN, 0, 2);
	cr_assert_null(fc.timers);
	cr_assert_eq(fc.fired, 0);
}

Test(acpi_pm, tmr_en_raises_the_sci_at_the_toggle)
{
	out(EN, ACPI_PM1_TMR, 2);
	cr_assert_not(sci);
	advance_to_tick(TOGGLE - 1);
	cr_assert_not(sci);
	cr_assert_eq(fc.fired, 0);
	advance_to_tick(TOGGLE);
	cr_assert_eq(fc.fired, 1);
	cr_assert(sci, "SCI at the toggle, unasked");
	cr_assert_null(fc.timers, "TMR_STS set: nothing more to wait for");
	out(STS, ACPI_PM1_TMR, 2);
	cr_assert_not(sci, "write 1 to clear lowers it");
	cr_assert_not_null(fc.timers);
	advance_to_tick(2 * TOGGLE);
	cr_assert(sci);
	cr_assert_eq(sci_other_lines, 0, "only IRQ 9");
}

Test(acpi_pm, sci_level_follows_status_enable_and_sci_en)
{
	advance_to_tick(TOGGLE);
	cr_assert_not(sci, "TMR_STS without TMR_EN");
	out(EN, ACPI_PM1_TMR, 2);
	cr_assert(sci);
	out(CNT, 0, 2);
	cr_assert_not(sci, "SCI_EN clear: no SCI");
	cr_assert_eq(in(CNT, 2), 0);
	out(CNT, ACPI_PM1_SCI_EN, 2);
	cr_assert(sci);
	out(EN, 0, 2);
	cr_assert_not(sci);
}

Test(acpi_pm, sci_en_is_set_from_power_on)
{
	cr_assert_eq(in(CNT, 2), ACPI_PM1_SCI_EN);
	cr_assert_eq(in(STS, 2), 0);
	cr_assert_eq(in(EN, 2), 0);
}

static void sleep_request(unsigned typ)
{
	out(CNT, ACPI_PM1_SCI_EN | typ << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN, 2);
}

Test(acpi_pm, slp_en_with_s3_suspends_and_s5_or_s4_powers_off)
{
	sleep_request(ACPI_SLP_TYP_S3);
	cr_assert_eq(nevents, 1);
	cr_assert_eq(events[0], SYSTEM_SUSPEND);
	cr_assert_eq(in(CNT, 2), ACPI_PM1_SCI_EN | ACPI_SLP_TYP_S3 << ACPI_PM1_SLP_TYP_SHIFT,
		     "SLP_EN reads 0; SLP_TYP stays");
	sleep_request(ACPI_SLP_TYP_S5);
	cr_assert_eq(nevents, 2);
	cr_assert_eq(events[1], SYSTEM_POWEROFF);
	sleep_request(ACPI_SLP_TYP_S4);
	cr_assert_eq(nevents, 3);
	cr_assert_eq(events[2], SYSTEM_POWEROFF, "S4: the guest saved itself, off");
}

Test(acpi_pm, other_sleep_types_and_slp_typ_alone_do_nothing)
{
	for (unsigned typ = 3; typ < 8; typ++)
		sleep_request(typ);
	out(CNT, ACPI_PM1_SCI_EN | ACPI_SLP_TYP_S3 << ACPI_PM1_SLP_TYP_SHIFT, 2);
	cr_assert_eq(nevents, 0);
	out(CNT, 0xffff, 2);	/* SLP_TYP 7 with SLP_EN: ignored too */
	cr_assert_eq(nevents, 0);
	cr_assert_eq(in(CNT, 2), ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP,
		     "reserved, GBL_RLS and SLP_EN read 0");
}

Test(acpi_pm, no_system_event_callback_is_fine)
{
	env.system_event = NULL;
	sleep_request(ACPI_SLP_TYP_S5);
	cr_assert_eq(nevents, 0);
}

Test(acpi_pm, byte_writes_touch_only_their_byte)
{
	out(EN, ACPI_PM1_TMR | ACPI_PM1_RTC, 2);
	out(EN + 1, ACPI_PM1_PWRBTN >> 8, 1);
	cr_assert_eq(in(EN, 2), ACPI_PM1_TMR | ACPI_PM1_PWRBTN, "low byte kept");
	out(EN, 0, 1);
	cr_assert_eq(in(EN, 2), ACPI_PM1_PWRBTN, "high byte kept");
	cr_assert_eq(in(EN + 1, 1), ACPI_PM1_PWRBTN >> 8);

	/* The usual sleep write from a byte-wise guest: SCI_EN survives. */
	out(CNT + 1, (ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN) >> 8, 1);
	cr_assert_eq(nevents, 1);
	cr_assert_eq(events[0], SYSTEM_POWEROFF);
	cr_assert_eq(in(CNT, 1), ACPI_PM1_SCI_EN);
	out(CNT + 1, (ACPI_SLP_TYP_S3 << ACPI_PM1_SLP_TYP_SHIFT) >> 8, 1);
	cr_assert_eq(in(CNT + 1, 1), (ACPI_SLP_TYP_S3 << ACPI_PM1_SLP_TYP_SHIFT) >> 8);
	cr_assert_eq(nevents, 1);
}

Test(acpi_pm, byte_writes_clear_only_their_status_bits)
{
	advance_to_tick(TOGGLE);
	acpi_pm_resumed(pm);
	acpi_pm_wake_event(pm, WAKEUP_PWRBTN);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_WAK_STS);
	out(STS + 1, ACPI_PM1_WAK_STS >> 8, 1);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR | ACPI_PM1_PWRBTN);
	out(STS, 0xff, 1);
	cr_assert_eq(in(STS, 2), ACPI_PM1_PWRBTN);
	cr_assert_eq(in(STS + 1, 1), ACPI_PM1_PWRBTN >> 8);
	out(STS, 0xffff, 2);
	cr_assert_eq(in(STS, 2), 0);
}

Test(acpi_pm, enable_keeps_only_implemented_bits)
{
	out(EN, 0xffff, 2);
	cr_assert_eq(in(EN, 2), ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_RTC);
}

Test(acpi_pm, a_dword_at_pm1_sts_reaches_status_and_enable)
{
	out(EN, ACPI_PM1_PWRBTN, 2);
	acpi_pm_resumed(pm);
	cr_assert_eq(in(STS, 4), ACPI_PM1_WAK_STS | ACPI_PM1_PWRBTN << 16);
	out(STS, ACPI_PM1_WAK_STS | ACPI_PM1_RTC << 16, 4);
	cr_assert_eq(in(STS, 2), 0);
	cr_assert_eq(in(EN, 2), ACPI_PM1_RTC);
}

Test(acpi_pm, unaligned_accesses_are_refused)
{
	acpi_pm_resumed(pm);
	cr_assert_eq(in(STS + 1, 2), 0xffff);
	out(STS + 1, 0xffff, 2);
	cr_assert_eq(in(STS, 2), ACPI_PM1_WAK_STS, "a refused write changes nothing");
	cr_assert_eq(in(TMR + 1, 2), 0xffff);
	cr_assert_eq(in(CNT + 2, 2), 0xffff, "0x606 is not decoded");
	cr_assert_eq(in(CNT, 2), ACPI_PM1_SCI_EN);
}

Test(acpi_pm, rtc_wakes_only_when_enabled_and_records_its_status)
{
	cr_assert_not(acpi_pm_wake_event(pm, WAKEUP_RTC));
	cr_assert_eq(in(STS, 2), ACPI_PM1_RTC, "recorded even when not a wake source");
	cr_assert_not(sci);
	out(STS, ACPI_PM1_RTC, 2);
	out(EN, ACPI_PM1_RTC, 2);
	cr_assert(acpi_pm_wake_event(pm, WAKEUP_RTC));
	cr_assert_eq(in(STS, 2), ACPI_PM1_RTC);
	cr_assert(sci, "RTC_STS & RTC_EN: the SCI the guest sees on resume");
}

Test(acpi_pm, the_power_button_always_wakes)
{
	cr_assert(acpi_pm_wake_event(pm, WAKEUP_PWRBTN));
	cr_assert_eq(in(STS, 2), ACPI_PM1_PWRBTN);
	cr_assert_not(sci, "PWRBTN_EN clear");
	out(EN, ACPI_PM1_PWRBTN, 2);
	cr_assert(sci);
	cr_assert(acpi_pm_wake_event(pm, WAKEUP_PWRBTN));
	cr_assert_not(acpi_pm_wake_event(pm, (enum wakeup_source)99), "unknown source");
}

Test(acpi_pm, resumed_sets_wak_sts_which_raises_no_sci)
{
	out(EN, 0xffff, 2);
	acpi_pm_resumed(pm);
	cr_assert_eq(in(STS, 2), ACPI_PM1_WAK_STS);
	cr_assert_not(sci, "WAK_STS has no enable bit");
	out(STS, ACPI_PM1_WAK_STS, 2);
	cr_assert_eq(in(STS, 2), 0);
}

Test(acpi_pm, without_irq_lines_nothing_breaks)
{
	object_free(root);
	root = object_new(TYPE_CONTAINER);
	env.isa_irq = NULL;
	cr_assert_not_null(mk(&env, NULL));
	out(EN, ACPI_PM1_TMR, 2);
	advance_to_tick(TOGGLE);
	cr_assert_eq(in(STS, 2), ACPI_PM1_TMR);
	cr_assert_not(sci);
}

Test(acpi_pm, unrealize_unmaps_and_disarms)
{
	out(EN, ACPI_PM1_TMR, 2);
	cr_assert_not_null(fc.timers);
	object_free(root);
	root = object_new(TYPE_CONTAINER);
	cr_assert_null(fc.timers);
	cr_assert_null(io.subregions);
	cr_assert_eq(in(TMR, 4), 0xffffffff, "nothing there any more");
}
