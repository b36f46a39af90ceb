/* An interrupt line (QEMU's qemu_irq): a device sets its output level; the
 * board decides where the line goes (8259 inputs, I/O APIC pins, the ACPI
 * wake logic). A device never knows what is on the other end. */
#ifndef DEVICES_IRQ_H
#define DEVICES_IRQ_H

#include <stdbool.h>
#include <stddef.h>

struct irq_line {
	void (*handler)(void *opaque, unsigned n, bool level);
	void *opaque;
	unsigned n;		/* which input of the handler's device */
};

/* ISA IRQs as QEMU's pc has them. */
#define ISA_NUM_IRQS	16

/* A line with no handler (not connected) goes nowhere. */
static inline void irq_set_level(const struct irq_line *l, bool level)
{
	if (l && l->handler)
		l->handler(l->opaque, l->n, level);
}

static inline void irq_raise(const struct irq_line *l)
{
	irq_set_level(l, true);
}

static inline void irq_lower(const struct irq_line *l)
{
	irq_set_level(l, false);
}

/* An edge: raise, then lower at once. */
static inline void irq_pulse(const struct irq_line *l)
{
	irq_set_level(l, true);
	irq_set_level(l, false);
}

#endif
