/* tinyvmm: boot an ELF guest in a KVM virtual machine. Two front ends
 * fill the one struct vmm_options: tinyvmm's own command line, and QEMU's
 * (vmm/qemu_cli.h), when invoked as qemu-system-x86_64 or with --qemu. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/device.h"
#include "devices/error.h"
#include "vmm/exit_codes.h"
#include "vmm/machine.h"
#include "vmm/options.h"
#include "vmm/qemu_cli.h"
#include "vmm/sandbox.h"
#include "vmm/signals.h"

#define TINYVMM_VERSION "0.1.0"

/* One boot of the guest: tinyvmm's exit code. */
static int boot(const struct vmm_options *opts)
{
	struct error err = { "" };
	struct machine m;
	int code;

	if (machine_init(&m, opts, &err)) {
		fprintf(stderr, "tinyvmm: %s\n", err.msg);
		machine_destroy(&m);
		return VMM_EXIT_ERROR;
	}
	if (opts->mtree) {
		machine_print_mtree(&m, true, stdout);
		code = VMM_EXIT_INFO;
	} else {
		code = machine_run(&m);
	}
	machine_destroy(&m);
	return code;
}

/* Before the first boot starts a thread: each inherits the blocked stop
 * signals, and each enters its sandbox as it starts. */
static int start_guards(enum sandbox_mode mode)
{
	sandbox_set_mode(mode);
	if (signals_init()) {
		fprintf(stderr, "tinyvmm: cannot start the signal thread\n");
		return -1;
	}
	return 0;
}

static int tinyvmm_main(int argc, char **argv)
{
	struct vmm_options opts;
	struct error err = { "" };

	if (options_parse(argc, argv, &opts, &err)) {
		fprintf(stderr, "tinyvmm: %s\n", err.msg);
		return VMM_EXIT_USAGE;
	}
	if (opts.help || opts.version || opts.device_help) {
		if (opts.help)
			options_print_help(argv[0]);
		else if (opts.version)
			printf("tinyvmm " TINYVMM_VERSION "\n");
		else
			device_print_help(stdout);
		return VMM_EXIT_INFO;
	}
	if (start_guards(opts.no_sandbox ? SANDBOX_OFF : SANDBOX_ALL))
		return VMM_EXIT_ERROR;
	return boot(&opts);
}

/* As QEMU's -pidfile: the process ID and a newline, removed at exit. */
static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "tinyvmm: -pidfile %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A reset without -no-reboot boots the guest again from its files, as
 * QEMU's firmware reloads -kernel: a fresh machine, the same options. */
static int qemu_run(const struct qemu_cli *q)
{
	int status;

	do
		status = qemu_cli_exit_status(q, boot(&q->opts));
	while (status == QEMU_CLI_REBOOT);
	return status;
}

static int qemu_main(int argc, char **argv)
{
	bool dashed = argc > 1 && !strcmp(argv[1], "--qemu");
	struct qemu_cli *q = calloc(1, sizeof(*q));
	struct error err = { "" };
	int status = 1;

	if (!q || qemu_cli_parse(argc - dashed, argv + dashed, q, &err)) {
		fprintf(stderr, "tinyvmm: %s\n", q ? err.msg : "out of memory");
		free(q);
		return 1;
	}
	for (unsigned i = 0; i < q->nwarnings; i++)
		fprintf(stderr, "tinyvmm: warning: %s\n", q->warnings[i]);
	if (q->opts.help || q->opts.version || q->opts.device_help) {
		if (q->opts.help)
			qemu_cli_print_help(stdout, TINYVMM_VERSION);
		else if (q->opts.version)
			qemu_cli_print_version(stdout, TINYVMM_VERSION);
		else
			qemu_cli_print_devices(stdout);
		status = 0;
	} else if (start_guards(q->no_reboot ? SANDBOX_ALL : SANDBOX_WORKERS)) {
		status = 1;
	} else if (!q->pidfile || !write_pidfile(q->pidfile)) {
		status = qemu_run(q);
		if (q->pidfile)
			unlink(q->pidfile);
	}
	free(q);
	return status;
}

int main(int argc, char **argv)
{
	if (qemu_cli_wanted(argc, argv))
		return qemu_main(argc, argv);
	return tinyvmm_main(argc, argv);
}
