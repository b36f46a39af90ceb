/* Process exit codes. A guest ends the VM through the exit port with an odd
 * code ((v << 1) | 1, as QEMU's isa-debug-exit); tinyvmm's own codes are all
 * even, so a CI job can tell them apart from the code alone. */
#ifndef VMM_EXIT_CODES_H
#define VMM_EXIT_CODES_H

enum vmm_exit_code {
	VMM_EXIT_INFO = 0,		/* --help, --version, -device help */
	/* The guest powered off (ACPI S5): a clean end, as QEMU exits 0. */
	VMM_EXIT_POWEROFF = 0,
	VMM_EXIT_USAGE = 2,		/* bad command line */
	VMM_EXIT_ERROR = 4,		/* bad guest file, KVM or host failure */
	VMM_EXIT_GUEST_CRASH = 6,	/* triple fault, KVM internal error */
	VMM_EXIT_TIMEOUT = 8,		/* --timeout expired */
	VMM_EXIT_DEADLOCK = 10,		/* every vCPU halted, nothing can wake one */
	/* The guest reset the machine (0xCF9, the keyboard controller, port
	 * 0x92, the ACPI reset register): not a crash, but not an end the
	 * guest chose with a status either; QEMU -no-reboot exits 0 here. */
	VMM_EXIT_RESET = 12,
	VMM_EXIT_KILLED = 14,		/* the debugger's kill (gdb's `kill`) */
	/* SIGTERM, SIGINT or SIGHUP stopped the VM (vmm/signals.h). Not the
	 * shells' 128+N: that is odd for SIGHUP and SIGTERM, a guest's code. */
	VMM_EXIT_SIGNAL = 16,
	VMM_EXIT_SANDBOX = 18,		/* a forbidden system call (vmm/sandbox.h) */
};

#endif
