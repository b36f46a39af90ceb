/* libFuzzer target: NUL-separated words as a command line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/options.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 1] = { "tinyvmm" };
	struct vmm_options o;
	struct error err;
	int argc = 1;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; p < copy + size && argc < MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	if (options_parse(argc, argv, &o, &err))
		if (!memchr(err.msg, '\0', sizeof(err.msg)) || strchr(err.msg, '\n'))
			abort();	/* errors are one terminated line */
	free(copy);
	return 0;
}
