/* The seccomp sandbox: each kind of thread runs under an allowlist of the
 * system calls it needs once the machine is set up (docs/SECURITY.md). A
 * call outside it raises SIGSYS, whose handler names the call on stderr
 * and ends tinyvmm with VMM_EXIT_SANDBOX. */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

enum sandbox_mode {
	SANDBOX_OFF,		/* --no-sandbox (and the unit tests) */
	/* Every thread but the main one: a front end that boots the guest
	 * again after a reset needs the set-up calls on its main thread. */
	SANDBOX_WORKERS,
	SANDBOX_ALL,
};

enum sandbox_thread {
	SANDBOX_MAIN,		/* after set-up: waits, joins, tears down */
	SANDBOX_VCPU,
	SANDBOX_BLK_IO,		/* a virtio-blk device's I/O thread */
	SANDBOX_TIMER,		/* the guest clock's timer thread */
	SANDBOX_GDB,		/* the GDB stub's thread */
	SANDBOX_SERIAL_IN,	/* a UART's input reader */
	SANDBOX_SIGNALS,	/* vmm/signals.c's thread */
};

/* Once, before any thread that calls sandbox_enter starts. */
void sandbox_set_mode(enum sandbox_mode mode);
/* The calling thread's filter, as the first thing a thread does (the main
 * thread: after set-up). Filters stack: a thread started later by this
 * one runs under both. A filter that cannot be loaded ends tinyvmm. */
void sandbox_enter(enum sandbox_thread kind);

#endif
