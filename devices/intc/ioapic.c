/* The I/O APIC: Intel's 82093AA datasheet; SDM Vol. 3A ch. 11 for the
 * messages. Where KVM's in-kernel I/O APIC (what QEMU's pc with KVM shows
 * a guest) makes a choice the datasheet leaves open, this makes the same
 * one; ioapic.h lists them. */
#include "devices/intc/ioapic.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/error.h"
#include "devices/intc/lapic.h"
#include "memory/region.h"

#define IOAPIC_ID_MASK		0x0f000000u	/* ID bits 27:24 */
#define IOAPIC_NO_REGISTER	0xffffffffu	/* KVM: an unknown index reads this */
#define RTE_RO_BITS		(IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)
/* Delivery modes the datasheet reserves (6 is SIPI in an ICR, not here). */
#define DM_RESERVED_3		3
#define DM_RESERVED_6		6

struct pin_stats {
	uint64_t raised;	/* rising edges on the pin */
	uint64_t sent;		/* messages sent to the LAPICs */
	uint64_t not_sent;	/* ExtINT or reserved mode: nothing to send */
};

struct ioapic {
	struct device parent_obj;
	struct memory_region mmio;
	struct irq_line inputs[IOAPIC_NUM_PINS];
	struct apic_bus *bus;		/* set by realize */
	pthread_mutex_t lock;		/* everything below */
	uint8_t ioregsel;
	uint32_t id;			/* as the ID register reads */
	uint64_t rte[IOAPIC_NUM_PINS];
	uint32_t pins;			/* the input levels, one bit per pin */
	struct pin_stats stats[IOAPIC_NUM_PINS];
	bool logged_index, logged_extint, logged_reserved;
};

static unsigned rte_mode(uint64_t rte)
{
	return (rte >> IOAPIC_RTE_MODE_SHIFT) & 7;
}

/* Level semantics (remote IRR, EOI) apply only to vectored modes: SMI, NMI,
 * INIT and ExtINT are edge-triggered whatever the trigger bit says. */
static bool rte_level(uint64_t rte)
{
	unsigned mode = rte_mode(rte);

	return (rte & IOAPIC_RTE_LEVEL) &&
	       (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST);
}

static bool pin_asserted(const struct ioapic *s, unsigned pin)
{
	return s->pins & (1u << pin);
}

static void log_once(bool *logged, const char *what)
{
	if (!*logged)
		fprintf(stderr, "tinyvmm: ioapic: %s (logged once)\n", what);
	*logged = true;
}

/* Modes the LAPICs cannot take from an I/O APIC: counted, not sent. */
static bool mode_unsent(struct ioapic *s, unsigned mode)
{
	switch (mode) {
	case APIC_DM_EXTINT:
		log_once(&s->logged_extint,
			 "an ExtINT entry fired: not modelled, nothing sent");
		return true;
	case DM_RESERVED_3:
	case DM_RESERVED_6:
		log_once(&s->logged_reserved,
			 "an entry with a reserved delivery mode fired: nothing sent");
		return true;
	default:
		return false;
	}
}

/* One interrupt message for @pin's entry, as it stands. */
static void send(struct ioapic *s, unsigned pin)
{
	uint64_t rte = s->rte[pin];
	struct apic_irq irq = {
		.dest = (uint32_t)(rte >> IOAPIC_RTE_DEST_SHIFT),
		.vector = (uint8_t)(rte & IOAPIC_RTE_VECTOR),
		.mode = (uint8_t)rte_mode(rte),
		.shorthand = APIC_SH_NONE,
		.logical = rte & IOAPIC_RTE_LOGICAL,
		.assert = true,
		.level_trig = rte_level(rte),
	};

	if (mode_unsent(s, irq.mode)) {
		s->stats[pin].not_sent++;
		return;
	}
	if (irq.level_trig)
		s->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	s->stats[pin].sent++;
	apic_bus_deliver(s->bus, APIC_SRC_IOAPIC, &irq);
}

/* A level entry sends while its pin is asserted, it is unmasked and no
 * earlier message awaits its EOI. */
