/* The exit port, compatible with QEMU's isa-debug-exit: a write of v ends
 * the VM with process exit status (v << 1) | 1. */
#ifndef DEVICES_DEBUG_EXIT_H
#define DEVICES_DEBUG_EXIT_H

#define TYPE_ISA_DEBUG_EXIT "isa-debug-exit"

#endif
