/* The 8254 programmable interval timer (Intel 8254 datasheet; QEMU's
 * isa-pit / kvm-pit): three 16-bit down counters clocked at 1.193182 MHz.
 *
 *   0x40..0x42  counters 0..2: count writes and reads (LSB, MSB or LSB then
 *               MSB, as the control word says)
 *   0x43        control word (write only; reads 0, as QEMU): mode set,
 *               counter latch, read-back
 *
 * On a PC counter 0's OUT drives ISA IRQ 0 (env->isa_irq[0]); counter 1
 * once clocked DRAM refresh; counter 2's GATE and OUT are bits 0 and 5 of
 * port 0x61 (devices/misc/port61.h), which the board connects through
 * i8254_set_gate / i8254_get_out. GATE 0 and 1 are tied high.
 *
 * Nothing ticks: counts and OUT are computed from env->clock when read.
 * A clock timer is armed only for counter 0, only while a rising edge of
 * its OUT lies ahead (a count still to be loaded included), and only when
 * IRQ lines are wired.
 *
 * IRQ 0 and lost ticks: each rising edge of OUT 0 is sent as a pulse
 * (raise + lower), as KVM's in-kernel PIT does; ISA IRQ 0 is
 * edge-triggered. When the timer thread runs late and several edges have
 * passed, ONE pulse is sent and the others are counted as coalesced
 * (i8254_print_stats): a burst of stale interrupts helps no guest that
 * reads its time from a counter (the PIT, the TSC), and a guest that
 * counts ticks loses them, as on a busy host ("discard"/merge). QEMU
 * differs: its userspace isa-pit walks every missed transition, so a late
 * timer makes a burst; with KVM, `-M pc` uses the in-kernel kvm-pit whose
 * lost_tick_policy defaults to "delay" (every tick is re-injected, one
 * after the guest acknowledges the previous). Periodic modes (2, 3) also
 * send at most one pulse per I8254_MIN_IRQ_PERIOD_NS (KVM's
 * min_timer_period_us, 200 us): a guest programming a tiny period cannot
 * make the timer thread spin; the edges in between are coalesced.
 *
 * Locking: one mutex per PIT, taken by vCPUs (ports), the clock's timer
 * thread (IRQ 0) and the board (gate, OUT). IRQ 0 is pulsed with that
 * lock held, so pulses keep the order of the state changes that cause
 * them. Order: port61 → PIT → IRQ 0's receiver, PIT → the clock's timer
 * lock. The receiver of IRQ 0 must never call back into the PIT.
 */
#ifndef DEVICES_TIMER_I8254_H
#define DEVICES_TIMER_I8254_H

#include <stdbool.h>
#include <stdio.h>

struct device;

#define TYPE_I8254		"i8254"
#define I8254_PORT		0x40
#define I8254_NUM_PORTS		4
#define I8254_HZ		1193182u
#define I8254_IRQ		0
#define I8254_MIN_IRQ_PERIOD_NS	200000u

/* GATE of @channel (0..2; others are ignored): channel 2's is port 0x61
 * bit 0. Any thread. */
void i8254_set_gate(struct device *pit, unsigned channel, bool gate);
/* OUT of @channel now (false for a channel that does not exist). */
bool i8254_get_out(struct device *pit, unsigned channel);
/* IRQ 0 edges delivered and ticks coalesced, for --stats. */
void i8254_print_stats(struct device *pit, FILE *out);

#endif
