/* Minimal TAP producer for the C unit tests: one "ok"/"not ok" line per
 * check, the plan line at the end. tests/run-tests counts these lines. */
#ifndef VSMMU_TAP_H
#define VSMMU_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct tap_state {
	int n;
	int failed;
};

static struct tap_state tap; /* test programs only; lib/ has no globals */

static inline int tap_check(int ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline int tap_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap.n++;
	printf("%sok %d - ", ok ? "" : "not ", tap.n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		tap.failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return ok;
}

#define CHECK(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_STR(got, want, ...)                                                      \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                  \
		if (!CHECK(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_, __VA_ARGS__))    \
			printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)",         \
			       w_ ? w_ : "(null)");                                    \
	} while (0)
#define CHECK_INT(got, want, ...)                                                      \
	do {                                                                           \
		long g_ = (long)(got), w_ = (long)(want);                              \
		if (!CHECK(g_ == w_, __VA_ARGS__))                                     \
			printf("#   got:  %ld\n#   want: %ld\n", g_, w_);                  \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap.n);
	return tap.failed ? 1 : 0;
}

#endif
