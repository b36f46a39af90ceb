/* Strict number parsing shared by device properties and the command line:
 * the whole string must be consumed, nothing may overflow. */
#ifndef DEVICES_PARSE_H
#define DEVICES_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal, 0x-hex or 0-octal, no sign, no trailing garbage. 0 or -1. */
int parse_u64(const char *s, uint64_t *out);
/* parse_u64 with an optional K, M, G or T suffix (powers of 1024, any case,
 * an optional trailing 'B' or 'iB'). */
int parse_size(const char *s, uint64_t *out);
/* on/off, yes/no, true/false, 1/0. */
int parse_bool(const char *s, bool *out);

#endif
