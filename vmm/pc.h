/* The board, as QEMU's hw/i386/pc.c: which device sits where and which
 * line goes to which input. The README's machine table mirrors this file. */
#ifndef VMM_PC_H
#define VMM_PC_H

#include <stdbool.h>

#include "devices/device.h"

struct error;
struct machine;

/* The device environment and every device of the machine but the local
 * APICs (made with the vCPUs). */
int pc_init_devices(struct machine *m, struct error *err);

/* The 8259 pair and the I/O APIC, the ISA IRQ lines to both, the 8259 to
 * the BSP's LINT0: once the LAPICs exist. */
int pc_init_interrupts(struct machine *m, struct error *err);
/* What the firmware interfaces (fw_cfg) tell the guest, once the image is
 * placed and the vCPUs made. */
int pc_init_firmware(struct machine *m, struct error *err);
/* The machine is going to sleep (S3). */
void pc_suspend(struct machine *m);
/* A wake event while the machine is suspended (S3): true if it wakes the
 * machine, as the guest enabled in ACPI PM1_EN; the PM registers then show
 * the wake (WAK_STS). */
bool pc_wake_event(struct machine *m, enum wakeup_source src);

/* The interrupt-acknowledge cycle: the vector the 8259 gives the BSP now
 * (its LINT0 asked for an ExtINT). */
int pc_extint_ack(struct machine *m);

#endif
