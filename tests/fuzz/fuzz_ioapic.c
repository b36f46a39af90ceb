/* libFuzzer target: the I/O APIC on a 2-CPU APIC bus. The input is a
 * sequence of guest MMIO accesses to its page (any offset and width,
 * mostly IOREGSEL/IOWIN), register writes, pin levels and pulses, vCPUs
 * taking and EOIing what they got (the LAPIC's EOI reaches ioapic_eoi as
 * the board wires it), direct EOI broadcasts and LAPIC enables and TPRs.
 * After every operation the harness checks, through MMIO (restoring
 * IOREGSEL after):
 *   - version 0x00170011; ID only in bits 27:24; arbitration = ID;
 *   - every entry's delivery status reads 0; remote IRR only on entries
 *     whose trigger mode is level;
 *   - no message from a masked entry: a pin change sends only if that
 *     entry was unmasked; a register write only from the entry written,
 *     if now unmasked and level; an EOI only from unmasked level entries
 *     of that vector that had remote IRR set; anything else sends nothing;
 *   - one message per entry per event: at most NCPUS targets each.
 * A hang (a storm looping inside the model) is a libFuzzer timeout. */
#include <stdint.h>
#include <stdlib.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/intc/ioapic.h"
#include "devices/intc/lapic.h"
#include "memory/address_space.h"
#include "memory/region.h"
#include "tests/fuzz/fuzz_input.h"

#define NCPUS	2
#define BASE	IOAPIC_DEFAULT_BASE
#define NO_PIN	(-1)

static struct device *io;
static unsigned msgs;		/* messages that reached a LAPIC this op */
static int eoi_vector;		/* the vector a LAPIC EOIed this op, or -1 */

static void notify(void *o, unsigned cpu) { (void)o; (void)cpu; }
static uint64_t now_ns(void *o) { (void)o; return 0; }
static void timer_arm(void *o, unsigned cpu, uint64_t d) { (void)o; (void)cpu; (void)d; }

static void eoi_level(void *o, unsigned cpu, unsigned vector)
{
	(void)o; (void)cpu;
	CHECK(eoi_vector < 0);		/* one EOI per operation */
	eoi_vector = (int)vector;
	ioapic_eoi(io, vector);
}

static void trace(void *o, int src, unsigned dst, unsigned mode, unsigned vec)
{
	(void)o; (void)mode; (void)vec;
	CHECK(src == APIC_SRC_IOAPIC && dst < NCPUS);
	msgs++;
}

static const struct apic_host_ops ops = {
	.notify = notify, .now_ns = now_ns, .timer_arm = timer_arm,
	.eoi_level = eoi_level, .trace_ipi = trace,
};

static struct memory_region sysmem;
static struct address_space *as;

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	address_space_read(as, BASE + off, &v, 4);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	address_space_write(as, BASE + off, &v, 4);
}

/* The state the checks see: IOREGSEL and every entry. */
struct snapshot {
	uint32_t sel;
	uint64_t rte[IOAPIC_NUM_PINS];
};

static void check_and_snapshot(struct snapshot *s)
{
	uint32_t id;

	s->sel = rd(IOAPIC_IOREGSEL);
	CHECK(s->sel <= 0xff);
	wr(IOAPIC_IOREGSEL, IOAPIC_REG_VER);
	CHECK(rd(IOAPIC_IOWIN) == 0x00170011);
	wr(IOAPIC_IOREGSEL, IOAPIC_REG_ID);
	id = rd(IOAPIC_IOWIN);
	CHECK((id & ~0x0f000000u) == 0);
	wr(IOAPIC_IOREGSEL, IOAPIC_REG_ARB);
	CHECK(rd(IOAPIC_IOWIN) == id);
	for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++) {
		uint64_t e;

		wr(IOAPIC_IOREGSEL, IOAPIC_REG_REDTBL + 2 * p);
		e = rd(IOAPIC_IOWIN);
		wr(IOAPIC_IOREGSEL, IOAPIC_REG_REDTBL + 2 * p + 1);
		e |= (uint64_t)rd(IOAPIC_IOWIN) << 32;
		CHECK(!(e & IOAPIC_RTE_DELIVS));
		CHECK(!(e & IOAPIC_RTE_REMOTE_IRR) || (e & IOAPIC_RTE_LEVEL));
		s->rte[p] = e;
	}
	wr(IOAPIC_IOREGSEL, s->sel);
}

static bool sends_as_level(uint64_t e)
{
	unsigned mode = (e >> IOAPIC_RTE_MODE_SHIFT) & 7;

	return (e & IOAPIC_RTE_LEVEL) && !(e & IOAPIC_RTE_MASKED) &&
	       (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST);
}

/* Entries an EOI of @vector may send from: level, unmasked, awaiting it. */
static unsigned eoi_candidates(const struct snapshot *before, int vector)
{
	unsigned n = 0;

	for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++) {
		uint64_t e = before->rte[p];

		if ((int)(e & IOAPIC_RTE_VECTOR) == vector && sends_as_level(e) &&
		    (e & IOAPIC_RTE_REMOTE_IRR))
			n++;
	}
	return n;
}