static void service_level(struct ioapic *s, unsigned pin)
{
	uint64_t rte = s->rte[pin];

	if (rte_level(rte) && pin_asserted(s, pin) &&
	    !(rte & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)))
		send(s, pin);
}

static void ioapic_input(void *opaque, unsigned pin, bool level)
{
	struct ioapic *s = opaque;
	bool rising;

	pthread_mutex_lock(&s->lock);
	rising = level && !pin_asserted(s, pin);
	s->pins = level ? s->pins | 1u << pin : s->pins & ~(1u << pin);
	if (rising)
		s->stats[pin].raised++;
	if (rte_level(s->rte[pin]))
		service_level(s, pin);
	else if (rising && !(s->rte[pin] & IOAPIC_RTE_MASKED))
		send(s, pin);
	pthread_mutex_unlock(&s->lock);
}

/* 0x10-0x3F; 0x03-0x0F and 0x40-0xFF name nothing. */
static bool is_redirection(unsigned index)
{
	return index >= IOAPIC_REG_REDTBL &&
	       index < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS;
}

static uint32_t read_register(struct ioapic *s)
{
	unsigned index = s->ioregsel;
	uint64_t rte;

	switch (index) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:	/* loaded whenever the ID is written */
		return s->id;
	case IOAPIC_REG_VER:
		return (IOAPIC_NUM_PINS - 1) << 16 | IOAPIC_VERSION;
	}
	if (!is_redirection(index)) {
		log_once(&s->logged_index, "read of a register that does not exist");
		return IOAPIC_NO_REGISTER;
	}
	rte = s->rte[(index - IOAPIC_REG_REDTBL) / 2];
	return (uint32_t)(index & 1 ? rte >> 32 : rte);
}

static void write_redirection(struct ioapic *s, unsigned index, uint32_t val)
{
	unsigned pin = (index - IOAPIC_REG_REDTBL) / 2;
	uint64_t rte = s->rte[pin];

	if (index & 1)
		rte = (rte & 0xffffffffull) | (uint64_t)val << 32;
	else
		rte = (rte & ~0xffffffffull) | val;
	rte = (rte & ~RTE_RO_BITS) | (s->rte[pin] & IOAPIC_RTE_REMOTE_IRR);
	if (!(rte & IOAPIC_RTE_LEVEL))
		rte &= ~IOAPIC_RTE_REMOTE_IRR;
	s->rte[pin] = rte;
	service_level(s, pin);
}

static void write_register(struct ioapic *s, uint32_t val)
{
	unsigned index = s->ioregsel;

	switch (index) {
	case IOAPIC_REG_ID:
		s->id = val & IOAPIC_ID_MASK;
		return;
	case IOAPIC_REG_VER:
	case IOAPIC_REG_ARB:
		return;		/* read-only */
	}
	if (is_redirection(index))
		write_redirection(s, index, val);
	else
		log_once(&s->logged_index, "write to a register that does not exist");
}

/* Dispatch hands the guest only @size bytes of what a read returns, and
 * gives a write only @size bytes of the guest's: KVM's rules then are that
 * a narrow read sees the register's low bytes, a narrow write writes it
 * zero-extended, and an 8-byte access is the register, zero-extended. */
static uint64_t ioapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ioapic *s = opaque;
	uint32_t v = 0;

	(void)size;
	pthread_mutex_lock(&s->lock);
	if (offset == IOAPIC_IOREGSEL)
		v = s->ioregsel;
	else if (offset == IOAPIC_IOWIN)
		v = read_register(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void ioapic_mmio_write(void *opaque, uint64_t offset, uint64_t value,
			      unsigned size)
{
	struct ioapic *s = opaque;
	uint32_t v = (uint32_t)value;

	(void)size;
	pthread_mutex_lock(&s->lock);
	if (offset == IOAPIC_IOREGSEL)
		s->ioregsel = (uint8_t)v;
	else if (offset == IOAPIC_IOWIN)
		write_register(s, v);
	pthread_mutex_unlock(&s->lock);
}

/* Every width at every offset reaches the callbacks unchanged. */
static const struct memory_region_ops ioapic_mmio_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
	.valid = { .min = 1, .max = 8, .unaligned = true },
	.impl = { .min = 1, .max = 8, .unaligned = true },
};

