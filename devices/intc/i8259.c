/* The dual 8259A: Intel's 8259A datasheet, OSDev's "8259 PIC", the PIIX4
 * datasheet for the ELCR. Where QEMU's pc shows a guest something other
 * than the datasheet, this does what QEMU does, and says so ("QEMU:").
 *
 * Priority is a rotation of the eight IRs: `highest` is the IR with the
 * highest priority, the next IR up the next one, IR (highest - 1) the
 * lowest. Fixed priority is highest = 0 (IR0 first, IR7 last). */
#include "devices/intc/i8259.h"

#include <pthread.h>
#include <stdint.h>

#include "devices/device.h"
#include "memory/region.h"

/* Command port (A0 = 0) writes: ICW1 has bit 4 set, OCW3 bit 3, OCW2
 * neither. */
#define ICW1		0x10
#define ICW1_IC4	0x01	/* ICW4 follows */
#define ICW1_SNGL	0x02	/* no slaves: no ICW3 */
#define ICW1_LTIM	0x08	/* every input level-triggered */
#define OCW3		0x08
#define OCW3_RIS	0x01	/* read the ISR (else the IRR)... */
#define OCW3_RR		0x02	/* ...if this is set */
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20	/* special mask mode on (else off)... */
#define OCW3_ESMM	0x40	/* ...if this is set */
#define ICW4_AEOI	0x02
#define ICW4_SFNM	0x10
#define POLL_INT	0x80	/* poll byte: a request was there */

/* OCW2 bits 7:5 (R, SL, EOI); SL commands act on the IR in bits 2:0. */
enum ocw2_cmd {
	OCW2_ROTATE_AEOI_CLEAR,
	OCW2_EOI,
	OCW2_NOP,
	OCW2_SPECIFIC_EOI,
	OCW2_ROTATE_AEOI_SET,
	OCW2_ROTATE_EOI,
	OCW2_SET_PRIORITY,
	OCW2_ROTATE_SPECIFIC_EOI,
};

/* What the next data port write is. */
enum init_step { INIT_DONE, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

#define NO_IRQ		(-1)
#define SPURIOUS_IR	7	/* the IR whose vector a chip gives with no request */
#define MASTER		0
#define SLAVE		1

struct i8259;

struct pic_chip {
	struct i8259 *pic;
	struct memory_region io;
	uint8_t lines;		/* the IR pins' levels */
	uint8_t edges;		/* rising edges latched and not acknowledged */
	uint8_t imr, isr;
	uint8_t elcr, elcr_mask;	/* PIIX: inputs triggered by level */
	uint8_t cascade;	/* the IR a slave drives (master: IR2) */
	uint8_t vector_base;	/* ICW2 bits 7:3 */
	uint8_t highest;	/* the IR with the highest priority */
	enum init_step init;
	bool icw4, single, ltim;
	bool aeoi, rotate_aeoi, sfnm, special_mask;
	bool read_isr, poll;
};

struct i8259 {
	struct device parent_obj;
	struct memory_region elcr_io;
	pthread_mutex_t lock;	/* everything below */
	struct pic_chip chip[2];
	struct irq_line inputs[ISA_NUM_IRQS];
	struct irq_line output;
	bool out;		/* the master's INT, as the output line has it */
	bool cascade_input_logged;
	uint64_t raised[ISA_NUM_IRQS], acked[ISA_NUM_IRQS], spurious[2];
};

static uint8_t chip_level_triggered(const struct pic_chip *c)
{
	return c->ltim ? 0xff : c->elcr;
}

/* A level-triggered request is the pin itself; an edge-triggered one is
 * the latched rising edge. The datasheet wants an edge-triggered pin held
 * high until INTA (else the INTA gets IR7); QEMU keeps the latched edge
 * until INTA, which devices that pulse their line rely on. */
static uint8_t chip_irr(const struct pic_chip *c)
{
	uint8_t level = chip_level_triggered(c);

	return (c->lines & level) | (c->edges & ~level);
}

/* The IR of highest priority in @mask, or NO_IRQ. */
static int chip_first(const struct pic_chip *c, uint8_t mask)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned ir = (c->highest + i) & 7;

		if (mask & (1u << ir))
			return (int)ir;
	}
	return NO_IRQ;
}

/* 0 (highest) to 7; 8 for NO_IRQ, below everything. */
static unsigned chip_priority(const struct pic_chip *c, int ir)
{
	return ir == NO_IRQ ? 8 : ((unsigned)ir - c->highest) & 7;
}

/* The IR an INTA would take now: the unmasked request of highest priority,
 * if it is above every level in service; else NO_IRQ. */
