/* libFuzzer target: the "isa-serial" 16550A at 0x3f8 driven through its
 * ports byte by byte, any width, as a guest does, with the fake clock
 * moved forward in between. No input thread (the run must be repeatable):
 * bytes are received through loopback. The harness keeps its own model of
 * IER, FCR, LCR.DLAB, MCR.LOOP and the RX FIFO's bytes, and checks:
 *   - every byte read from RBR is the oldest one the model holds (FIFO
 *     order; without FIFOs the last one written), DR says whether any is
 *     held, OE appears exactly when a byte found the FIFO full;
 *   - LSR always shows THRE and TEMT and never PE, FE, BI or bit 7;
 *   - IIR's FIFO bits follow FCR's enable bit, bits 4-5 are 0, and the
 *     source it reports is enabled and present (received data only at the
 *     trigger level, a timeout only below it with FIFOs on), and received
 *     data at the trigger level is never missed;
 *   - the IRQ 4 line is high exactly when IIR reports an interrupt, and
 *     moves only when its level changes;
 *   - at most the one timeout timer is armed, never in the past, and only
 *     while the FIFOs are on and hold bytes.
 * Accesses of 2 and 4 bytes are bytes in port order, as QEMU's UART takes
 * them. Unrealize leaves nothing mapped and no timer armed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/char/serial.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/unit/fake_clock.h"

#define BASE	0x3f8

struct model {
	uint8_t ier, fcr, lcr, mcr;
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned head, count;
	bool oe;
};

static struct fake_clock fc;
static struct memory_region io;
static struct address_space *io_as;
static struct irq_line isa[ISA_NUM_IRQS];
static struct device_env env;
static struct model m;
static bool irq4;

static void on_irq(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	CHECK(n == 4);
	CHECK(level != irq4);
	irq4 = level;
}

static void setup_once(void)
{
	if (io_as)
		return;
	memory_region_init_container(&io, "io", 0x10000);
	io_as = address_space_new("io", &io);
	for (unsigned i = 0; i < ISA_NUM_IRQS; i++)
		isa[i] = (struct irq_line){ .handler = on_irq, .n = i };
	env = (struct device_env){ .io_space = &io, .clock = &fc.clock, .isa_irq = isa };
}

static bool fifo_on(void)
{
	return m.fcr & 1;
}

static unsigned capacity(void)
{
	return fifo_on() ? SERIAL_FIFO_SIZE : 1;
}

static unsigned trigger(void)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };

	return fifo_on() ? level[m.fcr >> 6] : 1;
}

static void model_receive(uint8_t c)
{
	if (m.count == capacity()) {
		m.oe = true;
		if (!fifo_on())
			m.rx[m.head] = c;
		return;
	}
	m.rx[(m.head + m.count++) % SERIAL_FIFO_SIZE] = c;
}

static void model_write(unsigned reg, uint8_t v)
{
	bool dlab = m.lcr & 0x80;

	switch (reg) {
	case 0:
		if (!dlab && (m.mcr & 0x10))
			model_receive(v);
		break;
	case 1:
		if (!dlab)
			m.ier = v & 0x0f;
		break;
	case 2:
		if ((v ^ m.fcr) & 1)
			v |= 2;
		if (v & 2)
			m.count = 0;
		m.fcr = (v & 1) ? v & 0xc9 : 0;
		break;
	case 3:
		m.lcr = v;
		break;
	case 4:
		m.mcr = v & 0x1f;
		break;
	}
}

static void check_iir(uint8_t v, int level)
{
	uint8_t id = v & 0x0f;

	CHECK((v & 0xc0) == (fifo_on() ? 0xc0 : 0));
	CHECK(!(v & 0x30));
	CHECK(level < 0 || level == !(id & 1));
	switch (id) {
	case 0x01:
		CHECK(!((m.ier & 1) && m.count >= trigger()));
		break;
	case 0x06:
		CHECK(m.ier & 4);
		break;
	case 0x04:
		CHECK((m.ier & 1) && m.count >= trigger());
		break;
	case 0x0c:
		CHECK((m.ier & 1) && fifo_on() && m.count && m.count < trigger());
		break;
	case 0x02:
		CHECK(m.ier & 2);
		break;
	default:
		CHECK(id == 0x00 && (m.ier & 8));
		break;
	}
}

static void check_lsr(uint8_t v)
{
	CHECK((v & 0x60) == 0x60);
	CHECK(!(v & 0x9c));
	CHECK(!!(v & 1) == (m.count > 0));
	CHECK(!!(v & 2) == m.oe);
	m.oe = false;
}

/* @level_before: the line before this byte was read, -1 if unknown. */
static void model_read(unsigned reg, uint8_t v, int level_before)
{
	bool dlab = m.lcr & 0x80;

	switch (reg) {
	case 0:
		if (dlab || !m.count)
			break;
		CHECK(v == m.rx[m.head]);
		m.head = (m.head + 1) % SERIAL_FIFO_SIZE;
		m.count--;
		break;
	case 1:
		if (!dlab)
			CHECK(v == m.ier);
		break;
	case 2:
		check_iir(v, level_before);
		break;
	case 3:
		CHECK(v == m.lcr);
		break;
	case 4:
		CHECK(v == m.mcr);
		break;
	case 5:
		check_lsr(v);
		break;
	case 6:
		if (!(m.mcr & 0x10))
			CHECK((v & 0xf0) == 0xb0);
		break;
	}
}

