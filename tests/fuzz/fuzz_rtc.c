/* libFuzzer target: the MC146818A RTC on a fake clock that starts at any
 * wall time, driven through ports 0x70/0x71 (every width) by a program of
 * index and data writes, register reads, clock jumps and "interrupt
 * handler" reads of register C. After every step the harness checks:
 *   - no timer is armed while no interrupt is enabled, and none in the past
 *     (the fake clock has fired every one due);
 *   - the line is low while no interrupt is enabled;
 *   - while the clock counts, the time registers hold a real date and time
 *     in the current format (BCD digits 0-9, 12/24-hour hours);
 * and on every read of register C: the low nibble is 0, IRQF is set exactly
 * when an enabled source's flag is, the line was at IRQF's level before the
 * read (so no enabled event was missed) and is low after it.
 * No input may crash or hang it; unrealize leaves no timer armed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/irq.h"
#include "devices/timer/mc146818rtc.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/fake_clock.h"

#define ENABLES	(RTC_PIE | RTC_AIE | RTC_UIE)

static struct memory_region io_root;
static struct address_space *io_as;
static struct fake_clock fc;
static struct irq_line isa_irq[ISA_NUM_IRQS];
static bool irq8;
static uint8_t index_written;	/* what the program last put in 0x70 */

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	CHECK(n == RTC_ISA_IRQ);
	CHECK(level != irq8);
	irq8 = level;
}

static void on_wakeup(void *host, enum wakeup_source src)
{
	(void)host;
	CHECK(src == WAKEUP_RTC);
}

static void setup_once(void)
{
	if (io_as)
		return;
	memory_region_init_container(&io_root, "io", 0x10000);
	io_as = address_space_new("io", &io_root);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa_irq[i] = (struct irq_line){ .handler = on_irq, .n = i };
}

static uint8_t port_in(unsigned port)
{
	uint8_t v = 0;

	address_space_read(io_as, port, &v, 1);
	return v;
}

static void port_out(unsigned port, uint8_t v)
{
	address_space_write(io_as, port, &v, 1);
}

/* A register, as the harness reads it behind the program's back. */
static uint8_t peek(unsigned index)
{
	port_out(0x70, (uint8_t)index);
	return port_in(0x71);
}

static unsigned decode(uint8_t v, bool binary)
{
	if (binary)
		return v;
	CHECK((v >> 4) <= 9 && (v & 15) <= 9);
	return (v >> 4) * 10u + (v & 15u);
}

static unsigned days_in_month(unsigned year, unsigned mon)
{
	static const unsigned d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return d[mon - 1] + (mon == 2 && leap);
}

static void check_time(uint8_t a, uint8_t b)
{
	bool bin = b & RTC_DM_BINARY;
	unsigned hour, mon, year;
	uint8_t h;

	if ((b & RTC_SET) || (a & RTC_DIV_CTL) > RTC_REF_CLCK_32KHZ)
		return;			/* held: the guest's own bytes */
	CHECK(decode(peek(RTC_SECONDS), bin) < 60);
	CHECK(decode(peek(RTC_MINUTES), bin) < 60);
	h = peek(RTC_HOURS);
	if (b & RTC_24H) {
		CHECK(decode(h, bin) < 24);
	} else {
		hour = decode(h & 0x7f, bin);
		CHECK(hour >= 1 && hour <= 12);
	}
	hour = decode(peek(RTC_DAY_OF_WEEK), bin);
	CHECK(hour >= 1 && hour <= 7);
	mon = decode(peek(RTC_MONTH), bin);
	CHECK(mon >= 1 && mon <= 12);
	year = decode(peek(RTC_YEAR), bin);
	CHECK(year < 100);
	hour = decode(peek(RTC_CENTURY), bin);
	CHECK(hour < 100);
	year += hour * 100;
	hour = decode(peek(RTC_DAY_OF_MONTH), bin);
	CHECK(hour >= 1 && hour <= days_in_month(year, mon));
}