const struct irq_line *ioapic_inputs(struct device *dev)
{
	return ((struct ioapic *)dev)->inputs;
}

void ioapic_eoi(struct device *dev, unsigned vector)
{
	struct ioapic *s = (struct ioapic *)dev;

	pthread_mutex_lock(&s->lock);
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		uint64_t *rte = &s->rte[pin];

		if ((*rte & IOAPIC_RTE_VECTOR) != vector ||
		    !(*rte & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
		service_level(s, pin);
	}
	pthread_mutex_unlock(&s->lock);
}

static void reset_registers(struct ioapic *s)
{
	s->ioregsel = 0;
	s->id = 0;
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		s->rte[pin] = IOAPIC_RTE_MASKED;
}

void ioapic_reset(struct device *dev)
{
	struct ioapic *s = (struct ioapic *)dev;

	pthread_mutex_lock(&s->lock);
	reset_registers(s);
	pthread_mutex_unlock(&s->lock);
}

void ioapic_print_stats(struct device *dev, FILE *out)
{
	struct ioapic *s = (struct ioapic *)dev;

	pthread_mutex_lock(&s->lock);
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		const struct pin_stats *st = &s->stats[pin];

		if (!st->raised && !st->sent && !st->not_sent)
			continue;
		fprintf(out, "ioapic pin %u: %llu raised, %llu sent", pin,
			(unsigned long long)st->raised,
			(unsigned long long)st->sent);
		if (st->not_sent)
			fprintf(out, ", %llu not sent (ExtINT or reserved mode)",
				(unsigned long long)st->not_sent);
		fputc('\n', out);
	}
	pthread_mutex_unlock(&s->lock);
}

static int ioapic_realize(struct device *dev, struct error *err)
{
	struct ioapic *s = (struct ioapic *)dev;

	if (!dev->env->apic_bus)
		return error_setf(err, "ioapic: no APIC bus to send to");
	s->bus = dev->env->apic_bus;
	memory_region_init_io(&s->mmio, "ioapic", &ioapic_mmio_ops, s,
			      IOAPIC_MMIO_SIZE);
	if (dev->env->system_memory)
		memory_region_add_subregion(dev->env->system_memory,
					    IOAPIC_DEFAULT_BASE, &s->mmio, 0);
	return 0;
}

static void ioapic_unrealize(struct device *dev)
{
	struct ioapic *s = (struct ioapic *)dev;

	if (dev->env->system_memory)
		memory_region_del_subregion(dev->env->system_memory, &s->mmio);
}

static void ioapic_instance_init(struct object *obj)
{
	struct ioapic *s = (struct ioapic *)obj;

	pthread_mutex_init(&s->lock, NULL);
	reset_registers(s);
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		s->inputs[pin] = (struct irq_line){ ioapic_input, s, pin };
}

static void ioapic_instance_finalize(struct object *obj)
{
	pthread_mutex_destroy(&((struct ioapic *)obj)->lock);
}

static void ioapic_class_init(struct object_class *oc)
{
	struct device_class *dc = DEVICE_CLASS(oc);

	dc->realize = ioapic_realize;
	dc->unrealize = ioapic_unrealize;
	dc->user_creatable = false;	/* the board makes one */
}

static const struct type_info ioapic_type_info = {
	.name = TYPE_IOAPIC,
	.parent = TYPE_DEVICE,
	.description = "I/O APIC (82093AA, 24 pins, version 0x11)",
	.instance_size = sizeof(struct ioapic),
	.class_size = sizeof(struct device_class),
	.class_init = ioapic_class_init,
	.instance_init = ioapic_instance_init,
	.instance_finalize = ioapic_instance_finalize,
};

static void ioapic_register_types(void)
{
	type_register(&ioapic_type_info);
}
type_init(ioapic_register_types)
