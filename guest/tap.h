/* TAP (Test Anything Protocol) over the serial port, one line per test. */
#ifndef GUEST_TAP_H
#define GUEST_TAP_H

#include <stdbool.h>

struct guest_test {
	const char *name;
	/* 0: pass, -1: fail (say why with tap_diag); or tap_skip() and return 0 */
	int (*run)(void);
};

void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Call from a test's run() to report it as skipped, with the reason. */
void tap_skip(const char *reason);
/* Runs the tests in order; returns how many failed. */
int tap_run(const struct guest_test *tests, int n);

#endif
