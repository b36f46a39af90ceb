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
#define VMM_MAX_MODULES		16
#define VMM_MODULE_ARG_MAX	1024
#define VMM_MAX_FW_CFG		16
#define VMM_FW_CFG_NAME_MAX	56	/* with its NUL, as fw_cfg's file directory */
#define VMM_FW_CFG_ARG_MAX	4096
#define VMM_GDB_ADDR_MAX	108	/* sun_path's size */
#define VMM_HALT_POLL_NS_MAX	10000000	/* 10 ms */

/* --disk FILE[,ro][,serial=ID] */
struct vmm_disk {
	char path[VMM_DISK_ARG_MAX];
	char serial[VMM_DISK_SERIAL_MAX + 1];
	bool ro;
};

/* --initrd "FILE ARGS,...": one multiboot module each (',,' is a comma). */
struct vmm_module {
	char arg[VMM_MODULE_ARG_MAX];	/* "FILE ARGS": the module's string */
	char path[VMM_MODULE_ARG_MAX];	/* FILE: @arg up to its first space */
};

/* --fw-cfg [name=]NAME,file=PATH or [name=]NAME,string=STR */
struct vmm_fw_cfg {
	char name[VMM_FW_CFG_NAME_MAX];
	char value[VMM_FW_CFG_ARG_MAX];	/* the file's path, or the string */
	bool is_file;
};

/* --gdb [HOST:]PORT | unix:PATH: where the GDB stub listens. */
struct vmm_gdb_addr {
	bool is_unix;
	char host[VMM_GDB_ADDR_MAX];	/* TCP: a numeric address, default 127.0.0.1 */
	unsigned port;
	char path[VMM_GDB_ADDR_MAX];	/* unix: the socket's path */
};

enum vmm_gdb_arch {
	VMM_GDB_ARCH_AUTO,		/* x86-64 for ELF64, dual for multiboot */
	VMM_GDB_ARCH_I386,
	VMM_GDB_ARCH_X86_64,
	VMM_GDB_ARCH_DUAL,		/* both views: gdb follows the ELF file */
};

struct vmm_options {
	const char *guest_path;
	uint64_t mem_size;
	unsigned ncpus;
	const char *serial;		/* "stdio", "none" or a file */
	bool trace, stats;
	bool no_exit_port;		/* no isa-debug-exit at 0xf4 unless -device asks */
	bool no_hpet;			/* no HPET (and no ACPI HPET table) */
	bool triple_fault_resets;	/* as QEMU: a triple fault is a reset, not a crash */
	double timeout;			/* seconds; 0: none */
	const char *devices[VMM_MAX_DEVICES];
	unsigned ndevices;
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned ndisks;
	struct vmm_module modules[VMM_MAX_MODULES];
	unsigned nmodules;
	struct vmm_fw_cfg fw_cfg[VMM_MAX_FW_CFG];
	unsigned nfw_cfg;
	bool gdb;			/* --gdb given: run the stub at gdb_addr */
	struct vmm_gdb_addr gdb_addr;
	bool gdb_wait;			/* hold the vCPUs until the debugger continues */
	enum vmm_gdb_arch gdb_arch;
	bool mtree;			/* print the memory regions and exit */
	bool no_sandbox;		/* no seccomp filters (vmm/sandbox.h) */
	long halt_poll_ns;		/* -1: adaptive default; 0: never poll */
	char cmdline[VMM_CMDLINE_MAX];	/* the words after "--", space separated */
	bool help, version, device_help;	/* print and exit */
};

/* 0 on success (check help/version/device_help first), -1 with a one-line
 * message in @err on a usage error. */
int options_parse(int argc, char *const argv[], struct vmm_options *opts,
		  struct error *err);
void options_print_help(const char *prog);

#endif
