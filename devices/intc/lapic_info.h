/* One LAPIC's state as text, for the debugger's `monitor info lapic` (in the
 * spirit of QEMU's `info lapic`): mode, ID and version, every LVT entry
 * decoded, the timer, SVR, ICR, ESR, ISR/IRR/TMR as vector lists, the
 * pending NMI/INIT/SIPI events and TPR/PPR/DFR/LDR.
 *
 * Reads the model without changing it: what is posted but not yet moved
 * into IRR shows in IRR (and its trigger mode in TMR), as the next entry
 * would make it. The registers belong to the vCPU's thread and have no
 * lock: call this on that thread, or while the vCPU is stopped and its
 * thread has handed over through a lock (gdb's all-stop), never while it
 * runs. */
#ifndef DEVICES_LAPIC_INFO_H
#define DEVICES_LAPIC_INFO_H

#include <stdio.h>

struct lapic;

void lapic_info_print(struct lapic *l, FILE *out);

#endif