/* One access of @size at @port. The part of it that falls on the UART is
 * one access of its own, taken as bytes when its size is 1, 2 or 4 and
 * refused otherwise (the memory core's rules). */
static void port_access(unsigned port, unsigned size, bool write, uint64_t value)
{
	unsigned lo = port > BASE ? port : BASE;
	unsigned hi = port + size < BASE + 8 ? port + size : BASE + 8;
	bool taken = hi > lo && (hi - lo == 1 || hi - lo == 2 || hi - lo == 4);
	bool level = irq4;
	uint8_t b[4];

	for (unsigned i = 0; i < size; i++)
		b[i] = (uint8_t)(value >> (8 * i));
	address_space_rw(io_as, port, b, size, write, NULL);
	for (unsigned p = lo; taken && p < hi; p++) {
		if (write)
			model_write(p - BASE, b[p - port]);
		else	/* the level is known before the first byte only */
			model_read(p - BASE, b[p - port], p == lo ? level : -1);
	}
}

static void check_timer(void)
{
	if (!fc.timers)
		return;
	CHECK(!fc.timers->next);
	CHECK(fc.timers->deadline_ns > fc.now);
	CHECK(fifo_on() && m.count);
}

/* --stats works at any point (and links the device in: its type registers
 * itself from a constructor, which the linker keeps only with a caller). */
static void check_stats(struct device *uart)
{
	char buf[128] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	CHECK(f);
	serial_print_stats(uart, f);
	fclose(f);
	CHECK(!strncmp(buf, "serial 0x3f8: 0 bytes in, ", 26));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[4] = { 1, 2, 4, 3 };
	struct input in = { data, size };
	struct object *root;
	struct device *uart;

	setup_once();
	fake_clock_init(&fc, take(&in, 4) << 16, 0);
	m = (struct model){ 0 };
	irq4 = false;
	root = object_new(TYPE_CONTAINER);
	uart = (struct device *)object_new(TYPE_ISA_SERIAL);
	CHECK(uart && !object_property_set(&uart->parent_obj, "path", "none", NULL));
	CHECK(device_realize(uart, &env, NULL) == 0);
	object_add_child(root, "serial", &uart->parent_obj);

	for (unsigned ops = 0; in.left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(&in, 1), a;

		switch (op & 3) {
		case 0:		/* any width, straddling the registers' edges */
			a = (unsigned)take(&in, 1);
			port_access(BASE - 1 + (a & 15), sizes[a >> 4 & 3],
				    a >> 6 & 1, take(&in, 4));
			break;
		case 1:
		case 2:		/* the common case: one register */
			port_access(BASE + (op >> 2 & 7), 1, op >> 5 & 1,
				    take(&in, 1));
			break;
		default:	/* up to ~1 s, often a fraction of a character */
			fake_clock_advance(&fc, take(&in, 2) << (op >> 2 & 15));
			break;
		}
		check_timer();
	}

	check_stats(uart);
	object_free(root);
	CHECK(!io.subregions && !fc.timers);
	return 0;
}
