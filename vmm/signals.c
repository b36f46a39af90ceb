/* One thread waits for the stop signals (sigwait), blocked in every other
 * thread, so no handler runs in the middle of a vCPU's or a device's work
 * and machine_stop is called as from any thread. vCPU threads keep
 * SIGUSR1, the kick (vcpu.c), unblocked. */
#include "vmm/signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/exit_codes.h"
#include "vmm/machine.h"
#include "vmm/sandbox.h"

static sigset_t stop_signals;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct machine *attached;
static bool stop_requested;
/* The terminal as the user had it, before a UART made it raw. */
static struct termios saved_tty;
static bool tty_saved;

void signals_restore_terminal(void)
{
	/* Not from the background: tcsetattr would stop us with SIGTTOU. */
	if (tty_saved && tcgetpgrp(STDIN_FILENO) == getpgrp())
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
}

static void force_exit(void)
{
	static const char msg[] = "tinyvmm: SIGINT again: exiting at once\n";
	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)n;
	signals_restore_terminal();
	_exit(VMM_EXIT_SIGNAL);
}

static void on_stop_signal(int sig)
{
	bool again;

	pthread_mutex_lock(&lock);
	again = stop_requested;
	stop_requested = true;
	if (again && sig == SIGINT)
		force_exit();
	if (!again) {
		fprintf(stderr, "tinyvmm: %s (signal %d): stopping the VM%s\n",
			strsignal(sig), sig, sig == SIGINT ?
			"; SIGINT again to exit at once" : "");
		if (attached)
			machine_stop(attached, VMM_EXIT_SIGNAL);
	}
	pthread_mutex_unlock(&lock);
}

static void *signal_thread(void *arg)
{
	int sig;

	(void)arg;
	sandbox_enter(SANDBOX_SIGNALS);
	for (;;)
		if (!sigwait(&stop_signals, &sig))
			on_stop_signal(sig);
	return NULL;
}

int signals_init(void)
{
	pthread_t thread;

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	tty_saved = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp() &&
		    !tcgetattr(STDIN_FILENO, &saved_tty);
	if (pthread_create(&thread, NULL, signal_thread, NULL))
		return -1;
	pthread_detach(thread);
	return 0;
}

void signals_attach(struct machine *m)
{
	pthread_mutex_lock(&lock);
	attached = m;
	if (stop_requested)
		machine_stop(m, VMM_EXIT_SIGNAL);
	pthread_mutex_unlock(&lock);
}

void signals_detach(void)
{
	pthread_mutex_lock(&lock);
	attached = NULL;
	pthread_mutex_unlock(&lock);
}
