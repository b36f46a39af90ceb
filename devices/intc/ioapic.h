/* The I/O APIC (Intel 82093AA; QEMU's "ioapic", which under KVM is KVM's
 * in-kernel one), type "ioapic", made by the board: 24 input pins routed to
 * the local APICs as interrupt messages through apic_bus_deliver.
 *
 * Guest interface: a 0x1000 region at 0xFEC00000 with IOREGSEL at 0x00
 * (bits 7:0 pick a register) and IOWIN at 0x10 (the picked register):
 *   0x00       ID, bits 27:24 R/W (reset 0)
 *   0x01       version 0x00170011: version 0x11, max redirection entry 23
 *   0x02       arbitration ID: bits 27:24 = the ID (loaded with it)
 *   0x10-0x3F  redirection table, entry n at 0x10 + 2n (low) and +1 (high)
 *
 * Model choices. The datasheet first; where it leaves room, what QEMU's pc
 * with KVM (KVM's in-kernel I/O APIC) shows the guest ("KVM:").
 * - KVM: accesses of 1, 2, 4 or 8 bytes at offset 0x00 or 0x10 exactly;
 *   a read gives the register's low bytes (8 bytes: zero-extended), a
 *   write of fewer than 4 bytes writes the register zero-extended, an
 *   8-byte write its low 32 bits. Every other offset of the page reads 0
 *   and ignores writes: there is no EOI register (version 0x11).
 * - KVM: indexes 0x03-0x0F and 0x40-0xFF read 0xFFFFFFFF, writes are
 *   ignored (logged once).
 * - Redirection entries: delivery status (bit 12) always reads 0 (delivery
 *   is instantaneous); remote IRR (bit 14) is read-only. KVM: the reserved
 *   bits 55:17 are kept as written; writing an entry as edge-triggered
 *   clears its remote IRR (Linux uses that in place of an EOI register).
 *   Reset: every entry masked, all else 0.
 * - Polarity (bit 13) is stored but not applied, as KVM does: a pin is
 *   asserted when its line is high. (QEMU's MADT declares the PCI link
 *   IRQs active high, so guests program 0 there anyway.)
 * - Edge: a rising edge on an unmasked entry sends one message. An edge on
 *   a masked entry is dropped, not remembered (datasheet, bit 16; KVM and
 *   QEMU do the same).
 * - Level (fixed and lowest priority only): while the pin is asserted, the
 *   entry unmasked and remote IRR clear, one message is sent and remote IRR
 *   set; the LAPIC sets TMR for it. An EOI of that vector (ioapic_eoi)
 *   clears remote IRR and, if the pin is still asserted and unmasked, sends
 *   again. Unmasking, or any write that leaves such an entry deliverable,
 *   sends too (KVM). Remote IRR is set even if every target refused the
 *   message (a software-disabled LAPIC; KVM leaves it clear then): the
 *   guest's way out is the edge-mode write above.
 * - SMI, NMI and INIT are edge-triggered whatever the trigger mode bit
 *   says (datasheet, SDM): no remote IRR. SMI reaches the LAPIC model,
 *   which drops it (no SMM).
 * - Left out: ExtINT entries send nothing (each such message is counted;
 *   logged once): the LAPIC model takes ExtINT only on LINT0. KVM drops
 *   them too. Doing it would need the LAPIC to take an ExtINT message as
 *   it takes LINT0 in ExtINT mode (the 8259's vector at injection).
 *   Reserved delivery modes 3 and 6 send nothing either (counted, logged
 *   once); KVM would pass mode 6 on as a SIPI.
 * - Left out: KVM's throttling of a level interrupt redelivered 10000
 *   times in a row at EOI (it delays the next by 10 ms). Here each EOI
 *   sends at most one message per entry, so a storm is the guest's loop,
 *   one event at a time, never a loop inside the model.
 *
 * Threads and locks: inputs from any thread (device threads, the timer
 * thread), MMIO and ioapic_eoi from vCPU threads; one mutex serializes
 * them. Messages are sent with it held, so they leave in the order the
 * pin changes happen. Lock order: the I/O APIC lock, then whatever
 * apic_bus_deliver takes (the host's notify: a vCPU's wake lock). So
 * neither the LAPIC nor the notify op may call back into the I/O APIC,
 * and nobody may call an ioapic function holding a lock notify takes. A
 * device may drive its line with its own lock held (device lock first). */
#ifndef DEVICES_INTC_IOAPIC_H
#define DEVICES_INTC_IOAPIC_H

#include <stdio.h>

#include "devices/irq.h"

struct device;

#define TYPE_IOAPIC		"ioapic"
#define IOAPIC_DEFAULT_BASE	0xfec00000u
#define IOAPIC_MMIO_SIZE	0x1000u
#define IOAPIC_NUM_PINS		24
#define IOAPIC_VERSION		0x11

/* MMIO offsets */
#define IOAPIC_IOREGSEL		0x00
#define IOAPIC_IOWIN		0x10

/* Register indexes (IOREGSEL) */
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VER		0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDTBL	0x10	/* entry n: 0x10 + 2n, 0x11 + 2n */

/* Redirection table entry fields */
#define IOAPIC_RTE_VECTOR	0xffull
#define IOAPIC_RTE_MODE_SHIFT	8	/* enum apic_delivery_mode, 3 bits */
#define IOAPIC_RTE_LOGICAL	(1ull << 11)
#define IOAPIC_RTE_DELIVS	(1ull << 12)	/* RO, always 0 here */
#define IOAPIC_RTE_POLARITY	(1ull << 13)	/* 1: active low (not applied) */
#define IOAPIC_RTE_REMOTE_IRR	(1ull << 14)	/* RO */
#define IOAPIC_RTE_LEVEL	(1ull << 15)
#define IOAPIC_RTE_MASKED	(1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT	56

/* IOAPIC_NUM_PINS input lines; valid from creation, before realize. */
const struct irq_line *ioapic_inputs(struct device *io);
/* A LAPIC EOIed a level-triggered @vector (the board calls this from
 * apic_host_ops.eoi_level): remote IRR cleared on every level entry with
 * that vector, and a message sent again where the pin is still asserted.
 * Any vCPU thread; see the lock order above. */
void ioapic_eoi(struct device *io, unsigned vector);
/* As after RESET (resume from S3): ID 0, IOREGSEL 0, every entry masked.
 * The pins keep their levels: those are the devices'. */
void ioapic_reset(struct device *io);
/* --stats: per pin, rising edges, messages sent, and messages not sent
 * (ExtINT, reserved delivery modes). */
void ioapic_print_stats(struct device *io, FILE *out);

#endif