static void check_state(void)
{
	uint8_t a = peek(RTC_REG_A), b = peek(RTC_REG_B);

	if (!(b & ENABLES)) {
		CHECK(fc.timers == NULL);
		CHECK(!irq8);
	}
	for (struct clock_timer *t = fc.timers; t; t = t->next)
		CHECK(t->deadline_ns > fc.now);
	CHECK(peek(RTC_REG_D) == RTC_VRT);
	check_time(a, b);
	port_out(0x70, index_written);	/* as the program left it */
}

/* A read of register C, by the program or its interrupt handler. */
static uint8_t read_c(void)
{
	uint8_t b = peek(RTC_REG_B), c;
	bool level = irq8;

	c = peek(RTC_REG_C);
	CHECK(!(c & 0x0f));
	CHECK(!!(c & RTC_IRQF) == !!(c & b & ENABLES));
	CHECK(level == !!(c & RTC_IRQF));
	CHECK(!irq8);
	return c;
}

/* Mostly the clock's registers, sometimes NVRAM or any index. */
static unsigned take_index(struct input *in)
{
	unsigned v = (unsigned)take(in, 1);

	if (v < 0xc0)
		return v % (RTC_REG_D + 1);
	if (v < 0xe0)
		return v & 1 ? RTC_CENTURY : RTC_PS2_CENTURY;
	return v;
}

/* A jump of the clock: within a second, a few seconds, or minutes. */
static uint64_t take_jump(struct input *in)
{
	unsigned sel = (unsigned)take(in, 1);

	return take(in, sel % 3 == 0 ? 5 : sel % 3 == 1 ? 4 : 2);
}

static void wide_access(struct input *in)
{
	static const unsigned widths[3] = { 1, 2, 4 };
	unsigned s = (unsigned)take(in, 1);
	unsigned port = 0x70 + (s & 1), w = widths[(s >> 1) % 3];
	uint32_t v = (uint32_t)take(in, 4);
	bool write = s & 8;

	if (write && port == 0x70)
		index_written = (uint8_t)v;
	address_space_rw(io_as, port, &v, w, write, NULL);
}

static void run(struct input *in)
{
	for (unsigned ops = 0; in->left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(in, 1) % 8;
		unsigned i;

		switch (op) {
		case 0:		/* the index port */
			index_written = (uint8_t)take(in, 1);
			port_out(0x70, index_written);
			break;
		case 1:		/* the data port, at the program's index */
			port_out(0x71, (uint8_t)take(in, 1));
			break;
		case 2:
			if ((index_written & 0x7f) == RTC_REG_C)
				read_c();
			else
				port_in(0x71);
			break;
		case 3:		/* a register write */
			i = take_index(in);
			index_written = (uint8_t)i;
			port_out(0x70, index_written);
			port_out(0x71, (uint8_t)take(in, 1));
			break;
		case 4:		/* a register read */
			i = take_index(in);
			index_written = (uint8_t)i;
			if ((i & 0x7f) == RTC_REG_C)
				read_c();
			else
				peek(i);
			break;
		case 5:
			fake_clock_advance(&fc, take_jump(in));
			break;
		case 6:
			wide_access(in);
			break;
		default:	/* the guest's interrupt handler */
			if (irq8)
				read_c();
			break;
		}
		check_state();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	/* Any start within 136 years of 1970 (what ns since 1970 hold); the
	 * guest sets any year 0-9999 itself. */
	int64_t epoch = (int64_t)(take(&in, 5) % (1ull << 33)) - ((int64_t)1 << 32);
	uint64_t start = take(&in, 4);
	struct device_env env = {
		.io_space = &io_root, .clock = &fc.clock, .isa_irq = isa_irq,
		.wakeup = on_wakeup,
	};
	struct object *obj;
	struct error err;

	setup_once();
	fake_clock_init(&fc, start, epoch * 1000000000);
	irq8 = false;
	index_written = 0;
	obj = object_new(TYPE_MC146818_RTC);
	CHECK(obj && device_realize((struct device *)obj, &env, &err) == 0);
	rtc_set_cmos((struct device *)obj, 0x5f, 1);	/* as the board does */
	CHECK(peek(0x5f) == 1);
	check_state();
	run(&in);
	object_free(obj);
	CHECK(fc.timers == NULL);
	CHECK(io_root.subregions == NULL);
	return 0;
}