static int chip_pending(const struct pic_chip *c)
{
	int req = chip_first(c, chip_irr(c) & ~c->imr);
	uint8_t blocking = c->isr;

	/* Special mask mode: a masked level in service blocks nothing. */
	if (c->special_mask)
		blocking &= ~c->imr;
	/* Special fully nested mode (master): IR2 in service does not block
	 * IR2, so a higher request on the slave nests; the slave itself
	 * weighs it against its own levels in service. */
	if (c->sfnm)
		blocking &= ~c->cascade;
	if (chip_priority(c, req) < chip_priority(c, chip_first(c, blocking)))
		return req;
	return NO_IRQ;
}

/* Sets IR @ir's pin; true on a rising edge. */
static bool chip_set_input(struct pic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);
	bool rising = level && !(c->lines & bit);

	if (rising)
		c->edges |= bit;
	c->lines = level ? c->lines | bit : c->lines & ~bit;
	return rising;
}

/* INTA (or a poll read) takes @ir: in service unless auto-EOI, edge
 * request consumed. */
static void chip_ack(struct pic_chip *c, int ir)
{
	if (!c->aeoi)
		c->isr |= (uint8_t)(1u << ir);
	else if (c->rotate_aeoi)
		c->highest = (uint8_t)((ir + 1) & 7);
	c->edges &= (uint8_t)~(1u << ir);
}

/* One chip's part of INTA: the IR it answers for, acknowledged; NO_IRQ
 * when the request went away (the chip then gives its IR7 vector). */
static int chip_intack(struct pic_chip *c)
{
	int ir = chip_pending(c);

	if (ir != NO_IRQ)
		chip_ack(c, ir);
	return ir;
}

static void chip_eoi(struct pic_chip *c, int ir, bool rotate)
{
	if (ir == NO_IRQ)
		return;
	c->isr &= (uint8_t)~(1u << ir);
	if (rotate)
		c->highest = (uint8_t)((ir + 1) & 7);
}

/* ICW1 starts the initialization over. The datasheet: IMR cleared, IR7
 * lowest priority, special mask mode off, IRR selected for reads, ICW4's
 * modes off unless ICW4 follows, and the edge sense reset (a pin that is
 * high must go low and high again to request; QEMU forgets the levels
 * instead, so there a pin driven high again requests at once). QEMU: the
 * ISR, the vector base, a pending poll and rotation in AEOI mode are
 * cleared as well. */
static void chip_icw1(struct pic_chip *c, uint8_t v)
{
	c->edges = 0;
	c->imr = 0;
	c->isr = 0;
	c->vector_base = 0;
	c->highest = 0;
	c->aeoi = c->rotate_aeoi = c->sfnm = false;
	c->special_mask = c->read_isr = c->poll = false;
	/* Older QEMU ignores LTIM (logged as unimplemented); newer honours
	 * it, as here. */
	c->ltim = v & ICW1_LTIM;
	/* ADI (bit 2) and A7-A5 (bits 7:5) only shape 8080-mode CALLs. */
	c->icw4 = v & ICW1_IC4;
	c->single = v & ICW1_SNGL;
	c->init = INIT_ICW2;
}

static void chip_ocw2(struct pic_chip *c, uint8_t v)
{
	int level = v & 7;

	switch ((enum ocw2_cmd)(v >> 5)) {
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_aeoi = false;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = true;
		break;
	/* The datasheet: in special mask mode a non-specific EOI leaves
	 * masked levels in service alone. QEMU: it ends the highest level in
	 * service, masked or not. */
	case OCW2_EOI:
		chip_eoi(c, chip_first(c, c->isr), false);
		break;
	case OCW2_ROTATE_EOI:
		chip_eoi(c, chip_first(c, c->isr), true);
		break;
	case OCW2_SPECIFIC_EOI:
		chip_eoi(c, level, false);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		chip_eoi(c, level, true);
		break;
	case OCW2_SET_PRIORITY:		/* @level becomes the lowest */
		c->highest = (uint8_t)((level + 1) & 7);
		break;
	case OCW2_NOP:
		break;
	}
}

static void chip_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & OCW3_POLL)
		c->poll = true;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
}

static void chip_write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init) {
	case INIT_DONE:
		c->imr = v;
		break;
	case INIT_ICW2:
		c->vector_base = v & 0xf8;
		c->init = !c->single ? INIT_ICW3 : c->icw4 ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW3:
		/* The cascade is the board's wiring (slave on IR2); QEMU
		 * ignores ICW3 and single mode for it too. */
		c->init = c->icw4 ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW4:
		/* µPM 0 (8080 mode: a CALL at INTA) exists on no PC and QEMU
		 * ignores it: vectors are always x86 ones. BUF and M/S only
		 * steer bus buffers. */
		c->aeoi = v & ICW4_AEOI;
		c->sfnm = v & ICW4_SFNM;
		c->init = INIT_DONE;
		break;
	}
}

