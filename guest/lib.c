#include "lib.h"

#include <stdbool.h>

#include "serial.h"

/* String instructions, not C loops: where guest code runs in KVM's
 * instruction emulator (kvm_pvm hosts) each emulated instruction costs about
 * a microsecond, and a rep instruction pays that once per element instead
 * of once per instruction of a loop body. */
void *memset(void *d, int c, size_t n)
{
	void *p = d;

	__asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *p = d;

	__asm__ volatile("rep movsb" : "+D"(p), "+S"(s), "+c"(n) : : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	if (!n)
		return 0;
	/* Stops one past the first difference, or at the end (all equal). */
	__asm__ volatile("repe cmpsb" : "+S"(p), "+D"(q), "+c"(n) : : "memory", "cc");
	return p[-1] - q[-1];
}

void memset64(uint64_t *d, uint64_t v, size_t words)
{
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(v) : "memory");
}

void memcpy64(uint64_t *d, const uint64_t *s, size_t words)
{
	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
}

size_t memcmp64(const uint64_t *a, const uint64_t *b, size_t words)
{
	size_t left = words;

	if (!words)
		return 0;
	__asm__ volatile("repe cmpsq" : "+S"(a), "+D"(b), "+c"(left) : : "memory", "cc");
	/* a is one past the last word compared: the first difference if
	 * that pair differs, else everything matched. */
	return a[-1] != b[-1] ? words - left - 1 : words;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_number(struct out *o, unsigned long long v, unsigned base,
		       int width, bool zero, bool negative)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		width--;
	if (negative && zero)
		put(o, '-');
	for (; width > n; width--)
		put(o, zero ? '0' : ' ');
	if (negative && !zero)
		put(o, '-');
	while (n)
		put(o, digits[--n]);
}

/* Conversions: d u x p s c %, with #, a width, 0-padding and l/ll. Anything
 * else is copied to the output as '%' and the character after the flags. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		bool zero = false, alt = false;
		long long sv;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		if (*++fmt == '#') {
			alt = true;
			fmt++;
		}
		if (*fmt == '0')
			zero = true;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			sv = longs ? va_arg(ap, long long) : va_arg(ap, int);
			put_number(&o, sv < 0 ? -(unsigned long long)sv : (unsigned long long)sv,
				   10, width, zero, sv < 0);
			break;
		case 'x':
			if (alt) {
				put(&o, '0');
				put(&o, 'x');
			}
			/* fall through */
		case 'u':
			put_number(&o, longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned),
				   *fmt == 'u' ? 10 : 16, width, zero, false);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (uintptr_t)va_arg(ap, void *), 16, width, zero, false);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (width -= (int)strlen(s ? s : "(null)"); width > 0; width--)
				put(&o, ' ');
			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			/* Not a conversion we know: show it as written, so the
			 * mistake is visible, and keep the buffer terminated. */
			put(&o, '%');
			if (!*fmt)
				goto out;
			put(&o, *fmt);
			break;
		}
	}
out:
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf);
	return n;
}
