/* The 16550A UART (National/TI PC16550D datasheet; QEMU's isa-serial), type
 * "isa-serial": COM1 at 0x3f8 on ISA IRQ 4 by default.
 *
 *   +0  RBR (read) / THR (write); DLL when LCR.DLAB
 *   +1  IER: ERBFI, ETBEI, ELSI, EDSSI; DLM when LCR.DLAB
 *   +2  IIR (read) / FCR (write)
 *   +3  LCR   +4 MCR   +5 LSR   +6 MSR   +7 SCR
 *
 * Transmit is instantaneous: a THR write is the wire (the `path` output),
 * so THRE and TEMT always read 1 and the THRE interrupt is pending again
 * right after each THR write. Receive: a 16-byte RX FIFO (1 byte with FIFOs
 * off) fed by a reader thread from the `input` property, with flow
 * control: the thread reads only as many bytes as the FIFO has room for,
 * so the rest wait in the pipe or terminal, never in an unbounded buffer.
 *
 * Interrupts, in the datasheet's priority order: line status (OE; PE, FE
 * and BI never happen: no input source brings them), received data at the
 * trigger level (1/4/8/14) or the character timeout (IIR 0x0C: bytes below
 * the trigger level untouched for 4 character times at the programmed
 * baud rate and frame, timed on env->clock; without a clock at once), THR
 * empty, modem status (deltas; in loopback only, where MSR follows MCR).
 * The line env->isa_irq[irq] is a level: high while IIR reports an
 * interrupt, as the chip's INTR pin.
 *
 * Where QEMU's pc differs from the datasheet, the guest sees QEMU:
 *   - On a PC, MCR.OUT2 gates INTR onto the ISA bus; QEMU does not gate,
 *     and neither do we: a guest that leaves OUT2 clear still interrupts.
 *   - The THRE interrupt is set when ETBEI goes from 0 to 1 (THRE is
 *     always 1), not on every IER write with ETBEI set.
 *   - The divisor latch reads 12 (9600 baud) after reset (the datasheet
 *     leaves it undefined).
 * Ours alone: no transmit FIFO delay, no break or parity on loopback.
 *
 * Input (`input` property): "none"; "stdin" (fd 0, left open; not read
 * when it is a terminal of which this process is in the background, where
 * reading would stop the process); or a path (a FIFO, a pty, a file),
 * opened non-blocking. A terminal is put in raw mode (no echo, no line
 * editing, Enter gives CR; signals and output processing kept, so Ctrl-C
 * still ends the VMM and guest "\n" still starts a line) until unrealize,
 * exit(), or a fatal signal whose handler was the default: such a signal
 * restores the terminal, then kills the process as before. At most one
 * terminal at a time. EOF or a read error ends input for good.
 *
 * Locking: one mutex, taken by vCPUs (ports), the reader thread and the
 * clock's timer thread. The IRQ line is set under it, so the line follows
 * IIR in order; the line's receiver must never call back into the UART.
 */
#ifndef DEVICES_SERIAL_H
#define DEVICES_SERIAL_H

#include <stdio.h>

struct device;

#define TYPE_ISA_SERIAL "isa-serial"
#define SERIAL_FIFO_SIZE 16

/* --stats: bytes received and sent, interrupts raised (rising edges). */
void serial_print_stats(struct device *dev, FILE *out);

#endif
