/* The High Precision Event Timer (IA-PC HPET specification 1.0a; QEMU's
 * "hpet" as `-M pc` has it): a 64-bit main counter at 100 MHz and three
 * comparators, in 1 KiB of MMIO at 0xFED00000 that the ACPI "HPET" table
 * points to. Registers are 64 bits; 4- and 8-byte aligned accesses work
 * (a 32-bit guest reads and writes each half), other sizes fail as the
 * memory API's `valid` rules say.
 *
 *   0x000  GCAP_ID    RO: rev 1, 3 timers, 64-bit counter, LEG_RT_CAP,
 *                     vendor 0x8086, 10^7 fs per tick (upper half)
 *   0x010  GEN_CONF   ENABLE_CNF (bit 0: count, interrupt), LEG_RT_CNF (1)
 *   0x020  GINTR_STA  per timer: a level interrupt is active; write 1 clears
 *   0x0F0  MAIN_CNT   counts while ENABLE_CNF is set, holds while clear
 *   0x100 + 0x20 n    timer n (0..2): CONF_CAP (+0), COMPARATOR (+8),
 *                     FSB route (+0x10: no FSB, reads 0, writes ignored)
 *
 * CONF_CAP: INT_TYPE (bit 1: level), INT_ENB (2), TYPE (3: periodic),
 * PER_INT_CAP (4) and SIZE_CAP (5) read 1 on every timer, VAL_SET (6),
 * 32MODE (8), INT_ROUTE (9-13), FSB bits (14, 15) read 0, and the routes
 * the timer may take in bits 32-63: I/O APIC input 2 only, as QEMU's pc.
 *
 * Interrupts (env->isa_irq): in legacy replacement mode timer 0 drives ISA
 * IRQ 0 and timer 1 ISA IRQ 8; otherwise INT_ROUTE 2 drives ISA IRQ 2 (the
 * board sends it to 8259 input 2 and I/O APIC pin 2, QEMU's GSI 2), and a
 * route the timer cannot take drives nothing (logged once). Edge timers
 * pulse the line; level timers set their GINTR_STA bit and hold the line
 * until the guest clears the bit or disables the timer or the HPET. The
 * PIT and the RTC reach ISA IRQ 0 and 8 through this device
 * (hpet_legacy_inputs), which cuts them off in legacy replacement mode.
 *
 * Nothing ticks: the counter is computed from env->clock when read, and a
 * clock timer is armed per comparator only while it has an interrupt to
 * send. A periodic comparator sends at most one interrupt per
 * HPET_MIN_IRQ_PERIOD_NS (as the i8254): the matches in between (a tiny
 * period, a late timer thread) are coalesced and counted
 * (hpet_print_stats), while its comparator still reads the next match.
 *
 * As QEMU 7.2, where the spec is silent or says otherwise:
 * - a comparator at or behind the counter (by under half the comparator's
 *   range) when it is programmed (comparator write, INT_ENB set, HPET
 *   enabled, mode or counter change) fires at once: hardware would wait a
 *   whole wrap of the counter, which loses the interrupt of a guest that
 *   programmed it a little late;
 * - a comparator write sets the comparator in one-shot mode or with
 *   VAL_SET, and the period in periodic mode (both with VAL_SET); VAL_SET
 *   reads back until that write clears it; a period is at most half the
 *   comparator's range; a periodic timer with period 0 fires once;
 * - a 32-bit one-shot timer whose match lies past the counter's 32-bit wrap
 *   fires at the wrap too, once, then at the match (spec 2.3.9.2.1);
 * - the reset comparator is all ones; the route field keeps any value.
 * Ours: a counter write while the counter runs takes effect at once (QEMU
 * stores it where only the next halt overwrites it; the spec says to halt
 * first; logged once).
 * Left out: FSB (MSI) delivery, more than 3 timers, a 32-bit counter.
 *
 * Locking: one mutex per HPET, taken by vCPUs (MMIO), the clock's timer
 * thread and the PIT's and RTC's outputs (hpet_legacy_inputs). Lines are
 * set with it held. Order: PIT / RTC → HPET → the ISA line's receiver, and
 * HPET → the clock's timer lock; the HPET never calls the PIT or the RTC,
 * and a line's receiver must never call back into the HPET. */
#ifndef DEVICES_TIMER_HPET_H
#define DEVICES_TIMER_HPET_H

#include <stdio.h>

struct device;
struct irq_line;

#define TYPE_HPET		"hpet"
#define HPET_BASE		0xfed00000u
#define HPET_SIZE		0x400u
#define HPET_HZ			100000000u	/* 10^7 fs per tick */
/* GCAP_ID's low half, which the ACPI "HPET" table repeats as its Event
 * Timer Block ID: rev 1, 3 timers, 64-bit counter, LEG_RT_CAP, Intel. */
#define HPET_BLOCK_ID		0x8086a201u
#define HPET_NUM_TIMERS		3
#define HPET_MIN_IRQ_PERIOD_NS	200000u		/* as I8254_MIN_IRQ_PERIOD_NS */

/* Legacy inputs: [0] for the PIT's IRQ 0, [1] for the RTC's IRQ 8. The
 * board connects those outputs here instead of to ISA IRQ 0 and 8; each is
 * forwarded while the HPET is not in legacy replacement mode. */
#define HPET_LEGACY_PIT		0
#define HPET_LEGACY_RTC		1
const struct irq_line *hpet_legacy_inputs(struct device *hpet);

/* Interrupts sent and matches coalesced, for --stats. */
void hpet_print_stats(struct device *hpet, FILE *out);

#endif
