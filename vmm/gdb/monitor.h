/* The debugger's monitor commands (`monitor CMD` in gdb, the qRcmd packet):
 * QEMU-like text reports of the stopped VM. The stub handles its own
 * commands (addressing mode, register layout) and passes the rest here. */
#ifndef VMM_GDB_MONITOR_H
#define VMM_GDB_MONITOR_H

#include <stdio.h>

struct gdb_cpu;
struct machine;

/* Runs @cmd (words separated by blanks) for vCPU @cpu, whose registers are
 * @regs, writing its report to @out:
 *	help			the commands, the stub's included
 *	info registers		general, segment and control registers
 *	info lapic		the LAPIC of vCPU @cpu
 *	info mtree [-f]		the region trees of "system" and "io" and
 *				each one's flat view (-f: the views only)
 *	info pci		the PCI devices
 * Call only while every vCPU is stopped (the LAPIC is read without a
 * lock). 0 when done; -1, with a line saying why, for an unknown command
 * or a report that is not available (no such vCPU, no registers). */
int gdb_monitor_run(struct machine *m, unsigned cpu, const struct gdb_cpu *regs,
		    const char *cmd, FILE *out);

#endif
