/* The guest's tiny libc. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
/* Whole 64-bit words, with rep stosq / movsq / repe cmpsq. */
void memset64(uint64_t *d, uint64_t v, size_t words);
void memcpy64(uint64_t *d, const uint64_t *s, size_t words);
/* The index of the first word that differs, or @words if none does. */
size_t memcmp64(const uint64_t *a, const uint64_t *b, size_t words);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* To the serial port. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
