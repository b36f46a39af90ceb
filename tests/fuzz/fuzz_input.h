/* What every fuzz target reads its input with, and how it fails. */
#ifndef TESTS_FUZZ_INPUT_H
#define TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The fuzzer's bytes, consumed from the front. */
struct input {
	const uint8_t *p;
	size_t left;
};

/* The next @bytes (at most 8) as a little-endian number; missing bytes
 * read as 0, so every input is a valid program. */
static inline uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

/* An invariant: abort (a crash libFuzzer reports, with the input). */
#define CHECK(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s\n",\
				__FILE__, __LINE__, #c);		\
			abort();					\
		}							\
	} while (0)

#endif
