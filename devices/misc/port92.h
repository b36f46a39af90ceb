/* Port 0x92, system control port A (QEMU's "port92"; PIIX4 datasheet,
 * "Port 92h"): bit 1 is the fast A20 gate, bit 0 the fast reset (a 0 to 1
 * transition resets the machine through env->system_event); bits 7:2 are
 * reserved and read 0 (QEMU keeps whatever was written). tinyvmm never
 * masks A20 (as KVM under QEMU does not): bit 1 is stored and read back,
 * nothing more. It reads 0x02 at first, A20 on, as firmware leaves it on
 * QEMU's pc. The board makes one. */
#ifndef DEVICES_MISC_PORT92_H
#define DEVICES_MISC_PORT92_H

#define TYPE_PORT92 "port92"
#define PORT92_PORT 0x92

#define PORT92_RESET	0x01
#define PORT92_A20	0x02

#endif