static void chip_write(struct pic_chip *c, bool data_port, uint8_t v)
{
	if (data_port)
		chip_write_data(c, v);
	else if (v & ICW1)
		chip_icw1(c, v);
	else if (v & OCW3)
		chip_ocw3(c, v);
	else
		chip_ocw2(c, v);
}

/* The poll command makes the next read of either port an INTA without the
 * vector: the highest request's IR with bit 7 set. With none, bit 7 is
 * clear; the datasheet leaves bits 2:0 undefined, QEMU reads 0. */
static uint8_t chip_poll(struct pic_chip *c)
{
	int ir = chip_intack(c);

	c->poll = false;
	return ir == NO_IRQ ? 0 : (uint8_t)(POLL_INT | ir);
}

static uint8_t chip_read(struct pic_chip *c, bool data_port)
{
	if (c->poll)
		return chip_poll(c);
	if (data_port)
		return c->imr;
	return c->read_isr ? c->isr : chip_irr(c);
}

/* ISA IRQ @irq's pin is at @level now. */
static void pic_set_line(struct i8259 *p, unsigned irq, bool level)
{
	if (chip_set_input(&p->chip[irq / 8], irq % 8, level))
		p->raised[irq]++;
}

/* After any change: the slave's INT is the master's IR2 pin; the master's
 * INT goes to the output line, told only of changes. */
static void pic_update(struct i8259 *p)
{
	bool out;

	pic_set_line(p, I8259_CASCADE_IRQ, chip_pending(&p->chip[SLAVE]) != NO_IRQ);
	out = chip_pending(&p->chip[MASTER]) != NO_IRQ;
	if (out != p->out) {
		p->out = out;
		irq_set_level(&p->output, out);
	}
}

static void pic_input(void *opaque, unsigned n, bool level)
{
	struct i8259 *p = opaque;

	pthread_mutex_lock(&p->lock);
	if (n == I8259_CASCADE_IRQ) {
		if (!p->cascade_input_logged)
			fprintf(stderr, "tinyvmm: i8259: IRQ 2 is the cascade, "
				"a device drove it: ignored (logged once)\n");
		p->cascade_input_logged = true;
	} else {
		pic_set_line(p, n, level);
		pic_update(p);
	}
	pthread_mutex_unlock(&p->lock);
}

static uint64_t pic_port_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pic_chip *c = opaque;
	uint8_t v;

	(void)size;
	pthread_mutex_lock(&c->pic->lock);
	v = chip_read(c, offset);
	pic_update(c->pic);
	pthread_mutex_unlock(&c->pic->lock);
	return v;
}

static void pic_port_write(void *opaque, uint64_t offset, uint64_t value,
			   unsigned size)
{
	struct pic_chip *c = opaque;

	(void)size;
	pthread_mutex_lock(&c->pic->lock);
	chip_write(c, offset, (uint8_t)value);
	pic_update(c->pic);
	pthread_mutex_unlock(&c->pic->lock);
}

/* QEMU splits a word access into byte ones: outw 0x20 writes 0x20, then
 * 0x21. */
static const struct memory_region_ops pic_port_ops = {
	.read = pic_port_read,
	.write = pic_port_write,
	.valid = { .min = 1, .max = 2 },
	.impl = { .min = 1, .max = 1 },
};

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8259 *p = opaque;
	uint8_t v;

	(void)size;
	pthread_mutex_lock(&p->lock);
	v = p->chip[offset & 1].elcr;
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void elcr_write(void *opaque, uint64_t offset, uint64_t value,
		       unsigned size)
{
	struct i8259 *p = opaque;
	struct pic_chip *c = &p->chip[offset & 1];

	(void)size;
	pthread_mutex_lock(&p->lock);
	c->elcr = (uint8_t)value & c->elcr_mask;
	pic_update(p);		/* a level input's request is its pin now */
	pthread_mutex_unlock(&p->lock);
}

static const struct memory_region_ops elcr_ops = {
	.read = elcr_read,
	.write = elcr_write,
	.valid = { .min = 1, .max = 2 },
	.impl = { .min = 1, .max = 1 },
};

const struct irq_line *i8259_inputs(struct device *dev)
{
	return ((struct i8259 *)dev)->inputs;
}

void i8259_connect_output(struct device *dev, struct irq_line out)
{
	struct i8259 *p = (struct i8259 *)dev;

	pthread_mutex_lock(&p->lock);
	p->output = out;
	if (p->out)
		irq_raise(&p->output);
	pthread_mutex_unlock(&p->lock);
}

bool i8259_output(struct device *dev)
{
	struct i8259 *p = (struct i8259 *)dev;
	bool out;

	pthread_mutex_lock(&p->lock);
	out = p->out;
	pthread_mutex_unlock(&p->lock);
	return out;
}

