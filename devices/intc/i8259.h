/* The PC's two cascaded 8259A interrupt controllers (QEMU's "isa-i8259"
 * pair and the PIIX ELCR), one device, type "i8259", made by the board:
 *   0x20/0x21    master: command (ICW1, OCW2, OCW3; IRR/ISR/poll) / data
 *                (ICW2-4, OCW1 = IMR)
 *   0xA0/0xA1    slave, the same; its INT drives the master's IR2
 *   0x4D0/0x4D1  ELCR (PIIX): per-IRQ level (1) / edge (0) trigger; IRQs 0,
 *                1, 2, 8 and 13 are always edge (their bits read 0)
 * One device rather than two chips, because the PC wires them one way:
 * the cascade is a fixed wire (ICW3 is ignored, as QEMU does), INTA walks
 * both chips under one lock, and the ELCR spans both.
 *
 * Inputs: 16 ISA IRQ lines (i8259_inputs); input 2 is the cascade on a PC
 * and takes nothing from outside. Output: the master's INT pin, which the
 * board wires to the BSP's LINT0 (virtual wire, ExtINT); the vCPU then
 * calls i8259_intack() at the moment it injects.
 *
 * A new i8259 is as QEMU resets one: ready without ICWs, nothing masked,
 * vector base 0, every input edge-triggered. Firmware, or the board for
 * a guest started without it, programs the vectors.
 *
 * Threads and locks: any thread may set inputs; vCPU threads reach the
 * ports and intack. One mutex serializes them. The output line's handler
 * is called with that mutex held, only when the level changes, so levels
 * arrive in the order they happen. Lock order: the i8259 lock, then
 * whatever the handler takes (the vCPU wake lock). So the handler must not
 * call back into the i8259, and no thread may call an i8259 function while
 * holding a lock the handler takes. */
#ifndef DEVICES_INTC_I8259_H
#define DEVICES_INTC_I8259_H

#include <stdbool.h>
#include <stdio.h>

#include "devices/irq.h"

struct device;

#define TYPE_I8259		"i8259"
#define I8259_MASTER_PORT	0x20
#define I8259_SLAVE_PORT	0xa0
#define I8259_ELCR_PORT		0x4d0
#define I8259_CASCADE_IRQ	2

/* ISA_NUM_IRQS input lines; valid from creation, before realize. */
const struct irq_line *i8259_inputs(struct device *pic);
/* Wires the master's INT pin to @out; @out is raised at once if INT is
 * high now. */
void i8259_connect_output(struct device *pic, struct irq_line out);
/* The master's INT level now: a request the CPU would get exists. */
bool i8259_output(struct device *pic);
/* The interrupt-acknowledge cycle: the vector (0-255) the CPU gets. Sets
 * the ISR bit (unless auto-EOI), clears an edge request, goes through the
 * slave for IR2. With no request (it went away since INT rose) the chip
 * answers with its IR7 vector and sets no ISR bit: spurious IRQ 7, or
 * spurious IRQ 15 with the master's IR2 in service. */
int i8259_intack(struct device *pic);
/* --stats: per IRQ, rising edges and intacks that returned it. */
void i8259_print_stats(struct device *pic, FILE *out);

#endif
