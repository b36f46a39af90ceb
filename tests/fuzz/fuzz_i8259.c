/* libFuzzer target: the dual 8259A driven by a sequence of port accesses
 * (raw and shaped into ICW/OCW sequences), input line changes, INTAs and
 * poll reads. The model's source is included, so the harness sees its
 * state (the library's copy is then never linked in). After every step:
 *   - fields in range (vector base, rotation, ELCR only where PIIX lets);
 *   - each pin is what the harness last drove; the master's IR2 pin is
 *     the slave's INT; a write never adds a request or an ISR bit;
 *   - the master's INT, by a separate priority walk written here, is
 *     "an unmasked request above everything that counts as in service",
 *     and the output line was told exactly its changes;
 *   - an INTA or a poll takes only an unmasked, requested IR of highest
 *     priority, sets its ISR bit unless auto-EOI and consumes an edge;
 *     with nothing to take it is the chip's IR7 vector (or poll byte 0)
 *     and sets nothing, except the master's IR2 on a spurious IRQ 15;
 *   - IRR/ISR/IMR reads return the registers.
 * The device is freed after each input; LeakSanitizer checks the rest. */
#include <stdint.h>
#include <string.h>

#include "devices/intc/i8259.c"
#include "devices/error.h"
#include "memory/address_space.h"
#include "tests/fuzz/fuzz_input.h"

static struct memory_region io_root;
static struct address_space *io_as;
static bool told, told_any;	/* what the output line heard last */
static uint16_t pins;		/* what the harness drove */

static void record(void *opaque, unsigned n, bool level)
{
	(void)opaque; (void)n;
	CHECK(!told_any || told != level);	/* only changes */
	told = level;
	told_any = true;
}

/* The IR an INTA takes, walking priority levels from the top: the first
 * level in service (as it counts) stops the walk, an unmasked request
 * before it wins. */
static int ref_pending(const struct pic_chip *c)
{
	uint8_t lvl = c->ltim ? 0xff : c->elcr;
	uint8_t irr = (uint8_t)((c->lines & lvl) | (c->edges & ~lvl));

	for (unsigned k = 0; k < 8; k++) {
		unsigned ir = (c->highest + k) % 8;
		bool masked = c->imr >> ir & 1;
		bool busy = c->isr >> ir & 1;

		if (c->special_mask && masked)
			busy = false;
		if (c->sfnm && c == &c->pic->chip[MASTER] && ir == 2)
			busy = false;
		if (busy)
			return -1;
		if (!masked && (irr >> ir & 1))
			return (int)ir;
	}
	return -1;
}

static void check_chip(const struct pic_chip *c, unsigned n)
{
	CHECK((c->vector_base & 7) == 0);
	CHECK(c->highest < 8);
	CHECK(!(c->elcr & ~c->elcr_mask));
	CHECK(c->init <= INIT_ICW4);
	CHECK(chip_pending(c) == ref_pending(c));
	for (unsigned ir = 0; ir < 8; ir++)
		if (n * 8 + ir != I8259_CASCADE_IRQ)
			CHECK((c->lines >> ir & 1) == (pins >> (n * 8 + ir) & 1));
}

static void check_state(struct i8259 *p)
{
	check_chip(&p->chip[MASTER], 0);
	check_chip(&p->chip[SLAVE], 1);
	CHECK(p->chip[MASTER].elcr_mask == 0xf8 && p->chip[SLAVE].elcr_mask == 0xde);
	CHECK((p->chip[MASTER].lines >> 2 & 1) == (ref_pending(&p->chip[SLAVE]) >= 0));
	CHECK(p->out == (ref_pending(&p->chip[MASTER]) >= 0));
	CHECK(p->out == (told_any && told));
	CHECK(i8259_output(&p->parent_obj) == p->out);
}

struct snap {
	uint8_t irr, isr, imr, edges;
};

static struct snap snap(const struct pic_chip *c)
{
	return (struct snap){ chip_irr(c), c->isr, c->imr, c->edges };
}

/* @c took @ir (or nothing, -1) by INTA or poll; @b is before. */
static void check_took(const struct pic_chip *c, struct snap b, int ir)
{
	if (ir < 0) {
		CHECK(c->isr == b.isr);
		return;
	}
	CHECK(!(b.imr >> ir & 1) && (b.irr >> ir & 1));
	CHECK(!(c->edges >> ir & 1));
	CHECK(c->isr == (c->aeoi ? b.isr : (b.isr | 1u << ir)));
}

static void do_intack(struct i8259 *p)
{
	struct pic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
	struct snap bm = snap(m), bs = snap(s);
	int mir = ref_pending(m), sir = mir == 2 ? ref_pending(s) : -1;
	uint8_t mbase = m->vector_base, sbase = s->vector_base;
	int v = i8259_intack(&p->parent_obj);

	CHECK(v >= 0 && v <= 255);
	check_took(m, bm, mir);
	if (mir < 0) {
		CHECK(v == (mbase | 7));
		CHECK(s->isr == bs.isr);
	} else if (mir == 2) {
		check_took(s, bs, sir);
		CHECK(v == (sbase | (sir < 0 ? 7 : sir)));
	} else {
		CHECK(v == (mbase | mir));
		CHECK(s->isr == bs.isr);
	}
}

