#include "tap.h"

#include "lib.h"

static const char *skip_reason;

void tap_diag(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# %s\n", buf);
}

void tap_skip(const char *reason)
{
	skip_reason = reason;
}

int tap_run(const struct guest_test *tests, int n)
{
	int failed = 0;

	printf("TAP version 13\n1..%d\n", n);
	for (int i = 0; i < n; i++) {
		int r;

		skip_reason = NULL;
		r = tests[i].run();
		if (skip_reason)
			printf("ok %d - %s # SKIP %s\n", i + 1, tests[i].name, skip_reason);
		else
			printf("%s %d - %s\n", r ? "not ok" : "ok", i + 1, tests[i].name);
		failed += r != 0 && !skip_reason;
	}
	return failed;
}
