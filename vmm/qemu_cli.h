/* QEMU's command line (qemu-system-x86_64, -kernel guests) as a front end:
 * translated, option by option through one table, into tinyvmm's own
 * command line, which options_parse then turns into the one struct
 * vmm_options the VMM runs. Parsing is pure (no I/O, no globals) so it is
 * unit tested; main() prints, writes the pid file and runs. */
#ifndef VMM_QEMU_CLI_H
#define VMM_QEMU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "devices/error.h"
#include "vmm/options.h"

#define QEMU_CLI_PROG		"qemu-system-x86_64"
#define QEMU_CLI_MAX_WARNINGS	16
#define QEMU_CLI_WARNING_MAX	200
#define QEMU_CLI_MAX_WORDS	128
#define QEMU_CLI_ARENA		65536
/* qemu_cli_exit_status: the guest reset the machine and -no-reboot was
 * not given, so QEMU would boot it again. */
#define QEMU_CLI_REBOOT		(-1)

struct qemu_cli {
	struct vmm_options opts;	/* what the VMM runs */
	const char *pidfile;		/* -pidfile; NULL: none */
	bool no_reboot;			/* a guest reset ends the VM (status 0) */
	/* Accepted options that are not honoured: one line each for stderr. */
	char warnings[QEMU_CLI_MAX_WARNINGS][QEMU_CLI_WARNING_MAX];
	unsigned nwarnings;
	/* The translation: tinyvmm's command line and the words made for it
	 * (opts points into them). */
	int argc;
	char *argv[QEMU_CLI_MAX_WORDS];
	char arena[QEMU_CLI_ARENA];
	size_t arena_used;
};

/* Whether to read QEMU's syntax: invoked as qemu-system-x86_64 (a
 * symlink), or with --qemu as the first argument. */
bool qemu_cli_wanted(int argc, char *const argv[]);
/* @argv[0] is the program name (or "--qemu"). 0 on success (check
 * opts.help, opts.version, opts.device_help first); -1 with one line
 * naming the option in @err, for exit status 1. */
int qemu_cli_parse(int argc, char *const argv[], struct qemu_cli *q,
		   struct error *err);
/* The process exit status QEMU gives when the VM ended with tinyvmm's
 * @vmm_code (vmm/exit_codes.h), or QEMU_CLI_REBOOT. */
int qemu_cli_exit_status(const struct qemu_cli *q, int vmm_code);

void qemu_cli_print_help(FILE *out, const char *version);
void qemu_cli_print_version(FILE *out, const char *version);
/* -device help: the devices this front end takes, in QEMU's format. */
void qemu_cli_print_devices(FILE *out);

#endif
