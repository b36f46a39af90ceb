/* The command line. Parsing is pure (no I/O, no globals) so it is unit
 * tested; main() reports the error and picks the exit code. */
#ifndef VMM_OPTIONS_H
#define VMM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/error.h"

#define VMM_MEM_DEFAULT		(128ull << 20)
#define VMM_MEM_MIN		(2ull << 20)
#define VMM_MEM_MAX		(64ull << 30)
#define VMM_CPUS_MAX		64
#define VMM_MAX_DEVICES		16
#define VMM_CMDLINE_MAX		4096
#define VMM_MAX_DISKS		4
#define VMM_DISK_ARG_MAX	4096
#define VMM_DISK_SERIAL_MAX	20	/* virtio-blk GET_ID bytes */

/* --disk FILE[,ro][,serial=ID] */
struct vmm_disk {
	char path[VMM_DISK_ARG_MAX];
	char serial[VMM_DISK_SERIAL_MAX + 1];
	bool ro;
};

struct vmm_options {
	const char *guest_path;
	uint64_t mem_size;
	unsigned ncpus;
	const char *serial;		/* "stdio", "none" or a file */
	bool trace, stats;
	double timeout;			/* seconds; 0: none */
	const char *devices[VMM_MAX_DEVICES];
	unsigned ndevices;
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned ndisks;
	char cmdline[VMM_CMDLINE_MAX];	/* the words after "--", space separated */
	bool help, version, device_help;	/* print and exit */
};

/* 0 on success (check help/version/device_help first), -1 with a one-line
 * message in @err on a usage error. */
int options_parse(int argc, char *const argv[], struct vmm_options *opts,
		  struct error *err);
void options_print_help(const char *prog);

#endif
