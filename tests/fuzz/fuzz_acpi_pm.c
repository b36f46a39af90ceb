/* libFuzzer target: the "acpi-pm" device driven through the "io" address
 * space (ports 0x5fc-0x60f, every width, aligned or not), with the fake
 * clock moved forward, wake events and resumes in between. After every
 * operation the harness checks, from what the guest can read:
 *   - PM_TMR is the 3.579545 MHz count of the clock, 24 bits;
 *   - PM1_STS, PM1_EN, PM1_CNT hold only their defined bits; SLP_EN
 *     reads 0; TMR_STS is set exactly when bit 23 of the count changed
 *     since the last write of 1 to it;
 *   - the SCI line's level is SCI_EN && (STS & EN & (TMR|PWRBTN|RTC));
 *   - a timer is armed exactly while TMR_EN is set and TMR_STS clear, for
 *     the next change of bit 23;
 *   - a system event comes with the SLP_TYP it names (read back from inside
 *     the callback: the device lock is not held there).
 * Unrealize leaves nothing mapped and no timer armed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/acpi/pm.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/fake_clock.h"

#define TOGGLE_SHIFT	23

static struct fake_clock fc;
static struct memory_region io;
static struct address_space *io_as;
static struct irq_line isa[ISA_NUM_IRQS];
static struct device_env env;
static bool sci;
/* The guest's view of TMR_STS: the count's bit-23 epoch at the last clear. */
static uint64_t epoch;

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	CHECK(n == ACPI_SCI_IRQ);
	sci = level;
}

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0;

	address_space_rw(io_as, port, &v, size, false, NULL);
	return v;
}

static void on_event(void *host, enum system_event ev)
{
	unsigned typ = (in(ACPI_PM1A_CNT_BLK, 2) & ACPI_PM1_SLP_TYP) >> ACPI_PM1_SLP_TYP_SHIFT;

	(void)host;
	if (ev == SYSTEM_SUSPEND)
		CHECK(typ == ACPI_SLP_TYP_S3);
	else
		CHECK(ev == SYSTEM_POWEROFF &&
		      (typ == ACPI_SLP_TYP_S5 || typ == ACPI_SLP_TYP_S4));
}

static void setup_once(void)
{
	if (io_as)
		return;
	memory_region_init_container(&io, "io", 0x10000);
	io_as = address_space_new("io", &io);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa[i] = (struct irq_line){ .handler = on_irq, .n = i };
	env = (struct device_env){ .io_space = &io, .clock = &fc.clock, .isa_irq = isa,
				   .system_event = on_event };
}

static uint64_t ticks(void)
{
	return clock_ns_to_ticks(fc.now, ACPI_PM_TIMER_HZ);
}

static void check_all(void)
{
	uint32_t sts = in(ACPI_PM1A_EVT_BLK, 2), en = in(ACPI_PM1A_EVT_BLK + 2, 2);
	uint32_t cnt = in(ACPI_PM1A_CNT_BLK, 2);
	bool tmr_sts = ticks() >> TOGGLE_SHIFT != epoch;
	bool want_sci = (cnt & ACPI_PM1_SCI_EN) &&
			(sts & en & (ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_RTC));

	CHECK(in(ACPI_PM_TMR_BLK, 4) == (ticks() & 0xffffff));
	CHECK(!(sts & ~(ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_RTC | ACPI_PM1_WAK_STS)));
	CHECK(!(en & ~(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_RTC)));
	CHECK(!(cnt & ~(ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP)));
	CHECK(!!(sts & ACPI_PM1_TMR) == tmr_sts);
	CHECK(sci == want_sci);
	if ((en & ACPI_PM1_TMR) && !tmr_sts) {
		CHECK(fc.timers && !fc.timers->next);
		CHECK(fc.timers->deadline_ns ==
		      clock_ticks_to_ns((epoch + 1) << TOGGLE_SHIFT, ACPI_PM_TIMER_HZ));
	} else {
		CHECK(!fc.timers);
	}
}

static unsigned width(unsigned sel)
{
	static const unsigned w[8] = { 1, 2, 4, 2, 1, 2, 8, 3 };

	return w[sel & 7];
}

/* A write: what it does to the model of TMR_STS (a 1 in bit 0 of a write
 * that reaches PM1a_STS's low byte clears it). */
static void out(struct input *in_, unsigned sel)
{
	uint16_t port = (uint16_t)(0x5fc + (take(in_, 1) % 20));
	unsigned w = width(sel);
	uint64_t v = take(in_, w);
	uint64_t before_ticks_epoch = ticks() >> TOGGLE_SHIFT;
	bool reaches_tmr_sts = port <= ACPI_PM1A_EVT_BLK && port + w > ACPI_PM1A_EVT_BLK &&
			       (v >> (8 * (ACPI_PM1A_EVT_BLK - port)) & 1);
	uint32_t sts_before = in(ACPI_PM1A_EVT_BLK, 2);

	address_space_rw(io_as, port, &v, w, true, NULL);
	/* The memory core refuses some (too wide or unaligned): the device
	 * state says whether the clear happened. */
	if (reaches_tmr_sts && (sts_before & ACPI_PM1_TMR) &&
	    !(in(ACPI_PM1A_EVT_BLK, 2) & ACPI_PM1_TMR))
		epoch = before_ticks_epoch;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in_ = { data, size };
	struct object *root;
	struct device *pm;

	setup_once();
	fake_clock_init(&fc, take(&in_, 5) << 16, 0);	/* under 2^56 ns */
	sci = false;
	epoch = ticks() >> TOGGLE_SHIFT;
	root = object_new(TYPE_CONTAINER);
	pm = (struct device *)object_new(TYPE_ACPI_PM);
	CHECK(pm && device_realize(pm, &env, NULL) == 0);
	object_add_child(root, "pm", &pm->parent_obj);
	check_all();

	for (unsigned ops = 0; in_.left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(&in_, 1), sel = op >> 3;

		switch (op & 7) {
		case 0:
		case 1:
		case 6:
			out(&in_, sel);
			break;
		case 2:
		case 7: {
			uint16_t port = (uint16_t)(0x5fc + (take(&in_, 1) % 20));

			in(port, width(sel) > 4 ? 4 : width(sel));
			break;
		}
		case 3:		/* up to ~17 minutes, often around a toggle */
			fake_clock_advance(&fc, take(&in_, sel & 1 ? 5 : 3) << (sel >> 1 & 7));
			break;
		case 4:
			if (acpi_pm_wake_event(pm, sel & 1 ? WAKEUP_PWRBTN : WAKEUP_RTC))
				CHECK((sel & 1) || (in(ACPI_PM1A_EVT_BLK + 2, 2) & ACPI_PM1_RTC));
			else
				CHECK(!(sel & 1));
			break;
		default:
			acpi_pm_resumed(pm);
			CHECK(in(ACPI_PM1A_EVT_BLK, 2) & ACPI_PM1_WAK_STS);
			break;
		}
		check_all();
	}

	object_free(root);
	CHECK(!io.subregions && !fc.timers);
	return 0;
}
