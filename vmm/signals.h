/* SIGTERM, SIGINT and SIGHUP stop the VM in order: machine_stop with
 * VMM_EXIT_SIGNAL, so vCPUs leave KVM_RUN, the devices' threads finish and
 * machine_destroy closes the images. A second SIGINT ends tinyvmm at once
 * with the same code. SIGPIPE is ignored: a write to a closed pipe fails
 * with EPIPE and the VM runs on. */
#ifndef VMM_SIGNALS_H
#define VMM_SIGNALS_H

struct machine;

/* First thing in main(), before any other thread exists (they inherit the
 * blocked signals): starts the thread that waits for them. 0 or -1. */
int signals_init(void);
/* The machine a signal stops, while machine_run runs it. A signal that
 * came while none was attached stops the next one at once. */
void signals_attach(struct machine *m);
void signals_detach(void);
/* Puts the terminal on stdin back as it was at signals_init, for the exits
 * that skip the devices' teardown. Async-signal-safe. */
void signals_restore_terminal(void);

#endif
