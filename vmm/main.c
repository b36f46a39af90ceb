/* tinyvmm: boot an ELF guest in a KVM virtual machine. */
#include <stdio.h>

#include "devices/device.h"
#include "devices/error.h"
#include "vmm/exit_codes.h"
#include "vmm/machine.h"
#include "vmm/options.h"

#define TINYVMM_VERSION "0.1.0"

int main(int argc, char **argv)
{
	struct vmm_options opts;
	struct error err = { "" };
	struct machine m;
	int code;

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
	if (machine_init(&m, &opts, &err)) {
		fprintf(stderr, "tinyvmm: %s\n", err.msg);
		machine_destroy(&m);
		return VMM_EXIT_ERROR;
	}
	code = machine_run(&m);
	machine_destroy(&m);
	return code;
}
