/* The GDB remote stub (--gdb): one debugger at a time drives the VM in
 * all-stop mode (when one vCPU stops, all do). vCPUs are gdb's threads.
 * The machine starts and finishes it; the vCPU loop calls the hooks, which
 * cost one pointer test when there is no stub. */
#ifndef VMM_GDB_STUB_H
#define VMM_GDB_STUB_H

#include <stdbool.h>

struct error;
struct machine;
struct vcpu;

/* Listens on opts->gdb_addr and serves debuggers from a thread of its own;
 * with --gdb-wait the vCPUs park before their first instruction. */
int gdb_stub_start(struct machine *m, struct error *err);
/* The VM ended: tell the debugger (W reply), release parked vCPUs, join
 * the stub's thread. Then, after the vCPUs' threads: destroy. */
void gdb_stub_finish(struct machine *m);
void gdb_stub_destroy(struct machine *m);

/* Before each entry: parks while the debugger holds the VM and reports this
 * vCPU's own stop event first. True while the vCPU single-steps (it takes
 * no interrupts then, as QEMU's default). */
bool gdb_vcpu_checkpoint(struct vcpu *v);
/* From a sleep (hlt, wait-for-SIPI), with nothing locked: parks if the
 * debugger holds the VM; false if it does not. */
bool gdb_vcpu_park_if_held(struct vcpu *v);
/* KVM_EXIT_DEBUG: a breakpoint or a single step. */
void gdb_vcpu_debug_exit(struct vcpu *v);

#endif