int i8259_intack(struct device *dev)
{
	struct i8259 *p = (struct i8259 *)dev;
	struct pic_chip *c = &p->chip[MASTER];
	int ir, vector;

	pthread_mutex_lock(&p->lock);
	ir = chip_intack(c);
	if (ir == I8259_CASCADE_IRQ) {
		/* The master's IR2 is now in service whatever the slave
		 * answers: a spurious IRQ 15 still needs the master's EOI. */
		c = &p->chip[SLAVE];
		ir = chip_intack(c);
	}
	if (ir == NO_IRQ) {
		p->spurious[c - p->chip]++;
		vector = c->vector_base | SPURIOUS_IR;
	} else {
		p->acked[8 * (c - p->chip) + ir]++;
		vector = c->vector_base | ir;
	}
	pic_update(p);
	pthread_mutex_unlock(&p->lock);
	return vector;
}

void i8259_print_stats(struct device *dev, FILE *out)
{
	struct i8259 *p = (struct i8259 *)dev;

	pthread_mutex_lock(&p->lock);
	for (unsigned n = 0; n < ISA_NUM_IRQS; n++)
		if (p->raised[n] || p->acked[n])
			fprintf(out, "i8259 irq %u: %llu raised, %llu acknowledged\n",
				n, (unsigned long long)p->raised[n],
				(unsigned long long)p->acked[n]);
	fprintf(out, "i8259: %llu spurious IRQ 7, %llu spurious IRQ 15\n",
		(unsigned long long)p->spurious[MASTER],
		(unsigned long long)p->spurious[SLAVE]);
	pthread_mutex_unlock(&p->lock);
}

static int i8259_realize(struct device *dev, struct error *err)
{
	struct i8259 *p = (struct i8259 *)dev;

	(void)err;
	memory_region_init_io(&p->chip[MASTER].io, "pic-master", &pic_port_ops,
			      &p->chip[MASTER], 2);
	memory_region_init_io(&p->chip[SLAVE].io, "pic-slave", &pic_port_ops,
			      &p->chip[SLAVE], 2);
	memory_region_init_io(&p->elcr_io, "elcr", &elcr_ops, p, 2);
	memory_transaction_begin();
	memory_region_add_subregion(dev->env->io_space, I8259_MASTER_PORT,
				    &p->chip[MASTER].io, 0);
	memory_region_add_subregion(dev->env->io_space, I8259_SLAVE_PORT,
				    &p->chip[SLAVE].io, 0);
	memory_region_add_subregion(dev->env->io_space, I8259_ELCR_PORT,
				    &p->elcr_io, 0);
	memory_transaction_commit();
	return 0;
}

static void i8259_unrealize(struct device *dev)
{
	struct i8259 *p = (struct i8259 *)dev;

	memory_transaction_begin();
	memory_region_del_subregion(dev->env->io_space, &p->chip[MASTER].io);
	memory_region_del_subregion(dev->env->io_space, &p->chip[SLAVE].io);
	memory_region_del_subregion(dev->env->io_space, &p->elcr_io);
	memory_transaction_commit();
}

/* As QEMU resets a chip: ready (no ICW sequence needed), nothing masked,
 * vector base 0, every input edge-triggered. */
static void i8259_instance_init(struct object *obj)
{
	struct i8259 *p = (struct i8259 *)obj;

	pthread_mutex_init(&p->lock, NULL);
	for (int i = MASTER; i <= SLAVE; i++)
		p->chip[i].pic = p;
	/* PIIX: IRQs 0, 1, 2 (timer, keyboard, cascade), 8 (RTC) and 13
	 * (FPU) are edge-triggered on every PC. */
	p->chip[MASTER].elcr_mask = 0xf8;
	p->chip[SLAVE].elcr_mask = 0xde;
	p->chip[MASTER].cascade = 1u << I8259_CASCADE_IRQ;
	for (unsigned n = 0; n < ISA_NUM_IRQS; n++)
		p->inputs[n] = (struct irq_line){ pic_input, p, n };
}

static void i8259_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct i8259 *)obj)->lock);
}

static void i8259_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = i8259_realize;
	dc->unrealize = i8259_unrealize;
}

static const struct type_info i8259_type_info = {
	.name = TYPE_I8259,
	.parent = TYPE_DEVICE,
	.description = "two cascaded 8259A interrupt controllers and the ELCR",
	.instance_size = sizeof(struct i8259),
	.class_size = sizeof(struct device_class),
	.class_init = i8259_class_init,
	.instance_init = i8259_instance_init,
	.instance_finalize = i8259_instance_finalize,
};

static void i8259_register_types(void)
{
	type_register(&i8259_type_info);
}
type_init(i8259_register_types)