/* The entry a write at @off hits, given IOREGSEL @sel, or NO_PIN. */
static int written_pin(uint64_t off, uint32_t sel)
{
	if (off != IOAPIC_IOWIN || sel < IOAPIC_REG_REDTBL ||
	    sel >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS)
		return NO_PIN;
	return (int)(sel - IOAPIC_REG_REDTBL) / 2;
}

static unsigned width(unsigned sel)
{
	static const unsigned w[4] = { 4, 1, 2, 8 };

	return w[sel & 3];
}

/* Mostly the two registers, sometimes anywhere in the page. */
static uint64_t take_offset(struct input *in)
{
	unsigned s = (unsigned)take(in, 1);

	if (s & 0x80)
		return take(in, 2) & 0xfff;
	return s & 1 ? IOAPIC_IOWIN : IOAPIC_IOREGSEL;
}

/* Mostly a real register, sometimes any index. */
static uint32_t take_index(struct input *in)
{
	unsigned s = (unsigned)take(in, 1);

	if (s & 0x80)
		return (uint32_t)take(in, 1);
	return s % 4 == 0 ? s / 4 % 3 : IOAPIC_REG_REDTBL + s % 48;
}

/* One operation; returns how many messages it may send (targets each). */
static unsigned run_op(struct input *in, struct apic_bus *bus,
		       const struct snapshot *before, struct snapshot *after)
{
	unsigned op = (unsigned)take(in, 1), s;
	struct lapic *l = apic_bus_cpu(bus, op >> 4 & 1);
	uint64_t off, v = 0;
	int pin, vec;

	switch (op % 8) {
	case 0:		/* a guest write, any offset and width */
		s = (unsigned)take(in, 1);
		off = take_offset(in);
		v = take(in, width(s));
		address_space_write(as, BASE + off, &v, width(s));
		check_and_snapshot(after);
		pin = written_pin(off, before->sel);
		return pin != NO_PIN && sends_as_level(after->rte[pin]);
	case 1:		/* a guest read */
		s = (unsigned)take(in, 1);
		off = take_offset(in);
		address_space_read(as, BASE + off, &v, width(s));
		return 0;
	case 2:		/* select and write a register, as a driver does */
		wr(IOAPIC_IOREGSEL, take_index(in));
		wr(IOAPIC_IOWIN, (uint32_t)take(in, 4));
		check_and_snapshot(after);
		pin = written_pin(IOAPIC_IOWIN, after->sel);
		return pin != NO_PIN && sends_as_level(after->rte[pin]);
	case 3:		/* a pin's level */
	case 4:		/* a pulse */
		s = (unsigned)take(in, 1);
		pin = (int)(s % IOAPIC_NUM_PINS);
		if (op % 8 == 3)
			irq_set_level(&ioapic_inputs(io)[pin], s & 0x80);
		else
			irq_pulse(&ioapic_inputs(io)[pin]);
		return !(before->rte[pin] & IOAPIC_RTE_MASKED);
	case 5:		/* a vCPU takes its interrupt, maybe EOIs */
		s = (unsigned)take(in, 1);
		vec = lapic_pending_vector(l);
		CHECK(vec < 256);
		if (vec >= 0)
			lapic_accept(l, vec);
		if (s & 1)
			lapic_mmio_write(l, LAPIC_EOI, 0, 4);
		return eoi_vector < 0 ? 0 : eoi_candidates(before, eoi_vector);
	case 6:		/* an EOI broadcast of any vector */
		vec = (int)take(in, 1);
		ioapic_eoi(io, (unsigned)vec);
		return eoi_candidates(before, vec);
	default:	/* a LAPIC enabled or not, its TPR */
		s = (unsigned)take(in, 1);
		lapic_mmio_write(l, LAPIC_SVR, s & 1 ? 0x1ff : 0xff, 4);
		lapic_mmio_write(l, LAPIC_TPR, s & 0xf0, 4);
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct apic_bus *bus = apic_bus_new(NCPUS, 0, &ops, NULL);
	struct object *obj = object_new(TYPE_IOAPIC);
	struct device_env env;
	struct error e = { "" };
	struct snapshot before, after;

	CHECK(bus && obj);
	if (!as) {
		memory_region_init_container(&sysmem, "system", UINT64_MAX);
		as = address_space_new("system", &sysmem);
	}
	env = (struct device_env){ .system_memory = &sysmem, .apic_bus = bus };
	io = (struct device *)obj;
	CHECK(device_realize(io, &env, &e) == 0);
	for (unsigned c = 0; c < NCPUS; c++) {
		lapic_mmio_write(apic_bus_cpu(bus, c), LAPIC_SVR, 0x1ff, 4);
		lapic_mmio_write(apic_bus_cpu(bus, c), LAPIC_LDR, 1u << (24 + c), 4);
	}

	check_and_snapshot(&before);
	for (unsigned ops_done = 0; in.left && ops_done < 2048; ops_done++) {
		unsigned may;

		msgs = 0;
		eoi_vector = -1;
		after = before;
		may = run_op(&in, bus, &before, &after);
		CHECK(msgs <= NCPUS * may);
		check_and_snapshot(&before);
	}

	object_free(obj);
	CHECK(sysmem.subregions == NULL);
	apic_bus_free(bus);
	return 0;
}
