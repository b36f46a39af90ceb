/* The 8254 PIT at ports 0x40-0x43 and the PC's port 0x61 (channel 2's
 * gate and output). Intel 8254 datasheet: modes 0 and 2, LSB-then-MSB
 * counts; 1.193182 MHz input clock. */
#ifndef GUEST_PIT_H
#define GUEST_PIT_H

#include <stdint.h>

#define PIT_HZ		1193182u

/* Channel 0 (IRQ 0) in mode 2 (rate generator), one IRQ 0 edge every
 * @divisor input clocks (0: 65536). */
void pit_periodic(uint16_t divisor);
/* Channel 0 into mode 0 with the longest count: no further periodic
 * edges, at most one more at the terminal count (the 8254 has no "off";
 * mask the line too). */
void pit_stop(void);
/* TSC ticks per millisecond, measured over at least @span input clocks of
 * channel 2 (mode 0, its gate opened through port 0x61): its count latched
 * together with the TSC at both ends, so time a preempted vCPU loses
 * between the two counts in both clocks alike. 0 if the count did not get
 * that far within a second, or went round (OUT2, port 0x61 bit 5, rose:
 * more than 55 ms passed). The speaker stays off, and the gate closed
 * afterwards. */
uint64_t pit_tsc_khz(uint16_t span);

#endif
