/* Process exit codes. A guest ends the VM through the exit port with an odd
 * code ((v << 1) | 1, as QEMU's isa-debug-exit); tinyvmm's own codes are all
 * even, so a CI job can tell them apart from the code alone. */
#ifndef VMM_EXIT_CODES_H
#define VMM_EXIT_CODES_H

enum vmm_exit_code {
	VMM_EXIT_INFO = 0,		/* --help, --version, -device help */
	VMM_EXIT_USAGE = 2,		/* bad command line */
	VMM_EXIT_ERROR = 4,		/* bad guest file, KVM or host failure */
	VMM_EXIT_GUEST_CRASH = 6,	/* triple fault, KVM internal error */
	VMM_EXIT_TIMEOUT = 8,		/* --timeout expired */
	VMM_EXIT_DEADLOCK = 10,		/* every vCPU halted, nothing can wake one */
};

#endif