static const uint16_t ports[8] = {
	0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x22, 0x4cf,
};

/* A read of @port: a poll answers it, else the register it names. */
static void do_read(struct i8259 *p, unsigned sel)
{
	uint16_t port = ports[sel & 7];
	unsigned width = sel & 8 ? 2 : 1;
	/* A word read at 0x20 reads 0x20, then 0x21; one at 0x21 is
	 * misaligned and reaches nothing. */
	bool reaches = port < 0x100 && !(port & 2) && !(width == 2 && (port & 1));
	struct pic_chip *c = &p->chip[port >> 7 & 1];
	struct snap b = snap(c);
	bool poll = c->poll;
	int ir = ref_pending(c);
	uint16_t v = 0;

	address_space_read(io_as, port, &v, width);
	if (!reaches)
		return;
	if (poll) {
		CHECK(!c->poll);
		check_took(c, b, ir);
		CHECK((v & 0xff) == (ir < 0 ? 0 : (0x80u | (unsigned)ir)));
	} else if (port & 1) {
		CHECK((v & 0xff) == b.imr);
	} else {
		CHECK((v & 0xff) == (c->read_isr ? b.isr : b.irr));
	}
}

static void do_write(struct i8259 *p, uint16_t port, uint16_t v, unsigned width)
{
	struct snap b[2] = { snap(&p->chip[0]), snap(&p->chip[1]) };

	address_space_write(io_as, port, &v, width);
	/* Only the slave's INT may rise (an EOI or unmask on the slave)
	 * and latch an edge on the master's IR2. */
	for (int i = 0; i < 2; i++) {
		CHECK(!(p->chip[i].isr & ~b[i].isr));
		CHECK(!(p->chip[i].edges & ~b[i].edges & ~(i == MASTER ? 4 : 0)));
	}
}

static void set_pin(struct i8259 *p, unsigned n, bool level)
{
	if (n != I8259_CASCADE_IRQ)
		pins = (uint16_t)(level ? pins | 1u << n : pins & ~(1u << n));
	irq_set_level(&i8259_inputs(&p->parent_obj)[n], level);
}

/* ICW1..ICW4 as a driver sends them, with fuzzed fields. */
static void do_init(struct i8259 *p, struct input *in)
{
	unsigned f = (unsigned)take(in, 1);
	uint16_t cmd = f & 1 ? 0xa0 : 0x20;

	do_write(p, cmd, (uint16_t)(0x10 | (f >> 1 & 0x0f)), 1);
	do_write(p, cmd + 1, (uint16_t)take(in, 1), 1);
	if (!(f & 4))
		do_write(p, cmd + 1, cmd == 0x20 ? 0x04 : 0x02, 1);
	if (f & 2)
		do_write(p, cmd + 1, (uint16_t)(take(in, 1) & 0x1f), 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct device_env env;
	struct error e;
	struct i8259 *p;

	if (!io_as) {
		memory_region_init_container(&io_root, "io", 0x10000);
		io_as = address_space_new("io", &io_root);
	}
	env = (struct device_env){ .io_space = &io_root };
	p = (struct i8259 *)object_new(TYPE_I8259);
	CHECK(p && device_realize(&p->parent_obj, &env, &e) == 0);
	told_any = false;
	pins = 0;
	i8259_connect_output(&p->parent_obj, (struct irq_line){ record, NULL, 0 });
	check_state(p);

	for (unsigned ops = 0; in.left && ops < 4096; ops++) {
		unsigned op = (unsigned)take(&in, 1);
		unsigned a = (unsigned)take(&in, 1);

		switch (op % 9) {
		case 0:		/* any write */
			do_write(p, ports[a & 7], (uint16_t)take(&in, a & 8 ? 2 : 1),
				 a & 8 ? 2 : 1);
			break;
		case 1:
			do_read(p, a);
			break;
		case 2:
			set_pin(p, a & 15, a & 16);
			break;
		case 3:
			set_pin(p, a & 15, true);
			set_pin(p, a & 15, false);
			break;
		case 4:
			do_intack(p);
			break;
		case 5:		/* OCW2 */
			do_write(p, a & 1 ? 0xa0 : 0x20, (uint16_t)(take(&in, 1) & 0xe7), 1);
			break;
		case 6:		/* OCW3 */
			do_write(p, a & 1 ? 0xa0 : 0x20,
				 (uint16_t)((take(&in, 1) & 0x67) | 0x08), 1);
			break;
		case 7:
			do_init(p, &in);
			break;
		default:	/* IMR or ELCR */
			do_write(p, (uint16_t)(a & 1 ? (a & 2 ? 0xa1 : 0x21) :
					       (a & 2 ? 0x4d1 : 0x4d0)),
				 (uint16_t)take(&in, 1), 1);
			break;
		}
		check_state(p);
	}

	object_free(&p->parent_obj.parent_obj);
	CHECK(io_root.subregions == NULL);
	return 0;
}
